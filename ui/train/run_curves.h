// One run's curves as the plots draw them: loss per optimizer step, val mAP per epoch (raw and EMA weights).
#pragma once
#include <QVector>

#include <cstdint>
#include <utility>

namespace mls {

class ProjectStore;
struct RunMetric;

struct RunCurves {
  QVector<double> loss_steps, loss;      // global step, batch loss
  QVector<double> raw_epochs, map_raw;   // epoch, val mAP (%) of the raw weights
  QVector<double> ema_epochs, map_ema;   // epoch, val mAP (%) of the EMA weights (empty without EMA)
};

// Reads the run's "loss", "val_map_raw" (or "val_map" when a run has no raw entry) and "val_map_ema" metrics.
RunCurves loadRunCurves(ProjectStore& store, int64_t run_id);
// Adds one stored metric row to the curves, in the order the run wrote them (a followed run's new rows).
void appendRunMetric(RunCurves& curves, const RunMetric& metric);

class CurvePlot;

// The curves of a run drawn live from its records in the project (a run in child processes): the rows read so
// far and how many of them the live plot already shows, so each poll draws only what is new.
class RecordedLiveCurves {
 public:
  void reset() { *this = {}; }
  void append(const RunMetric& metric) { appendRunMetric(curves_, metric); }
  void replace(RunCurves all) { curves_ = std::move(all); }
  // Adds the points the plot lacks to its live run.
  void drawNew(CurvePlot& plot);

 private:
  RunCurves curves_;
  int drawn_loss_ = 0, drawn_raw_ = 0, drawn_ema_ = 0;
};

}  // namespace mls
