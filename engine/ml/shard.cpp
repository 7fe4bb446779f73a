#include "ml/shard.h"

#include <stdexcept>
#include <string>

namespace mls {

void checkShard(const Shard& shard) {
  if (shard.world_size < 1 || shard.rank < 0 || shard.rank >= shard.world_size)
    throw std::invalid_argument("rank " + std::to_string(shard.rank) + " is outside a world of " +
                                std::to_string(shard.world_size));
}

int64_t shardLength(int64_t dataset_size, int world_size, bool drop_last) {
  if (world_size < 1) throw std::invalid_argument("world size must be at least 1");
  if (dataset_size <= 0) return 0;
  return drop_last ? dataset_size / world_size : (dataset_size + world_size - 1) / world_size;
}

std::vector<int64_t> shardOf(const std::vector<int64_t>& order, const Shard& shard, bool drop_last) {
  checkShard(shard);
  const auto n = static_cast<int64_t>(order.size());
  const int64_t per_rank = shardLength(n, shard.world_size, drop_last);
  std::vector<int64_t> out;
  out.reserve(static_cast<size_t>(per_rank));
  // Position p of the padded order is order[p % n]: DistributedSampler's padding with the first entries.
  for (int64_t slot = 0; slot < per_rank; ++slot)
    out.push_back(order[static_cast<size_t>((slot * shard.world_size + shard.rank) % n)]);
  return out;
}

std::vector<int64_t> shardPositions(int64_t dataset_size, const Shard& shard, bool drop_last) {
  return shardOf(epochOrder(dataset_size, false, 0, 0), shard, drop_last);
}

}  // namespace mls
