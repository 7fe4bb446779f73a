// Precision-recall curve of one class, as scikit-learn's precision_recall_curve draws it (without
// drop_intermediate): one point per distinct score, tied scores entering together.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace mls {

struct PrCurve {
  // Point 0 is sklearn's (recall 0, precision 1), which has no threshold; point i + 1 counts the items
  // scoring >= thresholds[i], thresholds decreasing. Reversed, these are sklearn's three arrays exactly.
  std::vector<double> recall, precision, thresholds;
  size_t positives = 0;  // no positives: the curve is empty (recall is undefined)
};

// Element i is scores[i*stride], labels[i*stride] (label != 0 is positive). NaN scores rank last, as in
// ml/metrics' averagePrecision, whose value is Σ (R_i − R_{i+1}) P_i over these points.
PrCurve precisionRecallCurve(const float* scores, const uint8_t* labels, size_t n, size_t stride = 1);

}  // namespace mls
