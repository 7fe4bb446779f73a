// Measures how responsive the GUI event loop is while a test drives it: a 10 ms timer records how late each
// tick arrives. A busy GUI thread (a blocking call, a replot per batch) shows up as large lateness.
// Test-only: production code never runs this timer.
#pragma once
#include <QElapsedTimer>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace mls::test {

struct LatencyStats {
  double max_ms = 0;
  double p99_ms = 0;
  double mean_ms = 0;
  int samples = 0;
};

class LatencyProbe {
 public:
  static constexpr int kIntervalMs = 10;

  LatencyProbe() {
    timer_.setTimerType(Qt::PreciseTimer);  // a coarse timer would add up to 5 % slack of its own
    timer_.setInterval(kIntervalMs);
    QObject::connect(&timer_, &QTimer::timeout, [this] { tick(); });
  }

  void start() {  // clears earlier samples
    lateness_ms_.clear();
    lateness_ms_.reserve(1 << 14);
    clock_.start();
    last_ns_ = 0;
    timer_.start();
  }
  void stop() { timer_.stop(); }
  bool isRunning() const { return timer_.isActive(); }
  LatencyStats stats() const { return statsOf(lateness_ms_); }

  // The statistics of given lateness samples (ms).
  static LatencyStats statsOf(std::vector<double> v) {
    LatencyStats s;
    s.samples = static_cast<int>(v.size());
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    s.max_ms = v.back();
    // Nearest-rank percentile: the smallest value with at least 99 % of the samples at or below it.
    const size_t rank = static_cast<size_t>(std::ceil(0.99 * static_cast<double>(v.size())));
    s.p99_ms = v[std::max<size_t>(rank, 1) - 1];
    s.mean_ms = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    return s;
  }

 private:
  void tick() {
    const qint64 now = clock_.nsecsElapsed();
    const double gap_ms = static_cast<double>(now - last_ns_) / 1e6;
    last_ns_ = now;
    lateness_ms_.push_back(std::max(0.0, gap_ms - kIntervalMs));
  }

  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ns_ = 0;
  std::vector<double> lateness_ms_;
};

}  // namespace mls::test
