// Cached frozen-backbone features for the linear phase of LinearInit (Cole et al. 2021: 25 epochs of a
// linear classifier on fixed features, then end-to-end fine-tuning). Features are computed once over an
// un-augmented ImageBatchSource and then served from memory like any other BatchSource.
#pragma once
#include "ml/tensor_batch_source.h"

#include <functional>

namespace mls {

class ImageBatchSource;

struct FeatureCache {
  torch::Tensor features;  // (N, ...) float32 on the CPU, e.g. (N, D) pooled features
  torch::Tensor targets;   // (N, K) float32
  torch::Tensor indices;   // (N,) int64 dataset indices
  int64_t skipped = 0;     // images that could not be decoded and so have no row
  bool cancelled = false;  // progress callback asked to stop; the tensors then hold what was done
};

// Maps a (B,3,S,S) image batch to (B, ...) features; called under torch::NoGradGuard.
using FeatureExtractor = std::function<torch::Tensor(const torch::Tensor&)>;
// Called after every batch with (images done, images total); return false to cancel.
using FeatureCacheProgress = std::function<bool(int64_t done, int64_t total)>;

// Runs epoch 0 of `images` through `extract` and gathers the results on the CPU.
// Throws std::invalid_argument when the source applies random augmentation (cached features would
// freeze one random draw) and std::runtime_error when no image could be decoded.
FeatureCache computeFeatureCache(ImageBatchSource& images, const FeatureExtractor& extract,
                                 const FeatureCacheProgress& progress = {});

class FeatureBatchSource : public TensorBatchSource {
 public:
  FeatureBatchSource(torch::Tensor features, torch::Tensor targets, int64_t batch_size, bool shuffle,
                     uint64_t seed = 0, torch::Tensor indices = {});
  FeatureBatchSource(const FeatureCache& cache, int64_t batch_size, bool shuffle, uint64_t seed = 0);
  // Samples that were skipped while the cache was computed (they have no feature row).
  int64_t skippedSamples() const override { return skipped_; }

 private:
  int64_t skipped_ = 0;
};

}  // namespace mls
