#include "data/training/run_recorder.h"

#include <cmath>

#include "data/store/project_store.h"

namespace mls {

RunRecorder::RunRecorder(ProjectStore& store, int64_t run_id, TrainObserver* next)
    : store_(store), run_id_(run_id), next_(next) {}

RunRecorder::~RunRecorder() {
  try {
    flush();
  } catch (...) {
  }
}

void RunRecorder::flush() {
  store_.addRunMetrics(run_id_, pending_);
  pending_.clear();
}

void RunRecorder::onStep(const StepInfo& s) {
  pending_.push_back({s.epoch, s.global_step, metricName(MetricKey::Loss), s.loss});
  pending_.push_back({s.epoch, s.global_step, metricName(MetricKey::Lr), s.lr});
  if (pending_.size() >= 200) flush();
  if (next_) next_->onStep(s);
}

void RunRecorder::onEpoch(const EpochInfo& e) {
  const int epoch = e.epoch;
  auto add = [&](MetricKey key, double v) {
    if (std::isfinite(v)) pending_.push_back({epoch, 0, metricName(key), v});
  };
  add(MetricKey::TrainLoss, e.train_loss);
  add(MetricKey::ValMap, e.val_map);
  add(MetricKey::ValMapRaw, e.val_map_raw);
  add(MetricKey::ValMapEma, e.val_map_ema);
  if (std::isfinite(e.val_map)) {
    // The same validation (the better weights) in the MLSPL and Q2L papers' conventions (ml/metrics_conventions.h).
    add(MetricKey::ValMapMlspl, e.metrics.map_mlspl);
    add(MetricKey::ValMapQ2lVoc, e.metrics.map_q2l_voc);
  }
  add(MetricKey::Cf1, e.metrics.cf1);
  add(MetricKey::Of1, e.metrics.of1);
  add(MetricKey::EpochSeconds, e.seconds);
  flush();
  if (std::isfinite(e.val_map) && e.val_map > best_) {
    best_ = e.val_map;
    store_.updateRunBest(run_id_, best_);
  }
  if (next_) next_->onEpoch(e);
}

void RunRecorder::onProgress(const ProgressInfo& p) {
  if (next_) next_->onProgress(p);
}

void RunRecorder::onMessage(MessageLevel level, const std::string& text) {
  if (next_) next_->onMessage(level, text);
}

void RunRecorder::onCheckpoint(int epoch, const std::string& path, double val_map) {
  CheckpointRecord c{run_id_, epoch, path, std::nullopt};
  if (std::isfinite(val_map)) c.val_map = val_map;
  store_.addCheckpoint(c);
  if (next_) next_->onCheckpoint(epoch, path, val_map);
}

void RunRecorder::onCheckpointRemoved(int epoch, const std::string& path) {
  store_.removeCheckpoint(run_id_, epoch);
  if (next_) next_->onCheckpointRemoved(epoch, path);
}

void RunRecorder::onResumed(int epoch, int64_t global_step) {
  pending_.clear();  // nothing is pending before training starts; never written past the resume point
  store_.discardRunProgressAfter(run_id_, epoch, global_step);
  if (next_) next_->onResumed(epoch, global_step);
}

}  // namespace mls
