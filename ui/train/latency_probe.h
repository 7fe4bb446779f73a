// Measures how responsive the GUI event loop is: a 10 ms timer records how late each tick arrives.
// A busy GUI thread (a blocking call, a replot per batch) shows up as large lateness; used while training.
#pragma once
#include <QElapsedTimer>
#include <QObject>
#include <QTimer>
#include <vector>

namespace mls {

struct LatencyStats {
  double max_ms = 0;
  double p99_ms = 0;
  double mean_ms = 0;
  int samples = 0;
};

class LatencyProbe : public QObject {
  Q_OBJECT
 public:
  static constexpr int kIntervalMs = 10;
  explicit LatencyProbe(QObject* parent = nullptr);
  void start();  // clears earlier samples
  void stop();
  bool isRunning() const { return timer_.isActive(); }
  LatencyStats stats() const;
  // Exposed for tests: the statistics of given lateness samples (ms).
  static LatencyStats statsOf(std::vector<double> lateness_ms);

 private:
  void tick();
  QTimer timer_;
  QElapsedTimer clock_;
  qint64 last_ns_ = 0;
  std::vector<double> lateness_ms_;
};

}  // namespace mls
