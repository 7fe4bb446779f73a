// One run's curves as the plots draw them: loss per optimizer step, val mAP per epoch (raw and EMA weights).
#pragma once
#include <QVector>
#include <cstdint>

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

}  // namespace mls
