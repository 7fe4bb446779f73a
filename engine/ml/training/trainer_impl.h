// Internal to the trainer: the private state and helpers shared by trainer.cpp (the training loops) and
// trainer_checkpoints.cpp (writing and restoring checkpoints). Not part of the public API.
#pragma once
#include "ml/training/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <optional>
#include <sstream>
#include <utility>

#include "ml/device.h"
#include "ml/label_estimator.h"
#include "ml/models/backbone.h"
#include "ml/models/multilabel_model.h"
#include "ml/autocast_guard.h"
#include "ml/training/early_stop.h"
#include "ml/training/grad_scaler.h"
#include "ml/training/grouped_optimizer.h"
#include "ml/training/model_ema.h"
#include "ml/training/module_state.h"
#include "ml/training/one_cycle_schedule.h"
#include "ml/training/progress_meter.h"
#include "ml/training/replica_group.h"
#include "ml/training/replica_step.h"

namespace mls {

namespace trainer_detail {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Clock = std::chrono::steady_clock;
using Forward = std::function<torch::Tensor(const torch::Tensor&)>;

inline double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

inline bool isBetter(double candidate, double best) { return !std::isnan(candidate) && (std::isnan(best) || candidate > best); }

inline bool isOutOfMemory(const c10::Error& e) { return std::string(e.what()).find("out of memory") != std::string::npos; }

// Independent dropout / augmentation randomness per epoch, so a resumed run replays the same epoch.
inline uint64_t epochSeed(uint64_t seed, int epoch) { return DeterministicRng(seed, epoch, -2).nextU64(); }

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

inline std::string fmt(double v, int precision = 2) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(precision);
  s << v;
  return s.str();
}

// Laps of the step phases for TrainerOptions::profile_steps; a no-op (0 s) when off. Each lap waits for
// the device, so a phase's time is its kernels' time, not only their launch.
class PhaseClock {
 public:
  PhaseClock(bool on, c10::Device device) : on_(on), device_(device) { lap(); }
  double lap() {
    if (!on_) return 0;
    if (device_.is_cuda()) torch::cuda::synchronize(device_.has_index() ? device_.index() : -1);
    const auto now = Clock::now();
    const double s = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return s;
  }

 private:
  bool on_;
  c10::Device device_;
  Clock::time_point last_ = Clock::now();
};

// Restores the module's train/eval mode when the scope ends (also on exceptions).
class TrainModeGuard {
 public:
  TrainModeGuard(torch::nn::Module& m, bool train) : module_(m), was_training_(m.is_training()) { m.train(train); }
  ~TrainModeGuard() { module_.train(was_training_); }

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

struct Scored {
  torch::Tensor scores;   // (N,K) float32 CPU
  torch::Tensor targets;  // (N,K) float32 CPU
  torch::Tensor indices;  // (N,) int64 CPU
  bool cancelled = false;
};

inline MultiLabelMetrics metricsOf(const Scored& s) {
  const auto n = static_cast<size_t>(s.scores.size(0));
  const auto k = static_cast<size_t>(s.scores.size(1));
  auto scores = s.scores.contiguous();
  // Validation targets: 1 = positive, everything else (0 / -1) a negative.
  auto labels = (s.targets > 0.5).to(torch::kUInt8).contiguous();
  std::vector<float> score_vec(scores.data_ptr<float>(), scores.data_ptr<float>() + n * k);
  std::vector<uint8_t> label_vec(labels.data_ptr<uint8_t>(), labels.data_ptr<uint8_t>() + n * k);
  return evaluateMultiLabel(score_vec, label_vec, n, k);
}

}  // namespace trainer_detail
using namespace trainer_detail;  // internal header: shared by trainer*.cpp only

struct Trainer::Impl {
  std::shared_ptr<MultiLabelModel> model;
  TrainerOptions opt;
  TrainObserver* observer = nullptr;
  torch::Device device{torch::kCPU};
  bool amp_active = false;  // amp requested and running on CUDA
  c10::ScalarType amp_dtype = c10::ScalarType::Half;

  LabelEstimator estimator{nullptr};
  torch::Tensor pending_estimator_logits;  // from resumeFrom() before setObservedLabels()
  std::unique_ptr<ModelEma> ema;
  GradScaler scaler;
  std::unique_ptr<GroupedOptimizer> optimizer;
  CancelToken cancel;
  std::shared_ptr<ReplicaGroup> replicas;  // data-parallel peers (a world of two or more); null: one process

  // Only rank 0 writes checkpoint files and reports them.
  bool writer() const { return !replicas || replicas->rank() == 0; }
  // Synchronises the trained tensors across the replicas from now on (fit(): the model's trainable
  // parameters and its buffers; fitLinear(): the head only) and shards the training source.
  void attachReplicas(bool head_only, BatchSource& train);

  // Run position (what an epoch checkpoint restores). The trainer numbers the run: epochs 1..linear_epochs
  // are the LinearInit phase's, fit()'s epoch e is run epoch linear_epochs + e, and global_step counts
  // batches over both phases; observers, checkpoint files and their "epoch" all use these numbers.
  int linear_epochs = 0;
  int completed_epochs = 0;  // of fit()
  int64_t global_step = 0;
  int64_t optimizer_step = 0;
  ValidationHistory history;  // best epochs (run numbering) and mAPs, for best.pt and early stopping
  std::string resume_path;
  std::optional<torch::serialize::InputArchive> pending_optimizer;  // from resume(), loaded by fit()
  std::vector<torch::Tensor> best_state;  // CPU copy of the best weights (EMA ones if they won)

  // Where training is, for error messages.
  int current_epoch = 0;
  int64_t current_step = 0;

  // ---- observer helpers -------------------------------------------------------------------------------
  void message(MessageLevel level, const std::string& text) const {
    if (observer) observer->onMessage(level, text);
  }

  // What to change after a NaN/Inf loss: only settings the CLI and the Train form offer. fp16's narrow range
  // overflows where bf16 does not.
  std::string nanAdvice(bool amp) const {
    std::string advice = "try a lower learning rate (--lr, now " + fmt(opt.lr, 6) + ")";
    if (amp && opt.amp_dtype == "fp16") advice += ", bf16 mixed precision (--amp-dtype bf16) or no --amp";
    return advice + ", or check the images for corrupt data";
  }

  // ---- configuration ----------------------------------------------------------------------------------
  void validateOptions() const {
    auto bad = [](const std::string& what) { throw TrainingError("invalid training configuration: " + what); };
    if (opt.optimizer != "adamw" && opt.optimizer != "adam") bad("unknown optimizer '" + opt.optimizer + "' (expected adamw or adam)");
    if (opt.schedule != "onecycle" && opt.schedule != "constant")
      bad("unknown schedule '" + opt.schedule + "' (expected onecycle or constant)");
    if (opt.amp_dtype != "fp16" && opt.amp_dtype != "bf16") bad("unknown AMP dtype '" + opt.amp_dtype + "' (expected fp16 or bf16)");
    if (opt.epochs < 1) bad("epochs must be at least 1");
    if (opt.grad_accum < 1) bad("grad_accum must be at least 1");
    if (!(opt.lr >= 0.0) || !std::isfinite(opt.lr)) bad("the learning rate must be a finite number >= 0");
    if (!(opt.weight_decay >= 0.0)) bad("weight decay must be >= 0");
    if (!(opt.ema_decay >= 0.0 && opt.ema_decay < 1.0)) bad("EMA decay must be in [0, 1)");
    if (!(opt.pct_start >= 0.0 && opt.pct_start <= 1.0)) bad("pct_start must be in [0, 1]");
    if (opt.early_stop_patience < 0) bad("early-stop patience must be >= 0");
    if (!(opt.max_grad_norm >= 0.0)) bad("max_grad_norm must be >= 0");
  }

  void checkSource(BatchSource& src, const char* what) const {
    if (src.numClasses() != model->numClasses())
      throw TrainingError(std::string("the ") + what + " data has " + std::to_string(src.numClasses()) +
                          " classes but the model has " + std::to_string(model->numClasses()));
  }

  // Class counts of both sources, and the estimator when the loss needs one.
  void checkSources(BatchSource& train, BatchSource* val) const {
    checkSource(train, "training");
    if (val) checkSource(*val, "validation");
    requireEstimatorIfNeeded();
  }

  void makeOptimizer(bool head_only, double lr) {
    try {
      optimizer = std::make_unique<GroupedOptimizer>(opt.optimizer, parameterGroups(head_only), lr, opt.foreach_optimizer);
    } catch (const std::invalid_argument& e) {
      throw TrainingError(e.what());
    }
  }

  void requireEstimatorIfNeeded() const {
    if (lossNeedsEstimator(opt.loss.kind) && !estimator)
      throw TrainingError("the " + lossName(opt.loss.kind) +
                          " loss needs the observed training labels for its label estimator (setObservedLabels)");
  }

  // Backbone and head at the base rate; ROLE's estimator at kRoleEstimatorLrMultiplier x, no weight decay.
  std::vector<ParamGroupSpec> parameterGroups(bool head_only) const {
    std::vector<ParamGroupSpec> groups;
    if (!head_only) groups.push_back({"backbone", model->backboneParameters(), 1.0, opt.weight_decay});
    groups.push_back({"head", model->headParameters(), 1.0, opt.weight_decay});
    if (estimator) groups.push_back({"label_estimator", {estimator->logits}, kRoleEstimatorLrMultiplier, 0.0});
    return groups;
  }

  TrainingError translate(const c10::Error& e) const {
    const std::string where = "epoch " + std::to_string(current_epoch) + " step " + std::to_string(current_step);
    if (isOutOfMemory(e)) {
      // Suggest only what is not already on.
      std::string tips = "a smaller batch size (keep the effective batch with --grad-accum N)";
      if (!amp_active) tips += ", mixed precision (--amp)";
      if (!opt.checkpoint_backbone) tips += ", activation checkpointing of the backbone (--checkpoint-backbone)";
      return TrainingError("out of memory at " + where + ". Try " + tips + " or a smaller image size.");
    }
    return TrainingError("training failed at " + where + ": " + e.what_without_backtrace());
  }

  // ---- batches ----------------------------------------------------------------------------------------
  // Asynchronous when the loader pinned the batch; NHWC when the model was converted (4-D images only:
  // cached feature batches stay as they are).
  torch::Tensor toDevice(const torch::Tensor& images) const {
    auto out = images.to(device, /*non_blocking=*/true);
    if (opt.channels_last && out.dim() == 4) out = out.contiguous(at::MemoryFormat::ChannelsLast);
    return out;
  }

  struct EpochContext {
    BatchSource& source;
    const Forward& forward;
    int epoch;
    int64_t steps_per_epoch;
    int64_t* optimizer_steps;  // the schedule's position
    std::function<double(int64_t)> lr_at;
    std::function<std::optional<double>(int64_t)> beta1_at;
    bool use_amp;
    bool update_ema;
    ProgressMeter* progress;
    int epochs;
  };

  struct EpochStats {
    double loss_sum = 0;
    int64_t batches = 0;
    bool cancelled = false;
  };

  // Update of one accumulation group (trainer_epoch.cpp): unscale, agree on AMP's found-inf, clip, step,
  // EMA, schedule position.
  void optimizerStep(EpochContext& ctx, GradScaler& step_scaler);
  // One pass over ctx.source (trainer_epoch.cpp). `first` is the batch fit() already fetched.
  EpochStats runEpoch(EpochContext& ctx, std::optional<Batch> first);

  void emitProgress(const EpochContext& ctx, int64_t step) const {
    if (!observer) return;
    observer->onProgress({ctx.epoch, ctx.epochs, step, ctx.steps_per_epoch, ctx.progress->fraction(),
                          ctx.progress->etaSeconds()});
  }

  // ---- evaluation -------------------------------------------------------------------------------------
  // Sigmoid scores of `source` in source order (trainer_epoch.cpp). With `distributed` (and replicas) every
  // rank scores its shard and all get the whole set back.
  Scored score(BatchSource& source, const Forward& forward, bool honour_cancel, bool distributed = false);

  Forward fullForward() {
    return [this](const torch::Tensor& images) { return model->forward(images, false).logits; };
  }
  Forward linearForward() {
    return [this](const torch::Tensor& features) { return model->headFromPooled(features); };
  }

  struct Validation {
    double map_raw = kNaN, map_ema = kNaN;
    MultiLabelMetrics raw, averaged;
    bool cancelled = false;  // which weights won is recordValidation()'s call (early_stop.h)
  };

  // mAP of the raw weights and, with EMA, of the averaged ones (trainer_epoch.cpp).
  Validation validate(BatchSource& val);

  // ---- checkpoints ------------------------------------------------------------------------------------
  void writeBest(int epoch, double val_map, bool ema_won, TrainResult& result);

  std::string writeEpochCheckpoint(int epoch, double val_map, bool ema_won);

  void restoreOptimizerState();

  void loadEstimatorLogits(const torch::Tensor& logits);

  // The linear phase's best epoch: its head and ROLE estimator (fitLinear()).
  struct LinearBest {
    int epoch = -1;
    double map = kNaN;
    std::vector<torch::Tensor> head;
    torch::Tensor estimator_logits;
    void keep(Impl& impl, int run_epoch, double val_map);
    void restore(Impl& impl) const;
  };

  // Removes the epoch file that fell out of TrainerOptions::keep_last_checkpoints and tells the observer.
  void pruneEpochCheckpoints(int newest_epoch);

  // ---- the two training entry points ------------------------------------------------------------------
  void fit(BatchSource& train, BatchSource* val, TrainResult& result);
  void fitLinear(BatchSource& train, BatchSource* val, int epochs, double lr);
  void resume(const std::string& path);
};

}  // namespace mls
