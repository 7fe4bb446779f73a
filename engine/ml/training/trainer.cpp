#include "ml/training/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
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
#include "ml/models/multilabel_model.h"
#include "ml/training/autocast_guard.h"
#include "ml/training/grad_scaler.h"
#include "ml/training/grouped_optimizer.h"
#include "ml/training/model_ema.h"
#include "ml/training/module_state.h"
#include "ml/training/one_cycle_schedule.h"
#include "ml/training/progress_meter.h"

namespace mls {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
using Clock = std::chrono::steady_clock;
using Forward = std::function<torch::Tensor(const torch::Tensor&)>;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

bool isBetter(double candidate, double best) { return !std::isnan(candidate) && (std::isnan(best) || candidate > best); }

bool isOutOfMemory(const c10::Error& e) { return std::string(e.what()).find("out of memory") != std::string::npos; }

// Independent dropout / augmentation randomness per epoch, so a resumed run replays the same epoch.
uint64_t epochSeed(uint64_t seed, int epoch) { return DeterministicRng(seed, epoch, -2).nextU64(); }

int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::string fmt(double v, int precision = 2) {
  std::ostringstream s;
  s.setf(std::ios::fixed);
  s.precision(precision);
  s << v;
  return s.str();
}

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

MultiLabelMetrics metricsOf(const Scored& s) {
  const auto n = static_cast<size_t>(s.scores.size(0));
  const auto k = static_cast<size_t>(s.scores.size(1));
  auto scores = s.scores.contiguous();
  // Validation targets: 1 = positive, everything else (0 / -1) a negative.
  auto labels = (s.targets > 0.5).to(torch::kUInt8).contiguous();
  std::vector<float> score_vec(scores.data_ptr<float>(), scores.data_ptr<float>() + n * k);
  std::vector<uint8_t> label_vec(labels.data_ptr<uint8_t>(), labels.data_ptr<uint8_t>() + n * k);
  return evaluateMultiLabel(score_vec, label_vec, n, k);
}

}  // namespace

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
  std::atomic<bool> cancel{false};

  // Run position (what an epoch checkpoint restores).
  int completed_epochs = 0;
  int64_t global_step = 0;
  int64_t optimizer_step = 0;
  double best_map = kNaN;
  int best_epoch = -1;
  int patience = 0;
  std::string resume_path;
  std::vector<torch::Tensor> best_state;  // CPU copy of the best weights (EMA ones if they won)

  // Where training is, for error messages.
  int current_epoch = 0;
  int64_t current_step = 0;

  // ---- observer helpers -------------------------------------------------------------------------------
  void message(MessageLevel level, const std::string& text) const {
    if (observer) observer->onMessage(level, text);
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
    if (isOutOfMemory(e))
      return TrainingError("out of memory at " + where +
                           ". Try a smaller batch size (keep the effective batch with --grad-accum N), mixed "
                           "precision (--amp) or a smaller image size.");
    return TrainingError("training failed at " + where + ": " + e.what_without_backtrace());
  }

  // ---- batches ----------------------------------------------------------------------------------------
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

  void optimizerStep(EpochContext& ctx, GradScaler& step_scaler) {
    const int64_t s = *ctx.optimizer_steps;
    optimizer->setLearningRate(ctx.lr_at(s), ctx.beta1_at(s));
    const bool finite = step_scaler.unscale(optimizer->parameters());
    if (finite && opt.max_grad_norm > 0) torch::nn::utils::clip_grad_norm_(optimizer->parameters(), opt.max_grad_norm);
    if (finite) optimizer->step();
    step_scaler.update(finite);
    optimizer->zeroGrad();
    if (ema && ctx.update_ema) ema->update(*model);
    ++*ctx.optimizer_steps;
  }

  EpochStats runEpoch(EpochContext& ctx, std::optional<Batch> first) {
    EpochStats stats;
    GradScaler no_scaling(false);
    GradScaler& step_scaler = ctx.use_amp ? scaler : no_scaling;
    const int accum = opt.grad_accum;
    int pending = 0;  // batches accumulated since the last optimizer step
    current_epoch = ctx.epoch;
    optimizer->zeroGrad();
    for (;;) {
      if (cancel.load(std::memory_order_relaxed)) {
        stats.cancelled = true;
        break;
      }
      std::optional<Batch> batch = first ? std::exchange(first, std::nullopt) : ctx.source.next();
      if (!batch) break;
      current_step = ++stats.batches;
      ++global_step;

      const auto images = batch->images.to(device, /*non_blocking=*/true);
      const auto targets = batch->targets.to(device, /*non_blocking=*/true);
      torch::Tensor logits;
      {
        AutocastGuard autocast(ctx.use_amp, amp_dtype);
        logits = ctx.forward(images);
      }
      const auto estimator_logits = estimator ? estimator->forward(batch->indices) : torch::Tensor();
      const auto loss = multiLabelLoss(opt.loss, logits.to(torch::kFloat), targets, estimator_logits);
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value))
        throw TrainingError(std::string("loss became ") + (std::isnan(loss_value) ? "NaN" : "infinite") + " at epoch " +
                            std::to_string(ctx.epoch) + " step " + std::to_string(stats.batches) +
                            "; try a lower learning rate, gradient clipping (max_grad_norm), or check the input "
                            "data for NaN/Inf values");
      step_scaler.scale(accum > 1 ? loss / static_cast<double>(accum) : loss).backward();
      const double lr_used = ctx.lr_at(*ctx.optimizer_steps);
      if (++pending == accum) {
        optimizerStep(ctx, step_scaler);
        pending = 0;
      }
      stats.loss_sum += loss_value;

      if (observer) {
        observer->onStep({ctx.epoch, stats.batches, global_step, ctx.steps_per_epoch, loss_value, lr_used});
        ctx.progress->stepDone();
        if (ctx.progress->due()) emitProgress(ctx, stats.batches);
      }
    }
    // Flush a partial accumulation so no gradient crosses an epoch boundary (keeps resume exact).
    if (!stats.cancelled && pending > 0) optimizerStep(ctx, step_scaler);
    return stats;
  }

  void emitProgress(const EpochContext& ctx, int64_t step) const {
    if (!observer) return;
    observer->onProgress({ctx.epoch, ctx.epochs, step, ctx.steps_per_epoch, ctx.progress->fraction(),
                          ctx.progress->etaSeconds()});
  }

  // ---- evaluation -------------------------------------------------------------------------------------
  Scored score(BatchSource& source, const Forward& forward, bool honour_cancel) {
    TrainModeGuard eval_mode(*model, false);
    torch::NoGradGuard no_grad;
    Scored out;
    std::vector<torch::Tensor> scores, targets, indices;
    source.startEpoch(0);
    while (auto batch = source.next()) {
      if (honour_cancel && cancel.load(std::memory_order_relaxed)) {
        out.cancelled = true;
        return out;
      }
      torch::Tensor logits;
      {
        AutocastGuard autocast(amp_active, amp_dtype);
        logits = forward(batch->images.to(device, /*non_blocking=*/true));
      }
      scores.push_back(torch::sigmoid(logits.to(torch::kFloat)).to(torch::kCPU));
      targets.push_back(batch->targets.to(torch::kCPU, torch::kFloat));
      indices.push_back(batch->indices.to(torch::kCPU, torch::kLong));
    }
    const int64_t k = model->numClasses();
    out.scores = scores.empty() ? torch::empty({0, k}) : torch::cat(scores);
    out.targets = targets.empty() ? torch::empty({0, k}) : torch::cat(targets);
    out.indices = indices.empty() ? torch::empty({0}, torch::kLong) : torch::cat(indices);
    return out;
  }

  Forward fullForward() {
    return [this](const torch::Tensor& images) { return model->forward(images, false).logits; };
  }
  Forward linearForward() {
    return [this](const torch::Tensor& features) { return model->headFromPooled(features); };
  }

  struct Validation {
    double map_raw = kNaN, map_ema = kNaN;
    MultiLabelMetrics raw, averaged;
    bool ema_won = false;
    bool cancelled = false;
  };

  // mAP of the raw weights and, with EMA, of the averaged ones (swapped in, then swapped back).
  Validation validate(BatchSource& val) {
    Validation v;
    const auto raw = score(val, fullForward(), true);
    if (raw.cancelled) return Validation{kNaN, kNaN, {}, {}, false, true};
    v.raw = metricsOf(raw);
    v.map_raw = v.raw.map;
    if (ema) {
      const auto raw_weights = cloneState(*model);
      ema->copyTo(*model);
      Scored averaged;
      try {
        averaged = score(val, fullForward(), true);
      } catch (...) {
        copyState(*model, raw_weights);
        throw;
      }
      copyState(*model, raw_weights);
      if (averaged.cancelled) return Validation{kNaN, kNaN, {}, {}, false, true};
      v.averaged = metricsOf(averaged);
      v.map_ema = v.averaged.map;
      v.ema_won = isBetter(v.map_ema, v.map_raw);
    }
    return v;
  }

  // ---- checkpoints ------------------------------------------------------------------------------------
  void writeBest(int epoch, double val_map, bool ema_won, TrainResult& result) {
    if (opt.checkpoint_dir.empty()) return;
    const auto path = bestCheckpointPath(opt.checkpoint_dir);
    try {
      torch::serialize::OutputArchive root;
      root.write(ckpt::kFormat, c10::IValue(std::string(ckpt::kWeightsFormat)));
      torch::serialize::OutputArchive weights(root.compilation_unit());
      saveStateToArchive(*model, best_state, weights);
      root.write(ckpt::kModel, weights);
      root.write(ckpt::kEpoch, c10::IValue(static_cast<int64_t>(epoch)));
      root.write(ckpt::kValMap, c10::IValue(val_map));
      root.write(ckpt::kUseEma, c10::IValue(false));  // "model" already holds the winning weights
      root.write("from_ema", c10::IValue(ema_won));
      saveArchiveAtomically(root, path);
      result.best_checkpoint = path;
    } catch (const std::exception& e) {
      message(MessageLevel::Error, std::string("could not save the best weights: ") + e.what());
    }
  }

  std::string writeEpochCheckpoint(int epoch, double val_map, bool ema_won) {
    const auto path = epochCheckpointPath(opt.checkpoint_dir, epoch);
    torch::serialize::OutputArchive root;
    const auto cu = root.compilation_unit();
    root.write(ckpt::kFormat, c10::IValue(std::string(ckpt::kTrainingFormat)));
    torch::serialize::OutputArchive weights(cu);
    model->save(weights);
    root.write(ckpt::kModel, weights);
    if (ema) {
      torch::serialize::OutputArchive averaged(cu);
      saveStateToArchive(*model, ema->state(), averaged);
      root.write(ckpt::kEmaModel, averaged);
    }
    root.write(ckpt::kUseEma, c10::IValue(ema && ema_won));
    torch::serialize::OutputArchive optim(cu);
    optimizer->save(optim);
    root.write(ckpt::kOptimizer, optim);
    if (estimator) {
      torch::serialize::OutputArchive est(cu);
      estimator->save(est);
      root.write(ckpt::kEstimator, est);
    }
    root.write(ckpt::kEpoch, c10::IValue(static_cast<int64_t>(epoch)));
    root.write(ckpt::kGlobalStep, c10::IValue(global_step));
    root.write(ckpt::kOptimizerStep, c10::IValue(optimizer_step));
    root.write(ckpt::kBestMap, c10::IValue(best_map));
    root.write(ckpt::kBestEpoch, c10::IValue(static_cast<int64_t>(best_epoch)));
    root.write(ckpt::kPatience, c10::IValue(static_cast<int64_t>(patience)));
    root.write(ckpt::kValMap, c10::IValue(val_map));
    root.write(ckpt::kSeed, c10::IValue(static_cast<int64_t>(opt.seed)));
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      root.write(ckpt::kRngState, gen.get_state(), /*is_buffer=*/true);
    }
    root.write(ckpt::kScalerScale, c10::IValue(scaler.scaleValue()));
    root.write(ckpt::kScalerTracker, c10::IValue(scaler.growthTracker()));
    saveArchiveAtomically(root, path);
    if (opt.keep_last_checkpoints > 0 && epoch > opt.keep_last_checkpoints) {
      std::error_code ec;
      std::filesystem::remove(epochCheckpointPath(opt.checkpoint_dir, epoch - opt.keep_last_checkpoints), ec);
    }
    return path;
  }

  void restoreOptimizerState() {
    try {
      torch::serialize::InputArchive root;
      root.load_from(resume_path, device);
      torch::serialize::InputArchive state;
      if (!root.try_read(ckpt::kOptimizer, state)) {
        message(MessageLevel::Warning, "the checkpoint has no optimizer state; the optimizer starts fresh");
        return;
      }
      optimizer->load(state);
    } catch (const c10::Error& e) {
      throw TrainingError("the optimizer state in '" + resume_path +
                          "' does not match this model and loss (" + e.what_without_backtrace() + ")");
    }
  }

  void loadEstimatorLogits(const torch::Tensor& logits) {
    if (logits.sizes() != estimator->logits.sizes())
      throw TrainingError("the checkpoint's label estimator is " + c10::str(logits.sizes()) +
                          " but the observed labels are " + c10::str(estimator->logits.sizes()));
    torch::NoGradGuard no_grad;
    estimator->logits.copy_(logits);
  }

  // ---- the two training entry points ------------------------------------------------------------------
  void fit(BatchSource& train, BatchSource* val, TrainResult& result);
  void fitLinear(BatchSource& train, BatchSource* val, int epochs, double lr);
  void resume(const std::string& path);
};

void Trainer::Impl::fit(BatchSource& train, BatchSource* val, TrainResult& result) {
  checkSource(train, "training");
  if (val) checkSource(*val, "validation");
  requireEstimatorIfNeeded();
  if (train.size() <= 0) throw TrainingError("the training set is empty");
  if (completed_epochs >= opt.epochs) {
    message(MessageLevel::Info, "all " + std::to_string(opt.epochs) + " epochs are already done");
    result.best_val_map = best_map;
    result.best_epoch = best_epoch;
    return;
  }
  if (opt.amp && !device.is_cuda()) message(MessageLevel::Info, "mixed precision needs CUDA; training in float32 on the CPU");

  torch::manual_seed(opt.seed);
  if (opt.ema_decay > 0 && !ema) ema = std::make_unique<ModelEma>(*model, opt.ema_decay);
  try {
    optimizer = std::make_unique<GroupedOptimizer>(opt.optimizer, parameterGroups(false), opt.lr);
  } catch (const std::invalid_argument& e) {
    throw TrainingError(e.what());
  }
  if (!resume_path.empty()) {
    restoreOptimizerState();
    resume_path.clear();
  }

  // The first batch tells the batch size, hence the steps per epoch the schedule needs; it is then
  // trained on as usual.
  const int first_epoch = completed_epochs + 1;
  torch::manual_seed(epochSeed(opt.seed, first_epoch));
  train.startEpoch(first_epoch - 1);
  std::optional<Batch> first = train.next();
  if (!first || first->images.size(0) == 0) throw TrainingError("the training data yielded no batch");
  const int64_t steps_per_epoch = ceilDiv(train.size(), first->images.size(0));
  const int64_t updates_per_epoch = ceilDiv(steps_per_epoch, opt.grad_accum);

  std::optional<OneCycleSchedule> one_cycle;
  if (opt.schedule == "onecycle") {
    OneCycleOptions o;
    o.max_lr = opt.lr;
    o.total_steps = std::max<int64_t>(1, updates_per_epoch * opt.epochs);
    o.pct_start = opt.pct_start;
    one_cycle.emplace(o);
  }
  auto lr_at = [&](int64_t s) { return one_cycle ? one_cycle->lr(s) : opt.lr; };
  auto beta1_at = [&](int64_t s) -> std::optional<double> {
    if (one_cycle && opt.cycle_momentum) return one_cycle->momentum(s);
    return std::nullopt;
  };

  ProgressMeter progress;
  progress.start(completed_epochs * steps_per_epoch, opt.epochs * steps_per_epoch);
  message(MessageLevel::Info,
          std::string(completed_epochs > 0 ? "resuming" : "training") + " on " + describeDevice(opt.device) + ": " +
              std::to_string(train.size()) + " samples, " + std::to_string(steps_per_epoch) +
              " steps per epoch, epochs " + std::to_string(first_epoch) + "-" + std::to_string(opt.epochs) + ", " +
              opt.optimizer + " lr " + fmt(opt.lr, 6) + " (" + opt.schedule + "), loss " + lossName(opt.loss.kind) +
              (ema ? ", EMA " + fmt(ema->decay(), 5) : std::string()) +
              (amp_active ? ", mixed precision " + opt.amp_dtype : std::string()));

  const Forward forward = fullForward();
  int64_t skipped_reported = train.skippedSamples();
  for (int epoch = first_epoch; epoch <= opt.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    if (epoch != first_epoch) {
      torch::manual_seed(epochSeed(opt.seed, epoch));
      train.startEpoch(epoch - 1);
    }
    model->train();
    EpochContext ctx{train,  forward,   epoch, steps_per_epoch, &optimizer_step, lr_at,
                     beta1_at, amp_active, true,  &progress,       opt.epochs};
    const auto stats = runEpoch(ctx, std::move(first));
    first.reset();
    if (stats.cancelled) {
      result.cancelled = true;
      message(MessageLevel::Info, "training cancelled during epoch " + std::to_string(epoch) +
                                      (epoch > 1 ? "; the checkpoint of epoch " + std::to_string(epoch - 1) + " is kept" : ""));
      break;
    }
    if (stats.batches == 0) throw TrainingError("epoch " + std::to_string(epoch) + " yielded no batch");

    if (train.skippedSamples() > skipped_reported) {
      skipped_reported = train.skippedSamples();
      message(MessageLevel::Warning, std::to_string(skipped_reported) +
                                         " training images could not be read and were skipped so far");
    }

    EpochInfo info;
    info.epoch = epoch;
    info.train_loss = stats.loss_sum / static_cast<double>(stats.batches);
    bool ema_won = false;
    if (val) {
      const auto v = validate(*val);
      if (v.cancelled) {
        result.cancelled = true;
        message(MessageLevel::Info, "training cancelled while validating epoch " + std::to_string(epoch));
        break;
      }
      info.val_map_raw = v.map_raw;
      info.val_map_ema = v.map_ema;
      ema_won = v.ema_won;
      info.val_map = ema_won ? v.map_ema : v.map_raw;
      info.metrics = ema_won ? v.averaged : v.raw;
      info.improved = isBetter(info.val_map, best_map);
    } else {
      info.improved = true;  // nothing to compare: the latest weights are the ones to keep
    }

    completed_epochs = epoch;
    if (info.improved) {
      best_map = info.val_map;
      best_epoch = epoch;
      patience = 0;
      // Kept on the CPU: a second full copy of a large model on the GPU would cost batch size.
      if (ema_won) {
        best_state.clear();
        for (const auto& t : ema->state()) best_state.push_back(t.to(torch::kCPU, /*non_blocking=*/false, /*copy=*/true));
      } else {
        best_state = cloneState(*model, torch::Device(torch::kCPU));
      }
      writeBest(epoch, info.val_map, ema_won, result);
    } else {
      ++patience;
    }
    ++result.epochs_run;
    result.final_val_map = info.val_map;
    info.seconds = secondsSince(epoch_start);
    if (observer) observer->onEpoch(info);

    if (!opt.checkpoint_dir.empty()) {
      try {
        const auto path = writeEpochCheckpoint(epoch, info.val_map, ema_won);
        if (observer) observer->onCheckpoint(epoch, path, info.val_map);
      } catch (const std::exception& e) {
        message(MessageLevel::Error, std::string("could not save the checkpoint of epoch ") + std::to_string(epoch) +
                                         ": " + e.what());
      }
    }
    emitProgress(ctx, stats.batches);

    if (opt.early_stop_patience > 0 && patience >= opt.early_stop_patience) {
      result.early_stopped = true;
      message(MessageLevel::Info, "early stop after epoch " + std::to_string(epoch) + ": no validation mAP gain for " +
                                      std::to_string(patience) + " epochs (best " + fmt(best_map) + " at epoch " +
                                      std::to_string(best_epoch) + ")");
      break;
    }
  }

  result.best_val_map = best_map;
  result.best_epoch = best_epoch;
  if (result.best_checkpoint.empty() && !opt.checkpoint_dir.empty() && best_epoch > 0 &&
      std::filesystem::exists(bestCheckpointPath(opt.checkpoint_dir)))
    result.best_checkpoint = bestCheckpointPath(opt.checkpoint_dir);
  // Hand back the best weights: what predict(), evaluate() and the caller's model() should use.
  if (!best_state.empty()) copyState(*model, best_state);
}

void Trainer::Impl::fitLinear(BatchSource& train, BatchSource* val, int epochs, double lr) {
  checkSource(train, "training");
  if (val) checkSource(*val, "validation");
  requireEstimatorIfNeeded();
  if (epochs < 1) throw TrainingError("the linear phase needs at least one epoch");
  if (!(lr >= 0.0) || !std::isfinite(lr)) throw TrainingError("the linear phase needs a finite learning rate >= 0");
  if (train.size() <= 0) throw TrainingError("the training features are empty");
  {
    // Probe the head once so a model without a linear head fails with a clear message, before training.
    torch::NoGradGuard no_grad;
    try {
      model->headFromPooled(torch::zeros({1, model->pooledDim()}, torch::TensorOptions().device(device)));
    } catch (const std::logic_error& e) {
      throw TrainingError(std::string("the linear phase needs a model with a linear head: ") + e.what());
    }
  }

  torch::manual_seed(opt.seed);
  // Only the head (and ROLE's estimator) is in the optimizer: the backbone cannot change.
  try {
    optimizer = std::make_unique<GroupedOptimizer>(opt.optimizer, parameterGroups(true), lr);
  } catch (const std::invalid_argument& e) {
    throw TrainingError(e.what());
  }
  int64_t linear_steps = 0;
  auto lr_at = [lr](int64_t) { return lr; };
  auto beta1_at = [](int64_t) -> std::optional<double> { return std::nullopt; };
  const Forward forward = linearForward();

  train.startEpoch(0);
  std::optional<Batch> first = train.next();
  if (!first || first->images.size(0) == 0) throw TrainingError("the training features yielded no batch");
  if (first->images.dim() != 2 || first->images.size(1) != model->pooledDim())
    throw TrainingError("the linear phase needs (B," + std::to_string(model->pooledDim()) +
                        ") pooled features, got " + c10::str(first->images.sizes()));
  const int64_t steps_per_epoch = ceilDiv(train.size(), first->images.size(0));
  ProgressMeter progress;
  progress.start(0, epochs * steps_per_epoch);
  message(MessageLevel::Info, "linear phase: " + std::to_string(epochs) + " epochs on cached features, " +
                                  opt.optimizer + " lr " + fmt(lr, 6) + ", loss " + lossName(opt.loss.kind));

  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    torch::manual_seed(epochSeed(opt.seed ^ 0x4C494E454152ULL, epoch));  // "LINEAR": apart from fit()'s epochs
    if (epoch != 1) train.startEpoch(epoch - 1);
    model->train();
    EpochContext ctx{train, forward, epoch, steps_per_epoch, &linear_steps, lr_at, beta1_at, false, false,
                     &progress, epochs};
    const auto stats = runEpoch(ctx, std::move(first));
    first.reset();
    if (stats.cancelled) {
      message(MessageLevel::Info, "linear phase cancelled during epoch " + std::to_string(epoch));
      return;
    }
    if (stats.batches == 0) throw TrainingError("linear epoch " + std::to_string(epoch) + " yielded no batch");
    EpochInfo info;
    info.epoch = epoch;
    info.train_loss = stats.loss_sum / static_cast<double>(stats.batches);
    if (val) {
      const auto scored = score(*val, forward, true);
      if (scored.cancelled) return;
      info.metrics = metricsOf(scored);
      info.val_map_raw = info.val_map = info.metrics.map;
    }
    info.seconds = secondsSince(epoch_start);
    if (observer) observer->onEpoch(info);
    emitProgress(ctx, stats.batches);
    message(MessageLevel::Info, "linear epoch " + std::to_string(epoch) + "/" + std::to_string(epochs) + ": loss " +
                                    fmt(info.train_loss, 4) + (val ? ", val mAP " + fmt(info.val_map) : std::string()));
  }
}

void Trainer::Impl::resume(const std::string& path) {
  torch::serialize::InputArchive root;
  try {
    root.load_from(path, device);
  } catch (const c10::Error& e) {
    throw TrainingError("cannot read checkpoint '" + path + "': " + e.what_without_backtrace());
  }
  c10::IValue value;
  if (!root.try_read(ckpt::kFormat, value) || !value.isString() || value.toStringRef() != ckpt::kTrainingFormat)
    throw TrainingError("'" + path + "' is not a training checkpoint (best.pt holds weights only; resume from an epoch_NNN.pt)");
  auto readInt = [&](const char* key) -> int64_t {
    c10::IValue v;
    if (!root.try_read(key, v) || !v.isInt()) throw TrainingError("checkpoint '" + path + "' lacks '" + key + "'");
    return v.toInt();
  };
  auto readDouble = [&](const char* key) -> double {
    c10::IValue v;
    if (!root.try_read(key, v) || !v.isDouble()) throw TrainingError("checkpoint '" + path + "' lacks '" + key + "'");
    return v.toDouble();
  };
  try {
    torch::serialize::InputArchive weights;
    if (!root.try_read(ckpt::kModel, weights)) throw TrainingError("checkpoint '" + path + "' holds no model weights");
    loadStateFromArchive(*model, weights);

    torch::serialize::InputArchive averaged;
    const bool has_ema = root.try_read(ckpt::kEmaModel, averaged);
    if (opt.ema_decay > 0) {
      ema = std::make_unique<ModelEma>(*model, opt.ema_decay);
      if (has_ema) ema->load(readStateFromArchive(*model, averaged));
      else message(MessageLevel::Warning, "the checkpoint has no EMA weights; the average restarts from the model");
    } else {
      ema.reset();
    }

    torch::serialize::InputArchive est;
    if (root.try_read(ckpt::kEstimator, est)) {
      torch::Tensor logits;
      est.read("logits", logits);
      if (estimator) loadEstimatorLogits(logits);
      else pending_estimator_logits = logits;
    }

    completed_epochs = static_cast<int>(readInt(ckpt::kEpoch));
    global_step = readInt(ckpt::kGlobalStep);
    optimizer_step = readInt(ckpt::kOptimizerStep);
    best_map = readDouble(ckpt::kBestMap);
    best_epoch = static_cast<int>(readInt(ckpt::kBestEpoch));
    patience = static_cast<int>(readInt(ckpt::kPatience));
    scaler.setState(readDouble(ckpt::kScalerScale), readInt(ckpt::kScalerTracker));
    torch::Tensor rng;
    if (root.try_read(ckpt::kRngState, rng, /*is_buffer=*/true)) {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(rng.to(torch::kCPU));
    }

    // best.pt beside the checkpoint is the in-memory "best weights" if it belongs to the same best epoch
    // (a later run may have replaced it).
    best_state.clear();
    const auto best_path = bestCheckpointPath(std::filesystem::path(path).parent_path().string());
    if (best_epoch > 0 && std::filesystem::exists(best_path)) {
      torch::serialize::InputArchive best;
      best.load_from(best_path, torch::Device(torch::kCPU));
      c10::IValue epoch_value;
      torch::serialize::InputArchive best_weights;
      if (best.try_read(ckpt::kEpoch, epoch_value) && epoch_value.isInt() && epoch_value.toInt() == best_epoch &&
          best.try_read(ckpt::kModel, best_weights))
        best_state = readStateFromArchive(*model, best_weights);
    }
  } catch (const TrainingError&) {
    throw;
  } catch (const c10::Error& e) {
    throw TrainingError("cannot restore checkpoint '" + path + "': " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw TrainingError("checkpoint '" + path + "' does not fit this model: " + e.what());
  }
  resume_path = path;
  message(MessageLevel::Info, "resuming from '" + path + "' after epoch " + std::to_string(completed_epochs));
}

// ---- public API -----------------------------------------------------------------------------------------

Trainer::Trainer(std::shared_ptr<MultiLabelModel> model, TrainerOptions options, TrainObserver* observer)
    : impl_(std::make_unique<Impl>()) {
  auto& d = *impl_;
  if (!model) throw TrainingError("the trainer needs a model");
  d.model = std::move(model);
  d.opt = std::move(options);
  d.observer = observer;
  d.validateOptions();
  try {
    d.device = resolveDevice(d.opt.device);
  } catch (const std::invalid_argument& e) {
    throw TrainingError(e.what());
  }
  d.amp_active = d.opt.amp && d.device.is_cuda();
  d.amp_dtype = d.opt.amp_dtype == "bf16" ? c10::ScalarType::BFloat16 : c10::ScalarType::Half;
  // Only float16 needs loss scaling: bfloat16 has float32's exponent range.
  d.scaler = GradScaler(d.amp_active && d.amp_dtype == c10::ScalarType::Half);
  d.model->to(d.device);
}

Trainer::~Trainer() = default;

void Trainer::setObservedLabels(const torch::Tensor& observed) {
  auto& d = *impl_;
  if (!lossNeedsEstimator(d.opt.loss.kind)) return;
  if (!observed.defined() || observed.dim() != 2 || observed.size(1) != d.model->numClasses())
    throw TrainingError("observed labels must be an (N, " + std::to_string(d.model->numClasses()) + ") tensor");
  d.estimator = LabelEstimator(observed, d.opt.seed);
  d.estimator->to(d.device);
  if (d.pending_estimator_logits.defined()) {
    d.loadEstimatorLogits(d.pending_estimator_logits);
    d.pending_estimator_logits = torch::Tensor();
  }
}

void Trainer::fitLinear(BatchSource& train_features, BatchSource* val_features, int epochs, double lr) {
  try {
    impl_->fitLinear(train_features, val_features, epochs, lr);
  } catch (const c10::Error& e) {
    throw impl_->translate(e);
  } catch (const std::invalid_argument& e) {
    throw TrainingError(std::string("linear phase stopped: ") + e.what());
  }
}

TrainResult Trainer::fit(BatchSource& train, BatchSource* val) {
  const auto start = Clock::now();
  TrainResult result;
  try {
    impl_->fit(train, val, result);
  } catch (const c10::Error& e) {
    throw impl_->translate(e);
  } catch (const std::invalid_argument& e) {
    throw TrainingError(std::string("training stopped: ") + e.what());
  }
  result.seconds = secondsSince(start);
  return result;
}

void Trainer::resumeFrom(const std::string& checkpoint_path) { impl_->resume(checkpoint_path); }

void Trainer::requestCancel() { impl_->cancel.store(true); }

bool Trainer::cancelRequested() const { return impl_->cancel.load(); }

std::pair<torch::Tensor, torch::Tensor> Trainer::predict(BatchSource& source) {
  try {
    auto scored = impl_->score(source, impl_->fullForward(), false);
    return {scored.scores, scored.indices};
  } catch (const c10::Error& e) {
    throw impl_->translate(e);
  }
}

MultiLabelMetrics Trainer::evaluate(BatchSource& source) {
  try {
    return metricsOf(impl_->score(source, impl_->fullForward(), false));
  } catch (const c10::Error& e) {
    throw impl_->translate(e);
  }
}

torch::Tensor Trainer::labelEstimates() const {
  return impl_->estimator ? impl_->estimator->estimates().to(torch::kCPU) : torch::Tensor();
}

std::vector<ParamGroupInfo> Trainer::parameterGroups() const {
  return impl_->optimizer ? impl_->optimizer->info() : std::vector<ParamGroupInfo>{};
}

MultiLabelModel& Trainer::model() { return *impl_->model; }

const TrainerOptions& Trainer::options() const { return impl_->opt; }

}  // namespace mls
