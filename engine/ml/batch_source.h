// The one interface through which the trainer receives data: images decoded from the project,
// cached backbone features or in-memory synthetic tensors all look the same to the training loop.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace mls {

struct Batch {
  torch::Tensor images;   // (B,3,H,W) float32, ImageNet-normalised (or (B,D) features for cached sources)
  torch::Tensor targets;  // (B,K) float32: +1 observed positive, 0 unobserved/negative, -1 observed negative
  torch::Tensor indices;  // (B,) int64 dataset indices (ROLE's estimator is indexed by these)
};

// This process's part of a data-parallel run: rank `rank` of `world_size` (ml/shard.h splits the data).
struct Shard {
  int rank = 0;
  int world_size = 1;
};

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  virtual int64_t size() const = 0;            // samples per epoch
  virtual int64_t numClasses() const = 0;
  virtual void startEpoch(int epoch) = 0;      // reshuffles (train) deterministically from seed+epoch
  virtual std::optional<Batch> next() = 0;     // nullopt at epoch end
  virtual int64_t skippedSamples() const { return 0; }  // corrupt/missing images skipped so far
  // From the next startEpoch() on, yield only this rank's share of every epoch, with
  // torch.utils.data.DistributedSampler's split (ml/shard.h): the epoch's whole order (shuffled or not),
  // padded by wrapping to a multiple of world_size, every world_size-th sample starting at rank. size()
  // becomes the shard's length. Sources that cannot be sharded throw std::logic_error for world_size > 1.
  virtual void setShard(const Shard& shard);
  // Samples of one epoch before sharding (size() of the unsharded source).
  virtual int64_t datasetSize() const { return size(); }
};

// SplitMix64 (Steele, Lea & Flood 2014): tiny and fully specified, so shuffles and augmentations are
// bit-identical across compilers and platforms (std::uniform_*_distribution and std::shuffle are not).
// Seeding from (seed, epoch, index) makes every sample's randomness independent of which worker thread
// processes it and in which order.
class DeterministicRng {
 public:
  explicit DeterministicRng(uint64_t seed) : state_(seed) {}
  DeterministicRng(uint64_t seed, int64_t epoch, int64_t index)
      : state_(mix(mix(mix(seed) ^ static_cast<uint64_t>(epoch)) ^ static_cast<uint64_t>(index))) {}

  uint64_t nextU64() { return mix(state_ += kGolden); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(nextU64() >> 11) * (1.0 / 9007199254740992.0); }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n); rejection sampling removes modulo bias.
  int64_t below(int64_t n) {
    if (n <= 1) return 0;
    const uint64_t un = static_cast<uint64_t>(n);
    const uint64_t limit = UINT64_MAX - (UINT64_MAX % un);
    uint64_t r = nextU64();
    while (r >= limit) r = nextU64();
    return static_cast<int64_t>(r % un);
  }
  bool bernoulli(double p) { return uniform() < p; }

 private:
  static constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;
  static uint64_t mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

inline void BatchSource::setShard(const Shard& shard) {
  if (shard.world_size > 1) throw std::logic_error("this batch source cannot be split across ranks");
}

// Sample order of one epoch: 0..n-1, or a Fisher-Yates permutation fixed by (seed, epoch).
inline std::vector<int64_t> epochOrder(int64_t n, bool shuffle, uint64_t seed, int epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n > 0 ? n : 0));
  std::iota(order.begin(), order.end(), int64_t{0});
  if (!shuffle) return order;
  // index -1 keeps the shuffle stream apart from the per-sample augmentation streams.
  DeterministicRng rng(seed, epoch, -1);
  for (int64_t i = n - 1; i > 0; --i) std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(rng.below(i + 1))]);
  return order;
}

}  // namespace mls
