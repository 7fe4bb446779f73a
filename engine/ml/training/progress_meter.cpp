#include "ml/training/progress_meter.h"

#include <algorithm>

namespace mls {

void ProgressMeter::start(int64_t steps_before, int64_t steps_total, std::chrono::milliseconds min_interval) {
  started_ = Clock::now();
  min_interval_ = min_interval;
  steps_before_ = steps_before;
  steps_total_ = steps_total;
  steps_done_ = 0;
  reported_ = false;
}

bool ProgressMeter::due() {
  const auto now = Clock::now();
  if (reported_ && now - last_report_ < min_interval_) return false;
  reported_ = true;
  last_report_ = now;
  return true;
}

double ProgressMeter::fraction() const {
  if (steps_total_ <= 0) return 0.0;
  return std::clamp(static_cast<double>(steps_before_ + steps_done_) / static_cast<double>(steps_total_), 0.0, 1.0);
}

double ProgressMeter::etaSeconds() const {
  if (steps_done_ <= 0) return 0.0;
  const double elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
  const int64_t remaining = std::max<int64_t>(0, steps_total_ - steps_before_ - steps_done_);
  return elapsed / static_cast<double>(steps_done_) * static_cast<double>(remaining);
}

}  // namespace mls
