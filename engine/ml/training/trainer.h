// The training loop shared by the GUI worker and the CLI: Query2Label (full labels, ASL), the MLSPL
// single-positive losses (AN, EPR, ROLE with its label estimator), the MLSPL "LinearInit" phase on cached
// features, OneCycle / constant learning rates, EMA weights, mixed precision on CUDA, gradient
// accumulation, early stopping, checkpoints with exact resume, and cancellation at batch boundaries.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "ml/batch_source.h"
#include "ml/cancel_token.h"
#include "ml/metrics.h"
#include "ml/training/checkpoint_io.h"
#include "ml/training/training_types.h"

namespace mls {

class MultiLabelModel;
class ReplicaGroup;

class Trainer {
 public:
  // Moves the model to options.device. Throws TrainingError for a bad configuration (unknown optimizer,
  // schedule or AMP dtype, epochs < 1, grad_accum < 1, EMA decay outside [0,1), unavailable device).
  // `cancel` is honoured before every batch (training and validation): the epoch in progress is dropped,
  // the checkpoints of finished epochs are kept.
  Trainer(std::shared_ptr<MultiLabelModel> model, TrainerOptions options, TrainObserver* observer = nullptr,
          CancelToken cancel = {});
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // Data-parallel training with torch DistributedDataParallel's semantics (ml/training/replica_group.h; the
  // c10d group comes from mls::dist::connectReplicas). Call before fit()/fitLinear() on every rank, with the
  // same model, options and resume checkpoint everywhere; null (or a world of one) = a single process. fit()
  // and fitLinear() then shard the training source (BatchSource::setShard; each rank's source yields the
  // per-rank batch), synchronise the trained tensors (broadcast from rank 0, gradients averaged at every
  // optimizer update), agree on cancellation, AMP skips and NaN losses at every step, and validate on shards
  // (the validation source is split while validating and whole again afterwards) gathered back into source
  // order, so metrics, best epoch, EMA and early stopping are the same on every rank. Only rank 0 writes checkpoints (and reports onCheckpoint). predict() and evaluate() stay local.
  // Collective failures throw mls::dist::DistributedError naming the rank at fault.
  void setReplicas(std::shared_ptr<ReplicaGroup> replicas);

  // ROLE needs the training set's observed matrix (N,K) (+1/0/-1) for its estimator (lossNeedsEstimator());
  // row n belongs to the sample with dataset index n. Other losses ignore it.
  void setObservedLabels(const torch::Tensor& observed);

  // Linear phase of MLSPL "LinearInit": trains only the linear head on cached pooled features (sources
  // yield Batch.images = (B,D) features) with a constant learning rate, the configured optimizer type and
  // the same loss (ROLE's estimator is shared with fit()). Its epochs are the run's first ones (fit() goes
  // on from the next number, steps likewise). With validation features the head and the estimator end as
  // they were after the best validation epoch, as in the MLSPL code (ml/training/linear_init_settings.h).
  // Throws TrainingError for models without a linear head (Query2Label) or after fit().
  void fitLinear(BatchSource& train_features, BatchSource* val_features, int epochs, double lr);

  // End-to-end training. val may be null (no metrics; the last epoch counts as the best). Resumes at the
  // epoch after the checkpoint when resumeFrom() was called. Afterwards the model holds the best weights
  // (EMA ones if they won). Throws TrainingError (NaN loss, out of memory, bad data shapes).
  TrainResult fit(BatchSource& train, BatchSource* val);

  // Restores model, EMA, label estimator, counters (run numbering included), RNG and loss-scaler state now,
  // and the optimizer state when fit() builds its optimizer; fit() then continues with the next epoch. Tells
  // the observer where the run continues (onResumed). Throws TrainingError.
  void resumeFrom(const std::string& checkpoint_path);

  // Sigmoid scores (N,K) in source order with the dataset indices (N,), on the CPU, using the model's
  // current weights (the best ones after fit()).
  std::pair<torch::Tensor, torch::Tensor> predict(BatchSource& source);
  MultiLabelMetrics evaluate(BatchSource& source);

  // ROLE: (N,K) estimator probabilities; an undefined tensor otherwise.
  torch::Tensor labelEstimates() const;
  // The groups of the latest optimizer (fit() or fitLinear()); empty before training.
  std::vector<ParamGroupInfo> parameterGroups() const;
  MultiLabelModel& model();
  const TrainerOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mls
