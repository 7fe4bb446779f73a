#include "train/ema_smoother.h"

#include <algorithm>
#include <cmath>

namespace mls {

void EmaSmoother::setAlpha(double alpha) {
  alpha_ = std::clamp(std::isfinite(alpha) ? alpha : 0.0, 0.0, 0.999999);
  reset();
}

void EmaSmoother::reset() {
  state_ = 0;
  alpha_power_ = 1;
  count_ = 0;
}

double EmaSmoother::add(double x) {
  if (!std::isfinite(x)) return x;
  state_ = alpha_ * state_ + (1.0 - alpha_) * x;
  alpha_power_ *= alpha_;
  ++count_;
  const double debias = 1.0 - alpha_power_;
  return debias > 0 ? state_ / debias : x;
}

std::vector<double> EmaSmoother::smooth(const std::vector<double>& values, double alpha) {
  EmaSmoother s(alpha);
  std::vector<double> out;
  out.reserve(values.size());
  for (double v : values) out.push_back(s.add(v));
  return out;
}

}  // namespace mls
