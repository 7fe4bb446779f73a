// Options, progress records, observer interface and errors of the training loop. Plain C++ so the ui
// and the cli can include it without pulling in LibTorch's heavy headers.
#pragma once
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "ml/losses.h"
#include "ml/metrics.h"

namespace mls {

struct TrainerOptions {
  std::string optimizer = "adamw";    // "adamw" | "adam"
  double lr = 1e-4, weight_decay = 1e-2;  // Q2L COCO recipe: AdamW lr 1e-4, wd 1e-2
  // "onecycle": torch.optim.lr_scheduler.OneCycleLR as Q2L uses it (peak lr, cosine anneal,
  // div_factor 25, final_div_factor 1e4, beta1 cycled 0.95 -> 0.85 -> 0.95); "constant".
  std::string schedule = "onecycle";
  double pct_start = 0.2;             // Q2L: 20 % warm-up
  bool cycle_momentum = true;         // OneCycleLR's default; Q2L keeps it
  int epochs = 10;
  int grad_accum = 1;                 // optimizer step every N batches (loss scaled 1/N)
  double ema_decay = 0.0;             // 0 = off; Q2L uses 0.9997 (ModelEma)
  bool amp = false;                   // mixed precision on CUDA only (ignored with a message on CPU)
  std::string amp_dtype = "fp16";     // "fp16" (with dynamic loss scaling) | "bf16"
  // 0 = off. Q2L's rule (ml/training/early_stop.h): stop once more than N epochs passed without a better val
  // mAP (raw or EMA) and the EMA did not improve either; Q2L uses 8.
  int early_stop_patience = 0;
  std::string device = "auto";
  uint64_t seed = 1200;
  LossConfig loss;
  std::string checkpoint_dir;         // empty = no checkpoints; else epoch_NNN.pt per epoch + best.pt
  // Epoch checkpoints kept on disk (the newest ones; 0 = all). A Q2L-R101 checkpoint with Adam state and
  // EMA is ~1.5 GB, so keeping all 80 would fill a disk; best.pt is never pruned.
  int keep_last_checkpoints = 3;
  double max_grad_norm = 0.0;         // 0 = off
  // Memory and speed (GPU). checkpoint_backbone: recompute backbone activations in backward instead of
  // keeping them (~1/3 more compute, a fraction of the activation memory; with grad_accum this is how
  // the Q2L recipe's batch 64 at 448 px fits a 12 GiB card). channels_last: NHWC convolutions (faster
  // with tensor cores under AMP). foreach_optimizer: multi-tensor Adam/AdamW update (same numbers).
  bool checkpoint_backbone = false;
  bool channels_last = false;
  bool foreach_optimizer = true;
  // Time the phases of every step (StepInfo::phases). Synchronises the device at each phase boundary,
  // which costs some GPU throughput: for profiling runs, not for training.
  bool profile_steps = false;
};

// Numbering of a run, the same in every record, checkpoint and file name: epochs count from 1 over the whole
// run (a LinearInit phase's epochs first, then end-to-end training's), global_step counts batches over the
// whole run, and both continue across resumes.
// One record per training batch. epoch and step (within the epoch) are 1-based.
struct StepInfo {
  int epoch = 0;
  int64_t step = 0;
  int64_t global_step = 0;
  int64_t steps_per_epoch = 0;
  double loss = 0;  // this batch's loss (before the 1/grad_accum scaling)
  double lr = 0;    // base learning rate used for this batch's update
  // Seconds per phase, with TrainerOptions::profile_steps (else all 0): waiting for the batch, host->device
  // copy, forward + loss, backward, optimizer (unscale, clip, update, EMA; 0 on accumulation-only steps).
  struct Phases {
    double data = 0, transfer = 0, forward = 0, backward = 0, optimizer = 0;
  } phases;
};

struct EpochInfo {
  int epoch = 0;
  double train_loss = 0;  // mean batch loss of the epoch
  double val_map_raw = std::numeric_limits<double>::quiet_NaN();  // NaN without validation
  double val_map_ema = std::numeric_limits<double>::quiet_NaN();  // NaN without EMA or validation
  double val_map = std::numeric_limits<double>::quiet_NaN();      // the better of the two
  MultiLabelMetrics metrics;  // of the better weights
  double seconds = 0;
  bool improved = false;
};

struct ProgressInfo {
  int epoch = 0;
  int epochs = 0;
  int64_t step = 0;
  int64_t steps_per_epoch = 0;
  double fraction = 0;     // 0-1 over the whole run
  double eta_seconds = 0;  // from the mean wall time per step so far (validation included)
};

enum class MessageLevel { Info, Warning, Error };

// Called on the training thread; implementations that touch a GUI must queue the data across.
class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void onStep(const StepInfo&) {}
  virtual void onEpoch(const EpochInfo&) {}
  virtual void onProgress(const ProgressInfo&) {}
  virtual void onMessage(MessageLevel, const std::string&) {}
  virtual void onCheckpoint(int /*epoch*/, const std::string& /*path*/, double /*val_map*/) {}
  // The epoch checkpoint reported earlier was deleted (TrainerOptions::keep_last_checkpoints).
  virtual void onCheckpointRemoved(int /*epoch*/, const std::string& /*path*/) {}
  // Training continues from a checkpoint taken after `epoch` and `global_step`: records past them (an epoch
  // cut short by a kill or a cancel) are about to be made again and should be replaced.
  virtual void onResumed(int /*epoch*/, int64_t /*global_step*/) {}
};

// One optimizer parameter group as the trainer built it (for logs, the ui, and tests).
struct ParamGroupInfo {
  std::string name;           // "backbone", "head" or "label_estimator"
  int64_t tensors = 0;
  double lr_multiplier = 1;   // of the base learning rate (ROLE's estimator: kRoleEstimatorLrMultiplier)
  double lr = 0;              // the value set for the latest optimizer step
  double weight_decay = 0;
};

struct TrainResult {
  int epochs_run = 0;  // epochs completed by this call
  double best_val_map = std::numeric_limits<double>::quiet_NaN();
  double final_val_map = std::numeric_limits<double>::quiet_NaN();
  int best_epoch = -1;
  bool cancelled = false;
  bool early_stopped = false;
  std::string best_checkpoint;  // best.pt when checkpointing, else empty
  double seconds = 0;
};

// Thrown for NaN/Inf losses, CUDA out-of-memory, unusable checkpoints and bad configurations; the message
// is meant for the user.
class TrainingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace mls
