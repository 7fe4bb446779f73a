#include "ml/training/trainer_impl.h"

namespace mls {

void Trainer::Impl::fit(BatchSource& train, BatchSource* val, TrainResult& result) {
  checkSources(train, val);
  if (train.size() <= 0) throw TrainingError("the training set is empty");
  if (completed_epochs >= opt.epochs) {
    message(MessageLevel::Info, "all " + std::to_string(linear_epochs + opt.epochs) + " epochs are already done");
    result.best_val_map = history.best_map;
    result.best_epoch = history.best_epoch;
    return;
  }
  if (opt.amp && !device.is_cuda()) message(MessageLevel::Info, "mixed precision needs CUDA; training in float32 on the CPU");

  torch::manual_seed(opt.seed);
  // Rank 0's weights everywhere before anything copies them (the EMA's shadow starts from the model).
  attachReplicas(/*head_only=*/false, train);
  if (opt.ema_decay > 0 && !ema) ema = std::make_unique<ModelEma>(*model, opt.ema_decay);
  makeOptimizer(/*head_only=*/false, opt.lr);
  if (!resume_path.empty()) {
    restoreOptimizerState();
    resume_path.clear();
    pending_optimizer.reset();
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
  // Checkpoints are taken at epoch ends, so the schedule resumes after completed epochs x this run's updates
  // per epoch, which depend on the shard length and batch: a checkpoint of 4 ranks resumes in 1 and back.
  const int64_t schedule_position = completed_epochs * updates_per_epoch;
  if (completed_epochs > 0 && schedule_position != optimizer_step)
    message(MessageLevel::Info, "the checkpoint counted " + std::to_string(optimizer_step) +
                                    " optimizer updates (another batch size or number of ranks); the schedule "
                                    "continues at update " + std::to_string(schedule_position) + " of this run");
  optimizer_step = schedule_position;

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
  const int run_epochs = linear_epochs + opt.epochs;
  message(MessageLevel::Info,
          std::string(completed_epochs > 0 ? "resuming" : "training") + " on " + describeDevice(opt.device) +
              (replicas ? " x " + std::to_string(replicas->worldSize()) + " ranks (per rank)" : std::string()) + ": " +
              std::to_string(train.size()) + " samples, " + std::to_string(steps_per_epoch) +
              " steps per epoch, epochs " + std::to_string(linear_epochs + first_epoch) + "-" +
              std::to_string(run_epochs) + ", " +
              opt.optimizer + " lr " + fmt(opt.lr, 6) + " (" + opt.schedule + "), loss " + lossName(opt.loss.kind) +
              (ema ? ", EMA " + fmt(ema->decay(), 5) : std::string()) +
              (amp_active ? ", mixed precision " + opt.amp_dtype : std::string()));

  const Forward forward = fullForward();
  int64_t skipped_reported = train.skippedSamples();
  // `epoch` numbers fit()'s epochs (seeds, shuffles, the schedule: what a resume must replay); `run_epoch`
  // is what everyone else sees.
  for (int epoch = first_epoch; epoch <= opt.epochs; ++epoch) {
    const int run_epoch = linear_epochs + epoch;
    const auto epoch_start = Clock::now();
    if (epoch != first_epoch) {
      torch::manual_seed(epochSeed(opt.seed, epoch));
      train.startEpoch(epoch - 1);
    }
    model->train();
    EpochContext ctx{train,  forward,   run_epoch, steps_per_epoch, &optimizer_step, lr_at,
                     beta1_at, amp_active, true,      &progress,       run_epochs};
    const auto stats = runEpoch(ctx, std::move(first));
    first.reset();
    if (stats.cancelled) {
      result.cancelled = true;
      message(MessageLevel::Info, "training cancelled during epoch " + std::to_string(run_epoch) +
                                      (epoch > 1 ? "; the checkpoint of epoch " + std::to_string(run_epoch - 1) + " is kept" : ""));
      break;
    }
    if (stats.batches == 0) throw TrainingError("epoch " + std::to_string(run_epoch) + " yielded no batch");

    if (train.skippedSamples() > skipped_reported) {
      skipped_reported = train.skippedSamples();
      message(MessageLevel::Warning, std::to_string(skipped_reported) +
                                         " training images could not be read and were skipped so far");
    }

    EpochInfo info;
    info.epoch = run_epoch;
    info.train_loss = stats.loss_sum / static_cast<double>(stats.batches);
    EpochVerdict verdict;
    if (val) {
      const auto v = validate(*val);
      if (v.cancelled) {
        result.cancelled = true;
        message(MessageLevel::Info, "training cancelled while validating epoch " + std::to_string(run_epoch));
        break;
      }
      verdict = recordValidation(history, run_epoch, v.map_raw, v.map_ema, opt.early_stop_patience);
      info.val_map_raw = v.map_raw;
      info.val_map_ema = v.map_ema;
      info.val_map = verdict.ema_won ? v.map_ema : v.map_raw;
      info.metrics = verdict.ema_won ? v.averaged : v.raw;
    } else {
      // Nothing to compare: the latest weights are the ones to keep, and nothing stops early.
      verdict.improved = true;
      history.best_epoch = run_epoch;
    }
    info.improved = verdict.improved;
    const bool ema_won = verdict.ema_won;

    completed_epochs = epoch;
    if (info.improved) {
      // Kept on the CPU: a second full copy of a large model on the GPU would cost batch size.
      best_state = ema_won ? cloneTensors(ema->state(), torch::Device(torch::kCPU))
                           : cloneState(*model, torch::Device(torch::kCPU));
      writeBest(run_epoch, info.val_map, ema_won, result);
    }
    ++result.epochs_run;
    result.final_val_map = info.val_map;
    info.seconds = secondsSince(epoch_start);
    if (observer) observer->onEpoch(info);

    if (!opt.checkpoint_dir.empty() && writer()) {
      try {
        const auto path = writeEpochCheckpoint(run_epoch, info.val_map, ema_won);
        if (observer) observer->onCheckpoint(run_epoch, path, info.val_map);
        // After the new one is recorded: an interruption in between leaves a file too many, never too few.
        pruneEpochCheckpoints(run_epoch);
      } catch (const std::exception& e) {
        // A run whose checkpoints cannot be kept (or recorded) cannot be resumed or exported: stop and fail it.
        throw TrainingError(std::string("could not save the checkpoint of epoch ") + std::to_string(run_epoch) + ": " +
                            e.what());
      }
    }
    emitProgress(ctx, stats.batches);

    if (verdict.stop) {
      result.early_stopped = true;
      message(MessageLevel::Info, "early stop after epoch " + std::to_string(run_epoch) + ": more than " +
                                      std::to_string(opt.early_stop_patience) +
                                      " epochs without a better validation mAP and no EMA gain (best " +
                                      fmt(history.best_map) + " at epoch " + std::to_string(history.best_epoch) + ")");
      break;
    }
  }

  result.best_val_map = history.best_map;
  result.best_epoch = history.best_epoch;
  if (result.best_checkpoint.empty() && !opt.checkpoint_dir.empty() && writer() && history.best_epoch > 0 &&
      std::filesystem::exists(bestCheckpointPath(opt.checkpoint_dir)))
    result.best_checkpoint = bestCheckpointPath(opt.checkpoint_dir);
  // Hand back the best weights: what predict(), evaluate() and the caller's model() should use.
  if (!best_state.empty()) copyState(*model, best_state);
}

void Trainer::Impl::fitLinear(BatchSource& train, BatchSource* val, int epochs, double lr) {
  checkSources(train, val);
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

  if (completed_epochs > 0) throw TrainingError("the linear phase comes before end-to-end training, not after it");

  torch::manual_seed(opt.seed);
  // Only the head (and ROLE's estimator) is in the optimizer: the backbone cannot change.
  makeOptimizer(/*head_only=*/true, lr);
  attachReplicas(/*head_only=*/true, train);
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

  // The MLSPL code keeps the classifier and the label estimator of the best validation epoch and fine-tunes
  // from those (train.py: best_weights_f / best_weights_g, "Reverting model to best weights"). Head and
  // estimator are small next to the backbone: copies on the device.
  LinearBest best;
  const int base = linear_epochs;  // run epochs before this phase
  int done = 0;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const int run_epoch = base + epoch;
    const auto epoch_start = Clock::now();
    torch::manual_seed(epochSeed(opt.seed ^ 0x4C494E454152ULL, epoch));  // "LINEAR": apart from fit()'s epochs
    if (epoch != 1) train.startEpoch(epoch - 1);
    model->train();
    EpochContext ctx{train, forward, run_epoch, steps_per_epoch, &linear_steps, lr_at, beta1_at, false, false,
                     &progress, base + epochs + opt.epochs};
    const auto stats = runEpoch(ctx, std::move(first));
    first.reset();
    if (stats.cancelled) {
      message(MessageLevel::Info, "linear phase cancelled during epoch " + std::to_string(run_epoch));
      break;
    }
    if (stats.batches == 0) throw TrainingError("linear epoch " + std::to_string(epoch) + " yielded no batch");
    EpochInfo info;
    info.epoch = run_epoch;
    info.train_loss = stats.loss_sum / static_cast<double>(stats.batches);
    if (val) {
      if (replicas) replicas->beforeForward();
      const auto scored = score(*val, forward, true, replicas != nullptr);
      if (scored.cancelled) break;
      info.metrics = metricsOf(scored);
      info.val_map_raw = info.val_map = info.metrics.map;
      info.improved = isBetter(info.val_map, best.map);
      if (info.improved) best.keep(*this, run_epoch, info.val_map);
    }
    ++done;
    linear_epochs = base + done;
    info.seconds = secondsSince(epoch_start);
    if (observer) observer->onEpoch(info);
    emitProgress(ctx, stats.batches);
    message(MessageLevel::Info, "linear epoch " + std::to_string(epoch) + "/" + std::to_string(epochs) + ": loss " +
                                    fmt(info.train_loss, 4) + (val ? ", val mAP " + fmt(info.val_map) : std::string()));
  }
  if (best.epoch > 0 && best.epoch != base + done) {
    best.restore(*this);
    message(MessageLevel::Info, "linear phase: continuing from epoch " + std::to_string(best.epoch) +
                                    ", the best on validation (val mAP " + fmt(best.map) + ")");
  }
}

// ---- public API -----------------------------------------------------------------------------------------

Trainer::Trainer(std::shared_ptr<MultiLabelModel> model, TrainerOptions options, TrainObserver* observer,
                 CancelToken cancel)
    : impl_(std::make_unique<Impl>()) {
  auto& d = *impl_;
  if (!model) throw TrainingError("the trainer needs a model");
  d.model = std::move(model);
  d.opt = std::move(options);
  d.observer = observer;
  d.cancel = std::move(cancel);
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
  if (d.opt.channels_last) convertToChannelsLast(*d.model);
  if (!d.model->backbone().setActivationCheckpointing(d.opt.checkpoint_backbone))
    d.message(MessageLevel::Warning, "this backbone does not support activation checkpointing; training without it");
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

void Trainer::setReplicas(std::shared_ptr<ReplicaGroup> replicas) {
  impl_->replicas = replicas && replicas->worldSize() > 1 ? std::move(replicas) : nullptr;
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
