// The VOC-style AP below follows SlongLiu/query2labels lib/utils/metric.py (voc_ap, voc_mAP, which the authors
// took from HCPLab-SYSU/SSGRL utils/metrics.py); the zero-for-empty-classes mean follows
// elijahcole/single-positive-multi-label metrics.py and instrumentation.py.
#include "ml/metrics_conventions.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace mls {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

float rankKey(float s) { return std::isnan(s) ? -std::numeric_limits<float>::infinity() : s; }

}  // namespace

double averagePrecisionVoc(const float* scores, const uint8_t* labels, size_t n, size_t stride) {
  size_t positives = 0;
  for (size_t i = 0; i < n; ++i) positives += labels[i * stride] != 0;
  if (positives == 0) return kNaN;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  // Stable: tied items stay in input order, each one its own point (the authors do not group ties).
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return rankKey(scores[a * stride]) > rankKey(scores[b * stride]); });
  std::vector<double> precision(n);
  double tp = 0;
  for (size_t r = 0; r < n; ++r) {
    tp += labels[order[r] * stride] != 0;
    precision[r] = tp / static_cast<double>(r + 1);
  }
  // Recall only moves at a positive, by 1/P; each such step is weighted by the best precision at or after it.
  double best = 0, sum = 0;
  for (size_t r = n; r-- > 0;) {
    best = std::max(best, precision[r]);
    if (labels[order[r] * stride] != 0) sum += best;
  }
  return sum / static_cast<double>(positives);
}

double mapMlspl(const std::vector<double>& ap_percent) {
  if (ap_percent.empty()) return kNaN;
  double sum = 0;
  for (double ap : ap_percent) sum += std::isnan(ap) ? 0.0 : ap;
  return sum / static_cast<double>(ap_percent.size());
}

double mapQ2lVoc(const std::vector<float>& scores, const std::vector<uint8_t>& labels, size_t num_images,
                 size_t num_classes) {
  const size_t total = num_images * num_classes;
  if (scores.size() != total || labels.size() != total)
    throw std::invalid_argument("mapQ2lVoc: scores and labels must both hold num_images x num_classes values");
  double sum = 0;
  size_t evaluated = 0;
  for (size_t k = 0; k < num_classes; ++k) {
    const double ap = averagePrecisionVoc(scores.data() + k, labels.data() + k, num_images, num_classes);
    if (std::isnan(ap)) continue;
    sum += 100 * ap;
    ++evaluated;
  }
  return evaluated ? sum / static_cast<double>(evaluated) : kNaN;
}

}  // namespace mls
