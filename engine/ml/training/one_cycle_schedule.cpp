#include "ml/training/one_cycle_schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mls {

namespace {
constexpr double kPi = 3.14159265358979323846;
}  // namespace

OneCycleSchedule::OneCycleSchedule(const OneCycleOptions& options) : options_(options) {
  if (options.total_steps < 1) throw std::invalid_argument("one-cycle schedule needs at least one step");
  if (!(options.pct_start >= 0.0 && options.pct_start <= 1.0))
    throw std::invalid_argument("one-cycle pct_start must be in [0, 1]");
  if (!(options.div_factor > 0.0) || !(options.final_div_factor > 0.0))
    throw std::invalid_argument("one-cycle div factors must be positive");
  initial_lr_ = options.max_lr / options.div_factor;
  min_lr_ = initial_lr_ / options.final_div_factor;
  // PyTorch: end_step = float(pct_start * total_steps) - 1 for the warm-up, total_steps - 1 overall.
  warmup_end_ = options.pct_start * static_cast<double>(options.total_steps) - 1.0;
  final_step_ = static_cast<double>(options.total_steps) - 1.0;
}

double OneCycleSchedule::annealCos(double start, double end, double pct) {
  return end + (start - end) / 2.0 * (std::cos(kPi * pct) + 1.0);
}

double OneCycleSchedule::phaseProgress(int64_t step, bool* warmup) const {
  const double s = static_cast<double>(std::clamp<int64_t>(step, 0, options_.total_steps - 1));
  // PyTorch walks the phases and takes the first whose end_step >= step (the last one otherwise).
  double start = 0.0, end = warmup_end_;
  *warmup = s <= warmup_end_;
  if (!*warmup) {
    start = warmup_end_;
    end = final_step_;
  }
  // A zero-length phase (e.g. pct_start * total_steps == 1) divides by zero in PyTorch; treat it as done.
  return end > start ? (s - start) / (end - start) : 1.0;
}

double OneCycleSchedule::lr(int64_t step) const {
  bool warmup = false;
  const double pct = phaseProgress(step, &warmup);
  return warmup ? annealCos(initial_lr_, options_.max_lr, pct) : annealCos(options_.max_lr, min_lr_, pct);
}

double OneCycleSchedule::momentum(int64_t step) const {
  bool warmup = false;
  const double pct = phaseProgress(step, &warmup);
  return warmup ? annealCos(options_.max_momentum, options_.base_momentum, pct)
                : annealCos(options_.base_momentum, options_.max_momentum, pct);
}

}  // namespace mls
