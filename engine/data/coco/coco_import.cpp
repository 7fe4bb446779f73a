#include "data/coco/coco_import.h"

#include <dirent.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <future>
#include <numeric>
#include <random>
#include <stdexcept>
#include <unordered_set>

#include "data/coco/coco_reader.h"
#include "data/store/project_store.h"

namespace fs = std::filesystem;

namespace mls {

std::vector<bool> chooseFraction(size_t count, double fraction, uint64_t seed) {
  std::vector<bool> mask(count, false);
  const auto take = static_cast<size_t>(std::llround(fraction * static_cast<double>(count)));
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), 0);
  // Own Fisher-Yates over mt19937_64 so the split is identical on every standard library.
  std::mt19937_64 rng(seed);
  for (size_t i = count; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
  for (size_t i = 0; i < take && i < count; ++i) mask[order[i]] = true;
  return mask;
}

namespace {

// The names in `folder`: one listing instead of a stat per image (82k stats cost more than the listing).
std::unordered_set<std::string> listFolder(const std::string& folder) {
  std::unordered_set<std::string> names;
  DIR* dir = opendir(folder.c_str());
  if (!dir) throw std::invalid_argument("cannot list image folder '" + folder + "': " + std::strerror(errno));
  while (const dirent* entry = readdir(dir))
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) names.emplace(entry->d_name);
  closedir(dir);
  return names;
}

}  // namespace

CocoImportReport importCoco(ProjectStore& store, const CocoImportOptions& opt) {
  const auto start = std::chrono::steady_clock::now();
  auto cancelled = [&] { return opt.cancel && opt.cancel->load(); };
  auto progress = [&](const std::string& phase) {
    if (cancelled()) throw ImportCancelled();
    if (opt.progress) opt.progress(phase);
  };
  if (opt.val_fraction < 0.0 || opt.val_fraction >= 1.0)
    throw std::invalid_argument("--val-fraction must be in [0, 1), got " + std::to_string(opt.val_fraction));
  if (opt.val_fraction > 0.0 && opt.split != Split::Train)
    throw std::invalid_argument("--val-fraction only applies to --split train");
  if (!fs::is_directory(opt.images)) throw std::invalid_argument("image folder '" + opt.images + "' does not exist");

  // The folder is listed on another thread while the annotation file is parsed (each takes a few hundred
  // milliseconds for COCO train; leaving this scope on an error waits for the listing).
  std::future<std::unordered_set<std::string>> listing;
  if (opt.check_files) listing = std::async(std::launch::async, listFolder, opt.images);

  progress("reading " + opt.annotations);
  CocoCollection coco = readCocoFile(opt.annotations);

  progress("checking " + std::to_string(coco.images.size()) + " image files");
  CocoImportReport report;
  std::vector<NewImage> images;
  images.reserve(coco.images.size());
  const auto val_mask = opt.val_fraction > 0.0 ? chooseFraction(coco.images.size(), opt.val_fraction, opt.seed)
                                               : std::vector<bool>(coco.images.size(), false);
  const fs::path folder(opt.images);
  const std::unordered_set<std::string> present = opt.check_files ? listing.get() : std::unordered_set<std::string>();
  std::unordered_set<int64_t> refused_ids;
  for (size_t i = 0; i < coco.images.size(); ++i) {
    if (i % 4096 == 0 && cancelled()) throw ImportCancelled();
    auto& c = coco.images[i];
    if (!staysInsideFolder(c.file_name)) {
      report.refused_files.push_back(c.file_name);
      refused_ids.insert(c.id);
      continue;
    }
    NewImage im;
    im.id = c.id;
    im.width = c.width;
    im.height = c.height;
    im.split = val_mask[i] ? Split::Val : opt.split;
    if (opt.check_files) {
      std::error_code ec;
      const bool nested = c.file_name.find('/') != std::string::npos;
      im.missing = nested ? !fs::is_regular_file(folder / c.file_name, ec) : !present.count(c.file_name);
      if (im.missing) report.missing_files.push_back(c.file_name);
    }
    im.file_name = std::move(c.file_name);
    if (val_mask[i]) ++report.moved_to_val;
    images.push_back(std::move(im));
  }

  std::vector<std::pair<int64_t, int64_t>> kept_labels;
  const auto& labels = refused_ids.empty() ? coco.labels : kept_labels;
  if (!refused_ids.empty()) {
    kept_labels.reserve(coco.labels.size());
    for (const auto& l : coco.labels)
      if (!refused_ids.count(l.first)) kept_labels.push_back(l);
  }
  progress("writing " + std::to_string(images.size()) + " images and " + std::to_string(labels.size()) +
           " labels");
  const auto result = store.importCollection(opt.images, coco.categories, images, labels);
  report.images = result.images;
  report.labels = result.labels;
  report.new_categories = result.new_categories;
  report.annotations = coco.annotations;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

CocoImportReport importCocoIntoProject(const std::string& project_path, const CocoImportOptions& options) {
  if (!fs::is_directory(options.images))
    throw std::invalid_argument("image folder '" + options.images + "' does not exist");
  const bool created = !fs::exists(project_path);
  try {
    ProjectStore store(project_path);
    return importCoco(store, options);
  } catch (...) {
    if (created) {
      std::error_code ec;
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(project_path + suffix, ec);
    }
    throw;
  }
}

}  // namespace mls
