// Reads an image's pixel size from its file header without decoding it (JPEG SOF marker, PNG IHDR),
// so the decoder can choose a reduced JPEG decoding factor before it touches the pixels.
#pragma once
#include <optional>
#include <string>

namespace mls {

enum class ImageFormat { Unknown, Jpeg, Png };

struct ImageHeader {
  ImageFormat format = ImageFormat::Unknown;
  int width = 0;   // stored size, before any EXIF rotation
  int height = 0;
};

// Format from the magic bytes; size when the format is JPEG or PNG and the header is intact.
// std::nullopt when the file cannot be opened.
std::optional<ImageHeader> probeImageHeader(const std::string& path);

// Cheap guess from the file name only (.jpg / .jpeg / .jpe / .jfif), used when the size is already known.
bool hasJpegExtension(const std::string& path);

}  // namespace mls
