// One rank's share of an epoch, with torch.utils.data.DistributedSampler's arithmetic
// (torch/utils/data/distributed.py): every rank computes the same order of the epoch, pads it by wrapping
// around to the start until its length is a multiple of the world size (or, with drop_last, cuts the tail),
// and takes every world_size-th entry starting at its rank. Shards are disjoint (but for the padding) and
// equally long, and step s of all ranks together is step s of one process with a world_size times larger
// batch. Plain arithmetic, built everywhere (sources and the trainer use it without c10d).
#pragma once
#include <cstdint>
#include <vector>

#include "ml/batch_source.h"

namespace mls {

// Throws std::invalid_argument unless 0 <= rank < world_size.
void checkShard(const Shard& shard);

// Entries per rank and epoch: ceil(n / world) when padding, floor(n / world) when dropping.
int64_t shardLength(int64_t dataset_size, int world_size, bool drop_last = false);

// `shard`'s entries of the epoch order `order` (DistributedSampler: indices[rank:total_size:num_replicas]).
std::vector<int64_t> shardOf(const std::vector<int64_t>& order, const Shard& shard, bool drop_last = false);

// Positions (0..n-1, unshuffled) of `shard`'s entries: slot s holds position s * world_size + rank, modulo
// n for the padding.
std::vector<int64_t> shardPositions(int64_t dataset_size, const Shard& shard, bool drop_last = false);

}  // namespace mls
