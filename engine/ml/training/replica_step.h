// The trainer's data-parallel pieces, over a ReplicaGroup (torch DistributedDataParallel's semantics): the
// tensors it synchronises, the per-step agreement of all ranks (mean loss, cancellation, non-finite
// losses), the validation shard and its gather back into source order. Internal to the trainer.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ml/batch_source.h"
#include "ml/training/replica_group.h"

namespace mls::trainer_detail {

// `params` that require grad, then `extra` when defined (ROLE's label-estimator logits): what DDP would
// average. The same list, in the same order, on every rank.
std::vector<at::Tensor> synchronisedParameters(const std::vector<at::Tensor>& params, const at::Tensor& extra);

// What every rank knows after a step's backward, from one small all-reduce.
struct StepAgreement {
  double mean_loss = 0;        // the step's loss averaged over the ranks (the global batch's mean loss)
  bool cancel = false;         // some rank was asked to stop: all stop at this step
  std::string nonfinite_ranks;  // "1" or "0, 1" when a loss was NaN/Inf there; empty when all are finite
};
StepAgreement agreeOnStep(ReplicaGroup& replicas, double loss, bool cancel_requested);

// This rank's share of `source` (BatchSource::setShard); TrainingError when the source cannot be split.
// `what` ("training") names it in the message.
void shardForReplicas(BatchSource& source, const ReplicaGroup& replicas, const std::string& what);

// Shards `source` across the replicas for the scope (validation: the set in order, padded to equal
// lengths), back to one shard afterwards, so predict() and evaluate() see the whole set again. A null
// group leaves the source alone.
class ValidationShard {
 public:
  ValidationShard(ReplicaGroup* replicas, BatchSource& source);
  ~ValidationShard();
  ValidationShard(const ValidationShard&) = delete;
  ValidationShard& operator=(const ValidationShard&) = delete;
  int64_t datasetSize() const { return dataset_size_; }

 private:
  ReplicaGroup* replicas_;
  BatchSource& source_;
  int64_t dataset_size_ = 0;
};

// This rank's scored shard rows (scores, targets (L,K), indices (L,)) replaced by all `dataset_size` rows in
// the unsharded source's order, identical on every rank (padding dropped). Throws TrainingError when this
// rank scored fewer rows than its shard holds (unreadable images).
void gatherInSourceOrder(ReplicaGroup& replicas, int64_t dataset_size, at::Tensor& scores, at::Tensor& targets,
                         at::Tensor& indices);

}  // namespace mls::trainer_detail
