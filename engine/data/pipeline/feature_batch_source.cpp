#include "data/pipeline/feature_batch_source.h"

#include "data/pipeline/image_batch_source.h"

#include <torch/torch.h>

#include <stdexcept>
#include <vector>

namespace mls {

FeatureCache computeFeatureCache(ImageBatchSource& images, const FeatureExtractor& extract,
                                 const FeatureCacheProgress& progress) {
  if (!extract) throw std::invalid_argument("computeFeatureCache: no feature extractor given");
  if (images.augmentation().anyRandom())
    throw std::invalid_argument("computeFeatureCache: the image source must not use random augmentation");

  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> features, targets, indices;
  const int64_t skipped_before = images.skippedSamples();
  int64_t done = 0;
  FeatureCache cache;
  images.startEpoch(0);
  while (auto batch = images.next()) {
    torch::Tensor f = extract(batch->images);
    if (!f.defined() || f.dim() < 1 || f.size(0) != batch->images.size(0))
      throw std::runtime_error("computeFeatureCache: the extractor must return one feature row per image");
    features.push_back(f.detach().to(torch::kCPU, torch::kFloat).contiguous());
    targets.push_back(batch->targets.to(torch::kCPU, torch::kFloat));
    indices.push_back(batch->indices.to(torch::kCPU, torch::kLong));
    done += batch->images.size(0);
    if (progress && !progress(done, images.size())) {
      cache.cancelled = true;  // the idle workers are stopped by the source's next startEpoch or destructor
      break;
    }
  }
  // Rows missing from a complete pass are exactly the undecodable images (also ones skipped in earlier epochs).
  cache.skipped = cache.cancelled ? images.skippedSamples() - skipped_before : images.size() - done;
  if (features.empty()) {
    if (cache.cancelled) return cache;
    throw std::runtime_error("computeFeatureCache: no image could be decoded (" + std::to_string(cache.skipped) +
                             " skipped)");
  }
  cache.features = torch::cat(features, 0);
  cache.targets = torch::cat(targets, 0);
  cache.indices = torch::cat(indices, 0);
  return cache;
}

FeatureBatchSource::FeatureBatchSource(torch::Tensor features, torch::Tensor targets, int64_t batch_size,
                                       bool shuffle, uint64_t seed, torch::Tensor indices)
    : TensorBatchSource(std::move(features), std::move(targets), batch_size, shuffle, seed, std::move(indices)) {}

FeatureBatchSource::FeatureBatchSource(const FeatureCache& cache, int64_t batch_size, bool shuffle, uint64_t seed)
    : TensorBatchSource(cache.features, cache.targets, batch_size, shuffle, seed, cache.indices),
      skipped_(cache.skipped) {}

}  // namespace mls
