// The trainer's epoch loop, optimizer step and validation scoring, for one process or data-parallel over a
// ReplicaGroup with torch DistributedDataParallel's semantics: gradients averaged over the ranks before every
// optimizer update (only on the last micro-batch of an accumulation group), every rank taking the same
// decisions (stop, skip an AMP step, NaN) at the same step, validation scored on shards and gathered.
#include <torch/torch.h>

#include "ml/training/trainer_impl.h"

namespace mls {

void Trainer::Impl::optimizerStep(EpochContext& ctx, GradScaler& step_scaler) {
  const int64_t s = *ctx.optimizer_steps;
  optimizer->setLearningRate(ctx.lr_at(s), ctx.beta1_at(s));
  bool finite = step_scaler.unscale(optimizer->parameters());
  // The averaged gradients are the same everywhere, but a rank's own backward may have overflowed before the
  // all-reduce: every rank skips the step when any found inf/NaN (torch.cuda.amp with DDP does the same).
  if (replicas && step_scaler.enabled()) finite = !replicas->anyRank(!finite, "AMP found-inf agreement");
  if (finite && opt.max_grad_norm > 0) torch::nn::utils::clip_grad_norm_(optimizer->parameters(), opt.max_grad_norm);
  if (finite) optimizer->step();
  step_scaler.update(finite);
  optimizer->zeroGrad();
  if (ema && ctx.update_ema) {
    // Same averaged gradients, same update: the weights, hence their EMA, are identical on every rank. The
    // buffers (BatchNorm running statistics, updated from each rank's own batch) are made rank 0's first,
    // so the average is identical too.
    if (replicas) replicas->beforeForward();
    ema->update(*model);
  }
  ++*ctx.optimizer_steps;
}

Trainer::Impl::EpochStats Trainer::Impl::runEpoch(EpochContext& ctx, std::optional<Batch> first) {
  EpochStats stats;
  GradScaler no_scaling(false);
  GradScaler& step_scaler = ctx.use_amp ? scaler : no_scaling;
  const int accum = opt.grad_accum;
  int pending = 0;  // batches accumulated since the last optimizer step
  current_epoch = ctx.epoch;
  optimizer->zeroGrad();
  // Replicas average the gradients on the last micro-batch of a group, which at the epoch's end may be a
  // partial group: with accumulation the loop looks one batch ahead to know.
  const bool look_ahead = replicas && accum > 1;
  std::optional<Batch> ahead;
  bool exhausted = false;
  auto fetch = [&]() -> std::optional<Batch> {
    if (first) return std::exchange(first, std::nullopt);
    if (ahead) return std::exchange(ahead, std::nullopt);
    if (exhausted) return std::nullopt;
    auto b = ctx.source.next();
    if (!b) exhausted = true;
    return b;
  };
  for (;;) {
    // One process stops before the next batch; replicas agree after each step instead (below), so that all
    // stop at the same one whenever each was asked.
    if (!replicas && cancel.requested()) {
      stats.cancelled = true;
      break;
    }
    PhaseClock clock(opt.profile_steps, device);
    StepInfo::Phases phases;
    std::optional<Batch> batch = fetch();
    if (!batch) break;
    bool sync = true;
    if (look_ahead && pending + 1 < accum) {
      ahead = fetch();
      sync = !ahead;
    }
    current_step = ++stats.batches;
    ++global_step;
    phases.data = clock.lap();

    const auto images = toDevice(batch->images);
    const auto targets = batch->targets.to(device, /*non_blocking=*/true);
    phases.transfer = clock.lap();
    if (replicas) replicas->beforeForward();
    torch::Tensor logits;
    {
      AutocastGuard autocast(ctx.use_amp, amp_dtype);
      logits = ctx.forward(images);
    }
    const auto estimator_logits = estimator ? estimator->forward(batch->indices) : torch::Tensor();
    const auto loss = multiLabelLoss(opt.loss, logits.to(torch::kFloat), targets, estimator_logits);
    phases.forward = clock.lap();
    // Backward is queued before the loss is read: reading it waits for the device, and waiting before
    // the backward launches would leave the GPU idle meanwhile. The optimizer step comes after the check,
    // so a NaN never reaches the weights.
    const auto scaled = step_scaler.scale(accum > 1 ? loss / static_cast<double>(accum) : loss);
    if (replicas) replicas->backward(scaled, sync);
    else scaled.backward();
    double loss_value = loss.item<double>();
    // NaN/Inf: all ranks fail together, naming where it happened.
    std::string nonfinite;
    if (!std::isfinite(loss_value)) nonfinite = std::isnan(loss_value) ? "NaN" : "infinite";
    if (replicas) {
      const auto agreed = agreeOnStep(*replicas, loss_value, cancel.requested());
      if (!agreed.nonfinite_ranks.empty()) {
        nonfinite = (nonfinite.empty() ? std::string("NaN or infinite") : nonfinite) + " on rank " + agreed.nonfinite_ranks;
      } else if (agreed.cancel) {
        stats.cancelled = true;  // this step's gradients are dropped with the rest of the epoch
        break;
      } else {
        loss_value = agreed.mean_loss;
      }
    }
    if (!nonfinite.empty())
      throw TrainingError("loss became " + nonfinite + " at epoch " + std::to_string(ctx.epoch) + " step " +
                          std::to_string(stats.batches) + "; " + nanAdvice(ctx.use_amp));
    phases.backward = clock.lap();
    const double lr_used = ctx.lr_at(*ctx.optimizer_steps);
    if (++pending == accum) {
      optimizerStep(ctx, step_scaler);
      pending = 0;
    }
    phases.optimizer = clock.lap();
    stats.loss_sum += loss_value;

    if (observer) {
      observer->onStep({ctx.epoch, stats.batches, global_step, ctx.steps_per_epoch, loss_value, lr_used, phases});
      ctx.progress->stepDone();
      if (ctx.progress->due()) emitProgress(ctx, stats.batches);
    }
  }
  // Flush a partial accumulation so no gradient crosses an epoch boundary (keeps resume exact). Replicas
  // averaged it on its last micro-batch.
  if (!stats.cancelled && pending > 0) optimizerStep(ctx, step_scaler);
  return stats;
}

trainer_detail::Scored Trainer::Impl::score(BatchSource& source, const Forward& forward, bool honour_cancel,
                                            bool distributed) {
  ReplicaGroup* group = distributed ? replicas.get() : nullptr;
  TrainModeGuard eval_mode(*model, false);
  torch::NoGradGuard no_grad;
  const ValidationShard shard(group, source);
  Scored out;
  std::vector<torch::Tensor> scores, targets, indices;
  source.startEpoch(0);
  while (auto batch = source.next()) {
    bool stop = honour_cancel && cancel.requested();
    // Shards are equally long, so every rank asks as often.
    if (group && honour_cancel) stop = group->anyRank(stop, "validation cancellation");
    if (stop) {
      out.cancelled = true;
      return out;
    }
    torch::Tensor logits;
    {
      AutocastGuard autocast(amp_active, amp_dtype);
      logits = forward(toDevice(batch->images));
    }
    scores.push_back(torch::sigmoid(logits.to(torch::kFloat)).to(torch::kCPU));
    targets.push_back(batch->targets.to(torch::kCPU, torch::kFloat));
    indices.push_back(batch->indices.to(torch::kCPU, torch::kLong));
  }
  const int64_t k = model->numClasses();
  out.scores = scores.empty() ? torch::empty({0, k}) : torch::cat(scores);
  out.targets = targets.empty() ? torch::empty({0, k}) : torch::cat(targets);
  out.indices = indices.empty() ? torch::empty({0}, torch::kLong) : torch::cat(indices);
  // A sample's score does not depend on the rest of its batch (eval mode), so the gathered scores are the
  // single-process ones bit for bit, and so are the metrics, best epoch and early stopping on every rank.
  if (group) gatherInSourceOrder(*group, shard.datasetSize(), out.scores, out.targets, out.indices);
  return out;
}

Trainer::Impl::Validation Trainer::Impl::validate(BatchSource& val) {
  Validation v;
  const bool distributed = replicas != nullptr;
  // Rank 0's BatchNorm statistics everywhere, so all ranks score with one model (DDP's broadcast_buffers).
  if (distributed) replicas->beforeForward();
  const auto raw = score(val, fullForward(), true, distributed);
  if (raw.cancelled) return Validation{kNaN, kNaN, {}, {}, true};
  v.raw = metricsOf(raw);
  v.map_raw = v.raw.map;
  if (ema) {
    ema->swapWith(*model);  // no copy of the weights: the model holds the average while scoring
    Scored averaged;
    try {
      averaged = score(val, fullForward(), true, distributed);
    } catch (...) {
      ema->swapWith(*model);
      throw;
    }
    ema->swapWith(*model);
    if (averaged.cancelled) return Validation{kNaN, kNaN, {}, {}, true};
    v.averaged = metricsOf(averaged);
    v.map_ema = v.averaged.map;
  }
  return v;
}

void Trainer::Impl::attachReplicas(bool head_only, BatchSource& train) {
  if (!replicas) return;
  shardForReplicas(train, *replicas, "training");
  const auto extra = estimator ? estimator->logits : torch::Tensor();
  if (head_only) {
    // The backbone is not in the linear phase's graph: the head (and the estimator) only.
    replicas->attach(synchronisedParameters(model->headParameters(), extra), {});
  } else {
    replicas->attach(synchronisedParameters(model->parameters(), extra), model->buffers());
  }
}

}  // namespace mls
