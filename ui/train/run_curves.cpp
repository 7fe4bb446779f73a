#include "train/run_curves.h"

#include "data/store/project_store.h"

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

}  // namespace mls
