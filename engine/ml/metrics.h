// Multi-label evaluation: per-class AP / mAP and the CP, CR, CF1, OP, OR, OF1 family (plain C++).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mls {

struct MultiLabelMetrics {
  double map = 0;                 // percent 0-100, mean AP over classes with >= 1 positive (NaN if none)
  // The same scores in the papers' own conventions (ml/metrics_conventions.h), percent:
  double map_mlspl = 0;           // MLSPL code: a class without positives counts 0, mean over all K
  double map_q2l_voc = 0;         // Q2L code: VOC-style interpolated AP, over classes with >= 1 positive
  std::vector<double> ap;         // per class, percent; NaN for skipped classes
  int classes_evaluated = 0, classes_skipped = 0;
  double cp = 0, cr = 0, cf1 = 0, op = 0, or_ = 0, of1 = 0;       // score >= threshold is predicted, percent
  double cp3 = 0, cr3 = 0, cf13 = 0, op3 = 0, or3 = 0, of13 = 0;  // top-3 per image (and >= threshold)
};

// Average precision as a fraction 0-1, scikit-learn's average_precision_score:
// Σ_n (R_n − R_{n−1}) P_n over the distinct score thresholds, tied scores forming one threshold.
// Element i is scores[i*stride], labels[i*stride] (label != 0 is positive). NaN if no positives.
// NaN scores rank below every other score.
double averagePrecision(const float* scores, const uint8_t* labels, size_t n, size_t stride = 1);

// scores and labels are row-major (num_images, num_classes). Throws std::invalid_argument on size mismatch.
MultiLabelMetrics evaluateMultiLabel(const std::vector<float>& scores, const std::vector<uint8_t>& labels,
                                     size_t num_images, size_t num_classes, double threshold = 0.5);

}  // namespace mls
