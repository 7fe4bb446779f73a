// One rank's share of an epoch, with torch.utils.data.DistributedSampler's semantics: every rank computes the
// same order (the project's seeded shuffle of seed + epoch, epochOrder in ml/batch_source.h), makes its length
// a multiple of the world size (pads by wrapping around to the start, or drops the tail), and takes every
// world_size-th index starting at its rank. So shards are disjoint (but for the padding), equally long, and
// the union of step s over all ranks is exactly batch s of one process with a world_size times larger batch.
#pragma once
#include <cstdint>
#include <vector>

namespace at {
class Tensor;
}

namespace mls::dist {

class ProcessGroup;

struct ShardOptions {
  bool shuffle = true;
  uint64_t seed = 0;
  bool drop_last = false;  // false: pad by repeating the first indices (DistributedSampler's default)
};

// Dataset indices of `rank`'s shard of `epoch`. Throws std::invalid_argument on a bad rank/world size.
std::vector<int64_t> shardIndices(int64_t dataset_size, int rank, int world_size, int epoch,
                                  const ShardOptions& options = {});

// Samples per rank and epoch: ceil(n / world) when padding, floor(n / world) when dropping.
int64_t shardLength(int64_t dataset_size, int world_size, bool drop_last);

// Validation: every rank scored its shard (rows of `local_scores` belong to dataset indices `local_indices`,
// shards from shardIndices with shuffle off and padding). Returns all `dataset_size` rows in dataset order on
// every rank; the padded duplicates are dropped. Scores are gathered bit for bit, so metrics computed on the
// result equal the single-process ones whenever each sample's score does not depend on its batch.
at::Tensor gatherInDatasetOrder(ProcessGroup& group, const at::Tensor& local_scores, const std::vector<int64_t>& local_indices,
                                int64_t dataset_size);

}  // namespace mls::dist
