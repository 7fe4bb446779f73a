#include "data/labels/single_positive_generator.h"

#include <algorithm>
#include <random>
#include <utility>
#include <vector>

#include "data/store/project_store.h"

namespace mls {

namespace {
// splitmix64: mixes seed and image id into an independent stream per image.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

SinglePositiveReport generateSinglePositives(ProjectStore& store, uint64_t seed, bool overwrite_user) {
  SinglePositiveReport report;
  auto labels = store.labelsBySplit(Split::Train);
  const auto existing = store.singlePositives(Split::Train);
  std::vector<std::pair<int64_t, int64_t>> chosen;
  chosen.reserve(labels.size());
  for (auto& [image_id, cats] : labels) {
    if (cats.empty()) continue;
    ++report.candidates;
    auto it = existing.find(image_id);
    if (!overwrite_user && it != existing.end() && it->second.source != AnnotationSource::Generated) {
      ++report.kept_user;
      continue;
    }
    std::sort(cats.begin(), cats.end());
    std::mt19937_64 rng(mix(seed ^ mix(static_cast<uint64_t>(image_id))));
    chosen.emplace_back(image_id, cats[rng() % cats.size()]);
  }
  std::sort(chosen.begin(), chosen.end());
  report.written = store.storeGeneratedSinglePositives(chosen, overwrite_user);
  return report;
}

}  // namespace mls
