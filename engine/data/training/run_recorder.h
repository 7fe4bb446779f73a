// Records a run's curves and checkpoints in the project (runs / run_metrics / checkpoints) as the trainer
// numbers them (run epochs and steps, continuous across LinearInit and resumes) and passes every event on to
// another observer (the CLI's progress printer, the GUI worker). Lives on the training thread
// with its own store connection; step losses are written in batches so SQLite never slows the loop.
// Per step: loss, lr. Per epoch: train_loss, val_map (scikit-learn's, the better of raw and EMA weights),
// val_map_raw, val_map_ema, val_map_mlspl and val_map_q2l_voc (val_map's weights in the two papers'
// conventions), cf1, of1, epoch_seconds.
#pragma once
#include <cstdint>
#include <vector>

#include "data/store/project_types.h"
#include "ml/training/training_types.h"

namespace mls {

class ProjectStore;

class RunRecorder : public TrainObserver {
 public:
  RunRecorder(ProjectStore& store, int64_t run_id, TrainObserver* next = nullptr);
  ~RunRecorder() override;
  void flush();

  void onStep(const StepInfo& s) override;
  void onEpoch(const EpochInfo& e) override;
  void onProgress(const ProgressInfo& p) override;
  void onMessage(MessageLevel level, const std::string& text) override;
  void onCheckpoint(int epoch, const std::string& path, double val_map) override;
  void onCheckpointRemoved(int epoch, const std::string& path) override;
  // Drops what was recorded past the resumed checkpoint (the trainer re-trains it).
  void onResumed(int epoch, int64_t global_step) override;

 private:
  ProjectStore& store_;
  int64_t run_id_;
  TrainObserver* next_;
  std::vector<RunMetric> pending_;
  double best_ = -1;
};

}  // namespace mls
