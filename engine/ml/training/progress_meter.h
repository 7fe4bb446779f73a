// Run-level progress for the observer: fraction done, and an ETA from the mean wall time per step so far
// (validation and checkpoint time included, so the estimate covers whole epochs). Throttles updates to
// one per ~100 ms: the ui redraws on a timer anyway, and per-batch signals would flood its event queue.
#pragma once
#include <chrono>
#include <cstdint>

namespace mls {

class ProgressMeter {
 public:
  using Clock = std::chrono::steady_clock;

  // steps_before: steps already done by an earlier run (resume); steps_total: the whole run's steps.
  void start(int64_t steps_before, int64_t steps_total, std::chrono::milliseconds min_interval = std::chrono::milliseconds(100));
  void stepDone() { ++steps_done_; }
  // True when at least min_interval has passed since the last report (and then counts as reported).
  bool due();
  double fraction() const;
  double etaSeconds() const;

 private:
  Clock::time_point started_{}, last_report_{};
  std::chrono::milliseconds min_interval_{100};
  int64_t steps_before_ = 0, steps_total_ = 0, steps_done_ = 0;
  bool reported_ = false;
};

}  // namespace mls
