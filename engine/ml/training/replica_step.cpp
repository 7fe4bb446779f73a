#include "ml/training/replica_step.h"

#include <torch/torch.h>

#include <cmath>

#include "ml/shard.h"
#include "ml/training/training_types.h"

namespace mls::trainer_detail {

std::vector<at::Tensor> synchronisedParameters(const std::vector<at::Tensor>& params, const at::Tensor& extra) {
  std::vector<at::Tensor> out;
  for (const auto& p : params)
    if (p.requires_grad()) out.push_back(p);
  // ROLE's estimator logits are an (N,K) parameter indexed by the batch's dataset indices. Averaging its
  // gradient over the ranks (as every other gradient) keeps every rank's estimator identical. Its gradient is
  // then that of the global batch's loss for the terms that are means over samples (Cole et al. 2021,
  // "Multi-Label Learning from Single Positive Labels", loss_role's observed and cross terms); the expected
  // positive regulariser squares the batch mean of the positive count, which each rank takes over its own
  // batch, as torch DDP running the authors' code would, so that part is not the single-process one.
  if (extra.defined() && extra.requires_grad()) out.push_back(extra);
  return out;
}

StepAgreement agreeOnStep(ReplicaGroup& replicas, double loss, bool cancel_requested) {
  const int world = replicas.worldSize();
  const bool finite = std::isfinite(loss);
  // [loss, cancel, non-finite flag of rank 0, ..., of rank W-1]: one all-reduce per step.
  std::vector<double> values(static_cast<size_t>(2 + world), 0.0);
  values[0] = finite ? loss : 0.0;
  values[1] = cancel_requested ? 1.0 : 0.0;
  values[static_cast<size_t>(2 + replicas.rank())] = finite ? 0.0 : 1.0;
  const auto sums = replicas.sumOverRanks(values, "step agreement (loss, cancellation)");
  StepAgreement agreed;
  agreed.mean_loss = sums[0] / world;
  agreed.cancel = sums[1] > 0.0;
  for (int r = 0; r < world; ++r)
    if (sums[static_cast<size_t>(2 + r)] > 0.0)
      agreed.nonfinite_ranks += (agreed.nonfinite_ranks.empty() ? "" : ", ") + std::to_string(r);
  return agreed;
}

void shardForReplicas(BatchSource& source, const ReplicaGroup& replicas, const std::string& what) {
  try {
    source.setShard(Shard{replicas.rank(), replicas.worldSize()});
  } catch (const std::logic_error& e) {
    throw TrainingError("the " + what + " data cannot be split across " + std::to_string(replicas.worldSize()) +
                        " ranks: " + e.what());
  }
}

ValidationShard::ValidationShard(ReplicaGroup* replicas, BatchSource& source) : replicas_(replicas), source_(source) {
  if (!replicas_) return;
  shardForReplicas(source_, *replicas_, "validation");
  dataset_size_ = source_.datasetSize();
}

ValidationShard::~ValidationShard() {
  if (replicas_) source_.setShard(Shard{});
}

void gatherInSourceOrder(ReplicaGroup& replicas, int64_t dataset_size, at::Tensor& scores, at::Tensor& targets,
                         at::Tensor& indices) {
  const Shard shard{replicas.rank(), replicas.worldSize()};
  // Unshuffled shards: slot s of this rank is position s * W + rank of the source (ml/shard.h), so rows go
  // back by position, which keeps the single-process row order whatever the dataset indices are.
  const auto positions = shardPositions(dataset_size, shard);
  if (scores.size(0) != static_cast<int64_t>(positions.size()))
    throw TrainingError("validation on rank " + std::to_string(shard.rank) + " scored " +
                        std::to_string(scores.size(0)) + " of its " + std::to_string(positions.size()) +
                        " samples (unreadable images?); data-parallel validation needs every image of the set");
  scores = replicas.gatherInDatasetOrder(scores, positions, dataset_size, "validation gather (scores)");
  targets = replicas.gatherInDatasetOrder(targets, positions, dataset_size, "validation gather (targets)");
  indices = replicas.gatherInDatasetOrder(indices, positions, dataset_size, "validation gather (indices)");
}

}  // namespace mls::trainer_detail
