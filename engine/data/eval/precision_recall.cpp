#include "data/eval/precision_recall.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace mls {

namespace {
float rankKey(float s) { return std::isnan(s) ? -std::numeric_limits<float>::infinity() : s; }
}  // namespace

PrCurve precisionRecallCurve(const float* scores, const uint8_t* labels, size_t n, size_t stride) {
  PrCurve c;
  for (size_t i = 0; i < n; ++i) c.positives += labels[i * stride] != 0;
  if (c.positives == 0) return c;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rankKey(scores[a * stride]) > rankKey(scores[b * stride]); });
  // sklearn's point without a threshold, where the curve meets the precision axis.
  c.recall.push_back(0.0);
  c.precision.push_back(1.0);
  double tp = 0, fp = 0;
  for (size_t i = 0; i < n;) {
    const float threshold = rankKey(scores[order[i] * stride]);
    for (; i < n && rankKey(scores[order[i] * stride]) == threshold; ++i) (labels[order[i] * stride] != 0 ? tp : fp) += 1;
    c.thresholds.push_back(threshold);
    c.recall.push_back(tp / static_cast<double>(c.positives));
    c.precision.push_back(tp / (tp + fp));
  }
  return c;
}

}  // namespace mls
