// One rank's share of an epoch (torch.utils.data.DistributedSampler's split of the project's seeded order,
// epochOrder in ml/batch_source.h; the arithmetic is ml/shard.h's, which the batch sources use too) and the
// validation gather that puts the ranks' scores back in dataset order.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "ml/shard.h"

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
using mls::shardLength;

// Validation: every rank scored its shard (rows of `local_scores` belong to dataset indices `local_indices`,
// shards from shardIndices with shuffle off and padding). Returns all `dataset_size` rows in dataset order on
// every rank; the padded duplicates are dropped. Scores are gathered bit for bit, so metrics computed on the
// result equal the single-process ones whenever each sample's score does not depend on its batch.
// `what` names the gather in errors.
at::Tensor gatherInDatasetOrder(ProcessGroup& group, const at::Tensor& local_scores, const std::vector<int64_t>& local_indices,
                                int64_t dataset_size, const std::string& what = "validation gather");

}  // namespace mls::dist
