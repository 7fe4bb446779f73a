// Trainer checkpoints: per-epoch and best-weights files (written atomically; by rank 0 only when data-parallel),
// the linear phase's in-memory best, and restoring a run from a checkpoint (every rank loads the same file).
#include <torch/torch.h>

#include "ml/training/trainer_impl.h"

namespace mls {

void Trainer::Impl::writeBest(int epoch, double val_map, bool ema_won, TrainResult& result) {
  if (opt.checkpoint_dir.empty() || !writer()) return;  // replicas: rank 0 writes for all
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
    // eval, predict and export read the best weights: without them the run is not usable.
    throw TrainingError("could not save the checkpoint of the best weights (epoch " + std::to_string(epoch) +
                        "): " + e.what());
  }
}

std::string Trainer::Impl::writeEpochCheckpoint(int epoch, double val_map, bool ema_won) {
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
  root.write(ckpt::kLinearEpochs, c10::IValue(static_cast<int64_t>(linear_epochs)));
  root.write(ckpt::kGlobalStep, c10::IValue(global_step));
  root.write(ckpt::kOptimizerStep, c10::IValue(optimizer_step));
  root.write(ckpt::kBestMap, c10::IValue(history.best_map));
  root.write(ckpt::kBestEpoch, c10::IValue(static_cast<int64_t>(history.best_epoch)));
  root.write(ckpt::kBestRawMap, c10::IValue(history.best_raw_map));
  root.write(ckpt::kBestRawEpoch, c10::IValue(static_cast<int64_t>(history.best_raw_epoch)));
  root.write(ckpt::kBestEmaMap, c10::IValue(history.best_ema_map));
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
  return path;
}

// The linear phase's best epoch, kept in memory (head and estimator are small).
void Trainer::Impl::LinearBest::keep(Impl& impl, int run_epoch, double val_map) {
  torch::NoGradGuard no_grad;
  epoch = run_epoch;
  map = val_map;
  head.clear();
  for (const auto& p : impl.model->headParameters()) head.push_back(p.detach().clone());
  estimator_logits = impl.estimator ? impl.estimator->logits.detach().clone() : torch::Tensor();
}

void Trainer::Impl::LinearBest::restore(Impl& impl) const {
  torch::NoGradGuard no_grad;
  auto params = impl.model->headParameters();
  for (size_t i = 0; i < params.size() && i < head.size(); ++i) params[i].copy_(head[i]);
  if (impl.estimator && estimator_logits.defined()) impl.estimator->logits.copy_(estimator_logits);
}

void Trainer::Impl::pruneEpochCheckpoints(int newest_epoch) {
  const int oldest_kept = newest_epoch - opt.keep_last_checkpoints + 1;
  if (opt.keep_last_checkpoints <= 0 || oldest_kept <= 1) return;
  // Every older epoch file down to the first gap, not only the one that just fell out: a resume from an
  // older checkpoint or a kill between saving and pruning can leave more behind. The observer hears of
  // each file removed, so the run's record never lists one that is gone.
  for (int epoch = oldest_kept - 1; epoch >= 1; --epoch) {
    const auto path = epochCheckpointPath(opt.checkpoint_dir, epoch);
    std::error_code ec;
    if (!std::filesystem::remove(path, ec)) break;
    if (observer) observer->onCheckpointRemoved(epoch, path);
  }
}

void Trainer::Impl::restoreOptimizerState() {
  if (!pending_optimizer) {
    message(MessageLevel::Warning, "the checkpoint has no optimizer state; the optimizer starts fresh");
    return;
  }
  try {
    optimizer->load(*pending_optimizer);
  } catch (const c10::Error& e) {
    throw TrainingError("the optimizer state in '" + resume_path +
                        "' does not match this model and loss (" + e.what_without_backtrace() + ")");
  }
}

void Trainer::Impl::loadEstimatorLogits(const torch::Tensor& logits) {
  if (logits.sizes() != estimator->logits.sizes())
    throw TrainingError("the checkpoint's label estimator is " + c10::str(logits.sizes()) +
                        " but the observed labels are " + c10::str(estimator->logits.sizes()));
  torch::NoGradGuard no_grad;
  estimator->logits.copy_(logits);
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

    // Checkpoints from before the run numbering have no linear-phase count: their epochs are fit()'s.
    auto readOptional = [&](const char* key, c10::IValue fallback) {
      c10::IValue v;
      return root.try_read(key, v) && (v.isInt() || v.isDouble()) ? v : fallback;
    };
    const int run_epoch = static_cast<int>(readInt(ckpt::kEpoch));
    linear_epochs = static_cast<int>(readOptional(ckpt::kLinearEpochs, c10::IValue(int64_t{0})).toInt());
    if (linear_epochs < 0 || linear_epochs > run_epoch)
      throw TrainingError("checkpoint '" + path + "' has an inconsistent epoch count");
    completed_epochs = run_epoch - linear_epochs;
    global_step = readInt(ckpt::kGlobalStep);
    optimizer_step = readInt(ckpt::kOptimizerStep);
    history = ValidationHistory{};
    history.best_map = readDouble(ckpt::kBestMap);
    history.best_epoch = static_cast<int>(readInt(ckpt::kBestEpoch));
    history.best_raw_map = readOptional(ckpt::kBestRawMap, c10::IValue(kNaN)).toDouble();
    history.best_raw_epoch =
        static_cast<int>(readOptional(ckpt::kBestRawEpoch, c10::IValue(int64_t{history.best_epoch})).toInt());
    history.best_ema_map = readOptional(ckpt::kBestEmaMap, c10::IValue(kNaN)).toDouble();
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
    if (history.best_epoch > 0 && std::filesystem::exists(best_path)) {
      torch::serialize::InputArchive best;
      best.load_from(best_path, torch::Device(torch::kCPU));
      c10::IValue epoch_value;
      torch::serialize::InputArchive best_weights;
      if (best.try_read(ckpt::kEpoch, epoch_value) && epoch_value.isInt() && epoch_value.toInt() == history.best_epoch &&
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
  // The optimizer exists only once fit() knows its groups: keep its part of the archive until then rather
  // than reading the (GB-sized) checkpoint a second time.
  pending_optimizer.reset();
  torch::serialize::InputArchive optimizer_state;
  if (root.try_read(ckpt::kOptimizer, optimizer_state)) pending_optimizer = std::move(optimizer_state);
  resume_path = path;
  const int run_epoch = linear_epochs + completed_epochs;
  message(MessageLevel::Info, "resuming from '" + path + "' after epoch " + std::to_string(run_epoch));
  // Whatever was recorded past this point (a partial epoch before a kill or Ctrl-C) is trained again.
  if (observer) observer->onResumed(run_epoch, global_step);
}

}  // namespace mls
