#include "data/pipeline/sample_pipeline.h"

#include "data/pipeline/image_decoder.h"
#include "data/pipeline/image_transforms.h"
#include "data/pipeline/rand_augment.h"

#include <opencv2/core.hpp>

namespace mls {

cv::Mat prepareSampleImage(const ImageSample& sample, int image_size, const AugmentationOptions& options,
                           uint64_t seed, int epoch, int* reduction) {
  DecodedImage decoded = decodeImageRgb(sample.path, image_size, sample.width, sample.height);
  if (reduction) *reduction = decoded.reduction;
  cv::Mat img = resizeSquare(decoded.rgb, image_size);
  if (!options.anyRandom()) return img;

  DeterministicRng rng(seed, epoch, sample.index);
  if (options.horizontal_flip && rng.bernoulli(options.flip_probability)) flipHorizontal(img);
  if (options.dihedral) {
    const int64_t quarter_turns = rng.below(4);
    if (quarter_turns == 1) cv::rotate(img, img, cv::ROTATE_90_CLOCKWISE);
    if (quarter_turns == 2) cv::rotate(img, img, cv::ROTATE_180);
    if (quarter_turns == 3) cv::rotate(img, img, cv::ROTATE_90_COUNTERCLOCKWISE);
    if (rng.bernoulli(0.5)) cv::flip(img, img, 0);
  }
  if (options.cutout)
    applyCutout(img, options.cutout_holes, options.cutout_factor, options.cutout_fill, options.mean, rng);
  if (options.rand_augment) applyRandAugment(img, options.rand_augment_ops, options.rand_augment_magnitude, rng);
  return img;
}

void loadSampleInto(const ImageSample& sample, int image_size, const AugmentationOptions& options, uint64_t seed,
                    int epoch, float* dst) {
  const cv::Mat img = prepareSampleImage(sample, image_size, options, seed, epoch);
  writeNormalisedChw(img, options.mean, options.std, dst);
}

}  // namespace mls
