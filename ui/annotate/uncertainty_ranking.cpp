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

UncertaintyOrder makeUncertaintyOrder(std::vector<int64_t> ranked, const std::vector<int64_t>& train_ids_by_id) {
  UncertaintyOrder order;
  order.ranked = std::move(ranked);
  order.walk.reserve(std::max(order.ranked.size(), train_ids_by_id.size()));
  for (int64_t id : order.ranked)
    if (order.position.emplace(id, order.walk.size()).second) order.walk.push_back(id);
  for (int64_t id : train_ids_by_id)
    if (order.position.emplace(id, order.walk.size()).second) order.walk.push_back(id);
  return order;
}

UncertaintyOrder loadUncertaintyOrder(const std::string& project_path, int64_t run_id) {
  ProjectStore store(project_path, ProjectStore::Open::Existing);
  const auto scores = store.allPredictions(run_id);
  if (scores.empty()) return {};  // nothing ranked: the panel walks by id through the store
  ImageFilter train;
  train.split = Split::Train;
  std::vector<int64_t> ids;
  for (const auto& image : store.images(train)) ids.push_back(image.id);
  std::sort(ids.begin(), ids.end());
  const std::unordered_set<int64_t> eligible(ids.begin(), ids.end());
  return makeUncertaintyOrder(rankByUncertainty(scores, eligible), ids);
}

}  // namespace mls
