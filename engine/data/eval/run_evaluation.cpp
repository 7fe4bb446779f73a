#include "data/eval/run_evaluation.h"

#include <cmath>
#include <stdexcept>
#include <unordered_map>

#include "data/store/project_store.h"
#include "ml/metrics.h"
#include "ml/metrics_conventions.h"

namespace mls {

RunEvaluation evaluateRun(ProjectStore& store, int64_t run_id, Split split, double threshold) {
  if (!store.run(run_id)) throw UnknownIdError("unknown run id " + std::to_string(run_id));
  RunEvaluation ev;
  ev.run_id = run_id;
  ev.split = split;
  ev.threshold = threshold;
  const auto categories = store.categories();
  const size_t k = categories.size();
  std::unordered_map<int64_t, size_t> column;
  for (const auto& c : categories) column[c.id] = static_cast<size_t>(c.idx);

  const auto predictions = store.allPredictions(run_id);
  const auto labels = store.labelsBySplit(split);
  ImageFilter filter;
  filter.split = split;
  std::vector<float> scores;
  std::vector<uint8_t> truth;
  for (const auto& image : store.images(filter)) {
    const auto p = predictions.find(image.id);
    if (p == predictions.end()) {
      ++ev.images_without_scores;
      continue;
    }
    if (p->second.size() != k)
      throw std::runtime_error("run " + std::to_string(run_id) + " stored " + std::to_string(p->second.size()) +
                               " scores per image but the project has " + std::to_string(k) + " classes");
    scores.insert(scores.end(), p->second.begin(), p->second.end());
    const size_t row = truth.size();
    truth.resize(row + k, 0);
    if (const auto l = labels.find(image.id); l != labels.end())
      for (int64_t category : l->second) truth[row + column.at(category)] = 1;
    ++ev.images;
  }

  const size_t n = static_cast<size_t>(ev.images);
  double sum = 0;
  for (const auto& c : categories) {
    ClassEvaluation ce;
    ce.category_id = c.id;
    ce.name = c.name;
    ce.idx = c.idx;
    const size_t j = static_cast<size_t>(c.idx);
    for (size_t i = 0; i < n; ++i) {
      ce.positives += truth[i * k + j] != 0;
      ce.predicted += scores[i * k + j] >= threshold;
    }
    if (ce.positives > 0) {
      ce.ap = 100.0 * averagePrecision(scores.data() + j, truth.data() + j, n, k);
      ce.curve = precisionRecallCurve(scores.data() + j, truth.data() + j, n, k);
      sum += ce.ap;
      ++ev.classes_evaluated;
    } else {
      ++ev.classes_skipped;
    }
    ev.classes.push_back(std::move(ce));
  }
  if (ev.classes_evaluated > 0) ev.map = sum / ev.classes_evaluated;
  std::vector<double> aps;
  for (const auto& c : ev.classes) aps.push_back(c.ap);
  ev.map_mlspl = mapMlspl(aps);
  ev.map_q2l_voc = mapQ2lVoc(scores, truth, n, k);
  return ev;
}

}  // namespace mls
