// Debiased exponential moving average, the way TensorBoard smooths scalar curves:
//   s_t = a * s_{t-1} + (1 - a) * x_t,  s_0 = 0,  shown value s_t / (1 - a^t).
// Dividing by 1 - a^t removes the pull towards the zero start, so the first points are not dragged down.
// Non-finite inputs (a NaN loss) pass through unchanged and do not disturb the running state.
#pragma once
#include <cstdint>
#include <vector>

namespace mls {

class EmaSmoother {
 public:
  explicit EmaSmoother(double alpha = 0.0) { setAlpha(alpha); }
  // alpha in [0, 1): 0 = no smoothing. Resets the running state.
  void setAlpha(double alpha);
  double alpha() const { return alpha_; }
  void reset();
  // Feeds one value and returns its smoothed value.
  double add(double x);
  int64_t count() const { return count_; }

  static std::vector<double> smooth(const std::vector<double>& values, double alpha);

 private:
  double alpha_ = 0;
  double state_ = 0;
  double alpha_power_ = 1;  // a^t, kept as a product so long runs do not call pow per point
  int64_t count_ = 0;
};

}  // namespace mls
