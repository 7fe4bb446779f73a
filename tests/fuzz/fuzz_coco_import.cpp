// libFuzzer target: the input is a COCO instances json. It goes through readCocoFile (the file is mapped,
// and the SIMD copy of the reader runs on AVX2 machines, as in production), the portable copy of the reader
// must agree with it, and an accepted file is imported into a fresh in-memory project and read back the way
// `mlstudio-cli info` does.
//
// Promises checked besides the sanitizers: every rejection is a CocoFormatError with a one-line message; an
// accepted file imports into an empty project without error and the project then holds exactly what the
// reader returned (minus images whose file_name leaves the folder, with their labels).
#include <simdjson.h>

#include <cstdint>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <unordered_set>

#include "data/coco/coco_import.h"
#include "data/coco/coco_reader.h"
#include "data/coco/coco_reader_detail.h"
#include "data/store/project_store.h"
#include "fuzz_temp_dir.h"

namespace {

using mls::fuzz::fail;

// Outcome of one reader: the collection, or the error message.
struct Parsed {
  std::optional<mls::CocoCollection> coco;
  std::string error;
};

void requireOneLine(const std::string& message, const char* who) {
  if (message.empty() || message.find('\n') != std::string::npos)
    fail(std::string(who) + " gave an empty or multi-line error: '" + message + "'");
}

template <typename F>
Parsed parseWith(F&& read) {
  Parsed out;
  try {
    out.coco = read();
  } catch (const mls::CocoFormatError& e) {
    out.error = e.what();
    requireOneLine(out.error, "the COCO reader");
  } catch (const std::exception& e) {
    fail(std::string("the COCO reader threw something else than CocoFormatError: ") + e.what());
  }
  return out;
}

bool sameCollection(const mls::CocoCollection& a, const mls::CocoCollection& b) {
  if (a.categories.size() != b.categories.size() || a.images.size() != b.images.size() || a.labels != b.labels ||
      a.annotations != b.annotations)
    return false;
  for (size_t i = 0; i < a.categories.size(); ++i) {
    const auto &x = a.categories[i], &y = b.categories[i];
    if (x.id != y.id || x.name != y.name || x.supercategory != y.supercategory) return false;
  }
  for (size_t i = 0; i < a.images.size(); ++i) {
    const auto &x = a.images[i], &y = b.images[i];
    if (x.id != y.id || x.file_name != y.file_name || x.width != y.width || x.height != y.height) return false;
  }
  return true;
}

// Imports an accepted collection into an empty project and checks what the project then reports.
void importAndInspect(const mls::CocoCollection& coco, const std::string& json, const std::string& images) {
  mls::ProjectStore store(":memory:");
  mls::CocoImportOptions opt;
  opt.annotations = json;
  opt.images = images;
  opt.val_fraction = 0.25;  // also runs the seeded train/val split
  mls::CocoImportReport report;
  try {
    report = mls::importCoco(store, opt);
  } catch (const std::exception& e) {
    fail(std::string("a file the reader accepted did not import into an empty project: ") + e.what());
  }
  std::unordered_set<std::string> refused(report.refused_files.begin(), report.refused_files.end());
  int64_t kept = 0;
  std::unordered_set<int64_t> kept_ids;
  for (const auto& im : coco.images)
    if (!refused.count(im.file_name)) {
      ++kept;
      kept_ids.insert(im.id);
    }
  int64_t kept_labels = 0;
  for (const auto& l : coco.labels) kept_labels += kept_ids.count(l.first) ? 1 : 0;

  // What `mlstudio-cli info` reads.
  const auto counts = store.counts();
  const auto folders = store.imageFolders();
  const auto runs = store.runs();
  (void)store.schemaVersion();
  if (report.images != kept || counts.train + counts.val + counts.test != kept || counts.test != 0)
    fail("image count: reader kept " + std::to_string(kept) + ", import reports " + std::to_string(report.images) +
         ", project holds " + std::to_string(counts.train + counts.val + counts.test));
  if (report.labels != kept_labels || counts.labels != kept_labels)
    fail("label count: reader " + std::to_string(kept_labels) + ", import " + std::to_string(report.labels) +
         ", project " + std::to_string(counts.labels));
  if (counts.categories != static_cast<int64_t>(coco.categories.size()) ||
      report.new_categories != counts.categories)
    fail("category count differs between reader, import and project");
  if (folders.size() != 1 || folders[0].images != kept || folders[0].present > kept || !runs.empty())
    fail("the project's image folder does not match the import");
  // Names the folder holds (see main below) must be found; nothing else can be.
  if (static_cast<int64_t>(report.missing_files.size()) != kept - folders[0].present)
    fail("missing files: import reports " + std::to_string(report.missing_files.size()) + ", info counts " +
         std::to_string(kept - folders[0].present));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const mls::fuzz::FuzzTempDir dir("coco");
  static const std::string images = [] {
    // An images folder with one file, so both the found and the missing branch of the import run.
    const std::string folder = dir.path() + "/images";
    std::error_code ec;
    std::filesystem::create_directory(folder, ec);
    dir.write("images/a.jpg", reinterpret_cast<const uint8_t*>("x"), 1);
    return folder;
  }();
  const std::string json = dir.write("instances.json", data, size);

  const Parsed production = parseWith([&] { return mls::readCocoFile(json); });
  // The portable copy (CPUs without AVX2) must read the same bytes the same way.
  const simdjson::padded_string padded(reinterpret_cast<const char*>(data), size);
  const Parsed portable = parseWith([&] { return mls::generic_reader::parse(padded, json); });
  if (production.coco.has_value() != portable.coco.has_value())
    fail("the SIMD and the portable reader disagree: '" + production.error + "' vs '" + portable.error + "'");
  if (production.coco && !sameCollection(*production.coco, *portable.coco))
    fail("the SIMD and the portable reader return different collections");

  if (production.coco) importAndInspect(*production.coco, json, images);
  return 0;
}
