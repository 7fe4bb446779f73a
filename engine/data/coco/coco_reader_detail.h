// Internals shared by the two compiled copies of the COCO reader (see coco_reader_impl.inc).
#pragma once
#include <string>

#include <simdjson.h>

namespace mls {
struct CocoCollection;

// Re-parses a broken file with nlohmann-json to report the byte offset and line of the first error.
[[noreturn]] void throwCocoSyntaxError(const std::string& text, const std::string& source, const char* simd_error);

namespace simd_reader { CocoCollection parse(simdjson::padded_string_view text, const std::string& source); }
namespace generic_reader { CocoCollection parse(simdjson::padded_string_view text, const std::string& source); }

}  // namespace mls
