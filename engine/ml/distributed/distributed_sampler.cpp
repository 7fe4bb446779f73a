#include "ml/distributed/distributed_sampler.h"

#include <torch/torch.h>

#include <stdexcept>
#include <string>

#include "ml/batch_source.h"
#include "ml/distributed/process_group.h"

namespace mls::dist {

std::vector<int64_t> shardIndices(int64_t dataset_size, int rank, int world_size, int epoch,
                                  const ShardOptions& options) {
  const Shard shard{rank, world_size};
  checkShard(shard);
  return shardOf(epochOrder(dataset_size, options.shuffle, options.seed, epoch), shard, options.drop_last);
}

at::Tensor gatherInDatasetOrder(ProcessGroup& group, const at::Tensor& local_scores,
                                const std::vector<int64_t>& local_indices, int64_t dataset_size, const std::string& what) {
  const int world = group.worldSize();
  const int64_t per_rank = shardLength(dataset_size, world, false);
  if (local_scores.dim() < 1 || local_scores.size(0) != per_rank ||
      static_cast<int64_t>(local_indices.size()) != per_rank)
    throw std::invalid_argument(what + ": rank " + std::to_string(group.rank()) + " has " +
                                std::to_string(local_scores.dim() < 1 ? 0 : local_scores.size(0)) + " scores and " +
                                std::to_string(local_indices.size()) + " indices, expected " +
                                std::to_string(per_rank) + " of each (a padded shard of " +
                                std::to_string(dataset_size) + " samples)");
  std::vector<int64_t> row_shape(local_scores.sizes().begin(), local_scores.sizes().end());
  row_shape[0] = dataset_size;
  if (per_rank == 0) return torch::empty(row_shape, local_scores.options());

  const at::Tensor indices = torch::tensor(local_indices, torch::kLong);
  const at::Tensor all_scores = group.allgather(local_scores.contiguous(), what + " (rows)");  // (W, L, ...)
  const at::Tensor all_indices = group.allgather(indices, what + " (indices)");                 // (W, L)

  // Slot s of rank r is position s * W + r of the padded order; positions >= n are the padding repeats.
  at::Tensor result = torch::empty(row_shape, local_scores.options());
  std::vector<bool> filled(static_cast<size_t>(dataset_size), false);
  const auto index_data = all_indices.accessor<int64_t, 2>();
  for (int r = 0; r < world; ++r) {
    for (int64_t slot = 0; slot < per_rank; ++slot) {
      if (slot * world + r >= dataset_size) continue;
      const int64_t index = index_data[r][slot];
      if (index < 0 || index >= dataset_size || filled[static_cast<size_t>(index)])
        throw std::invalid_argument(what + ": rank " + std::to_string(r) + " sent dataset index " +
                                    std::to_string(index) + ", which is out of range or sent twice");
      filled[static_cast<size_t>(index)] = true;
      result[index].copy_(all_scores[r][slot]);
    }
  }
  return result;
}

}  // namespace mls::dist
