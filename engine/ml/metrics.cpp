// AP follows scikit-learn's average_precision_score (the definition the MLSPL code uses).
// The thresholded metrics follow the ML-GCN AveragePrecisionMeter.evaluation convention used by
// the multi-label literature: per class Nc (correct), Np (predicted), Ng (ground truth);
// CP = mean_k Nc/Np with a class never predicted counting as precision 0 (ML-GCN sets Np = 0 to
// 1), CR = mean_k Nc/Ng, CF1 = 2·CP·CR/(CP+CR) (F1 of the means, not the mean of F1s),
// OP = ΣNc/ΣNp, OR = ΣNc/ΣNg, OF1 likewise. Top-3 (ML-GCN overall_topk): a label is predicted
// when it is among the image's 3 highest scores and also passes the threshold.
// Differences from ML-GCN, on purpose: the class means run over the classes with >= 1 positive
// (the same classes as mAP; ML-GCN divides by all classes and gets NaN for empty ones), and the
// overall sums use the true ΣNp (ML-GCN's Np = 1 substitution also leaks into OP).
#include "ml/metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "ml/metrics_conventions.h"

namespace mls {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

float rankKey(float s) { return std::isnan(s) ? -std::numeric_limits<float>::infinity() : s; }

struct Counts {
  std::vector<double> correct, predicted, truth;  // Nc, Np, Ng per class
  explicit Counts(size_t k) : correct(k, 0), predicted(k, 0), truth(k, 0) {}
};

double safeRatio(double num, double den) { return den > 0 ? num / den : 0.0; }
double f1(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

// Writes cp, cr, cf1, op, or, of1 (percent) from the counts.
void summarize(const Counts& c, double out[6]) {
  double cp = 0, cr = 0, nc = 0, np = 0, ng = 0;
  int classes = 0;
  for (size_t k = 0; k < c.truth.size(); ++k) {
    nc += c.correct[k];
    np += c.predicted[k];
    ng += c.truth[k];
    if (c.truth[k] == 0) continue;
    cp += safeRatio(c.correct[k], c.predicted[k]);
    cr += c.correct[k] / c.truth[k];
    ++classes;
  }
  cp = classes ? cp / classes : 0.0;
  cr = classes ? cr / classes : 0.0;
  const double op = safeRatio(nc, np), orr = safeRatio(nc, ng);
  out[0] = 100 * cp;
  out[1] = 100 * cr;
  out[2] = 100 * f1(cp, cr);
  out[3] = 100 * op;
  out[4] = 100 * orr;
  out[5] = 100 * f1(op, orr);
}

}  // namespace

double averagePrecision(const float* scores, const uint8_t* labels, size_t n, size_t stride) {
  size_t positives = 0;
  for (size_t i = 0; i < n; ++i) positives += labels[i * stride] != 0;
  if (positives == 0) return kNaN;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return rankKey(scores[a * stride]) > rankKey(scores[b * stride]); });
  double ap = 0, previous_recall = 0, tp = 0, fp = 0;
  for (size_t i = 0; i < n;) {
    const float threshold = rankKey(scores[order[i] * stride]);
    // One precision/recall point per distinct score: all tied items enter together.
    for (; i < n && rankKey(scores[order[i] * stride]) == threshold; ++i)
      (labels[order[i] * stride] != 0 ? tp : fp) += 1;
    const double recall = tp / static_cast<double>(positives);
    ap += (recall - previous_recall) * (tp / (tp + fp));
    previous_recall = recall;
  }
  return ap;
}

MultiLabelMetrics evaluateMultiLabel(const std::vector<float>& scores, const std::vector<uint8_t>& labels,
                                     size_t num_images, size_t num_classes, double threshold) {
  const size_t total = num_images * num_classes;
  if (scores.size() != total || labels.size() != total)
    throw std::invalid_argument("evaluateMultiLabel: scores and labels must both hold num_images x num_classes values");
  MultiLabelMetrics m;
  m.ap.assign(num_classes, kNaN);
  double ap_sum = 0;
  for (size_t k = 0; k < num_classes; ++k) {
    const double ap = averagePrecision(scores.data() + k, labels.data() + k, num_images, num_classes);
    if (std::isnan(ap)) {
      ++m.classes_skipped;
      continue;
    }
    m.ap[k] = 100 * ap;
    ap_sum += m.ap[k];
    ++m.classes_evaluated;
  }
  m.map = m.classes_evaluated ? ap_sum / m.classes_evaluated : kNaN;
  m.map_mlspl = mapMlspl(m.ap);
  m.map_q2l_voc = mapQ2lVoc(scores, labels, num_images, num_classes);

  Counts all(num_classes), top3(num_classes);
  std::vector<size_t> order(num_classes);
  const size_t top_k = std::min<size_t>(3, num_classes);
  for (size_t i = 0; i < num_images; ++i) {
    const float* s = scores.data() + i * num_classes;
    const uint8_t* y = labels.data() + i * num_classes;
    std::iota(order.begin(), order.end(), size_t{0});
    // Ties go to the lower class index, so results do not depend on the sort implementation.
    std::partial_sort(order.begin(), order.begin() + top_k, order.end(), [&](size_t a, size_t b) {
      const float sa = rankKey(s[a]), sb = rankKey(s[b]);
      return sa > sb || (sa == sb && a < b);
    });
    for (size_t k = 0; k < num_classes; ++k) {
      const bool truth = y[k] != 0, predicted = s[k] >= threshold;
      all.truth[k] += truth;
      all.predicted[k] += predicted;
      all.correct[k] += truth && predicted;
      top3.truth[k] += truth;
    }
    for (size_t r = 0; r < top_k; ++r) {
      const size_t k = order[r];
      if (!(s[k] >= threshold)) continue;
      top3.predicted[k] += 1;
      top3.correct[k] += y[k] != 0;
    }
  }
  double v[6];
  summarize(all, v);
  m.cp = v[0], m.cr = v[1], m.cf1 = v[2], m.op = v[3], m.or_ = v[4], m.of1 = v[5];
  summarize(top3, v);
  m.cp3 = v[0], m.cr3 = v[1], m.cf13 = v[2], m.op3 = v[3], m.or3 = v[4], m.of13 = v[5];
  return m;
}

}  // namespace mls
