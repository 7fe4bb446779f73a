#include "train/latency_probe.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace mls {

LatencyProbe::LatencyProbe(QObject* parent) : QObject(parent) {
  timer_.setTimerType(Qt::PreciseTimer);  // a coarse timer would add up to 5 % slack of its own
  timer_.setInterval(kIntervalMs);
  connect(&timer_, &QTimer::timeout, this, &LatencyProbe::tick);
}

void LatencyProbe::start() {
  lateness_ms_.clear();
  lateness_ms_.reserve(1 << 14);
  clock_.start();
  last_ns_ = 0;
  timer_.start();
}

void LatencyProbe::stop() { timer_.stop(); }

void LatencyProbe::tick() {
  const qint64 now = clock_.nsecsElapsed();
  const double gap_ms = static_cast<double>(now - last_ns_) / 1e6;
  last_ns_ = now;
  lateness_ms_.push_back(std::max(0.0, gap_ms - kIntervalMs));
}

LatencyStats LatencyProbe::stats() const { return statsOf(lateness_ms_); }

LatencyStats LatencyProbe::statsOf(std::vector<double> v) {
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

}  // namespace mls
