#include "train/run_curves.h"

#include <cmath>

#include "data/store/project_store.h"
#include "train/curve_plot.h"

namespace mls {

RunCurves loadRunCurves(ProjectStore& store, int64_t run_id) {
  RunCurves c;
  for (const auto& m : store.runMetrics(run_id, MetricKey::Loss)) {
    c.loss_steps.push_back(static_cast<double>(m.step));
    c.loss.push_back(m.value);
  }
  auto epochs = store.runMetrics(run_id, MetricKey::ValMapRaw);
  if (epochs.empty()) epochs = store.runMetrics(run_id, MetricKey::ValMap);
  for (const auto& m : epochs) {
    c.raw_epochs.push_back(m.epoch);
    c.map_raw.push_back(m.value);
  }
  for (const auto& m : store.runMetrics(run_id, MetricKey::ValMapEma)) {
    c.ema_epochs.push_back(m.epoch);
    c.map_ema.push_back(m.value);
  }
  return c;
}

void appendRunMetric(RunCurves& c, const RunMetric& m) {
  // "val_map" is not drawn: a run recorded while it was followed also records "val_map_raw" (the old-run
  // fallback in loadRunCurves is for runs that predate it).
  if (m.name == metricName(MetricKey::Loss)) {
    c.loss_steps.push_back(static_cast<double>(m.step));
    c.loss.push_back(m.value);
  } else if (m.name == metricName(MetricKey::ValMapRaw)) {
    c.raw_epochs.push_back(m.epoch);
    c.map_raw.push_back(m.value);
  } else if (m.name == metricName(MetricKey::ValMapEma)) {
    c.ema_epochs.push_back(m.epoch);
    c.map_ema.push_back(m.value);
  }
}

void RecordedLiveCurves::drawNew(CurvePlot& plot) {
  const auto& c = curves_;
  if (c.loss.size() > drawn_loss_) plot.addLossPoints(c.loss_steps.mid(drawn_loss_), c.loss.mid(drawn_loss_));
  for (int i = drawn_raw_; i < c.map_raw.size(); ++i) plot.addEpoch(static_cast<int>(c.raw_epochs[i]), c.map_raw[i], NAN);
  for (int i = drawn_ema_; i < c.map_ema.size(); ++i) plot.addEpoch(static_cast<int>(c.ema_epochs[i]), NAN, c.map_ema[i]);
  drawn_loss_ = static_cast<int>(c.loss.size());
  drawn_raw_ = static_cast<int>(c.map_raw.size());
  drawn_ema_ = static_cast<int>(c.map_ema.size());
}

}  // namespace mls
