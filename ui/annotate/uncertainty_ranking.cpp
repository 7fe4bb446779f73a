#include "annotate/uncertainty_ranking.h"

#include <algorithm>
#include <cmath>

#include "data/store/project_store.h"

namespace mls {

std::vector<int64_t> rankByUncertainty(const std::unordered_map<int64_t, std::vector<float>>& scores,
                                       const std::unordered_set<int64_t>& eligible) {
  std::vector<std::pair<float, int64_t>> keyed;
  keyed.reserve(scores.size());
  for (const auto& [image_id, s] : scores) {
    if (s.empty() || !eligible.count(image_id)) continue;
    const float top = *std::max_element(s.begin(), s.end());
    const float distance = std::isfinite(top) ? std::fabs(top - 0.5f) : 1.0f;  // NaN scores go last
    keyed.emplace_back(distance, image_id);
  }
  std::sort(keyed.begin(), keyed.end());
  std::vector<int64_t> out;
  out.reserve(keyed.size());
  for (const auto& k : keyed) out.push_back(k.second);
  return out;
}

std::vector<int64_t> loadUncertaintyRanking(const std::string& project_path, int64_t run_id) {
  ProjectStore store(project_path);
  const auto scores = store.allPredictions(run_id);
  if (scores.empty()) return {};
  ImageFilter train;
  train.split = Split::Train;
  std::unordered_set<int64_t> train_ids;
  for (const auto& image : store.images(train)) train_ids.insert(image.id);
  return rankByUncertainty(scores, train_ids);
}

}  // namespace mls
