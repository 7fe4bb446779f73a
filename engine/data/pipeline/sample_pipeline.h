// The whole per-sample path: decode -> resize -> flip -> Cutout -> RandAugment -> normalise.
// Order follows the official code: Q2L applies Resize, CutoutPIL, RandAugment, ToTensor, Normalize;
// single-positive training applies Resize, RandomHorizontalFlip, ToTensor, Normalize.
#pragma once
#include "data/pipeline/augmentation_options.h"
#include "data/pipeline/image_sample.h"

#include <opencv2/core/mat.hpp>

#include <cstdint>

namespace mls {

// The augmented image_size×image_size 8-bit RGB image. All randomness comes from
// DeterministicRng(seed, epoch, sample.index), so the result does not depend on thread scheduling.
// Throws ImageDecodeError for missing or corrupt files. reduction (optional) receives the JPEG factor.
cv::Mat prepareSampleImage(const ImageSample& sample, int image_size, const AugmentationOptions& options,
                           uint64_t seed, int epoch, int* reduction = nullptr);

// prepareSampleImage + normalisation into 3*image_size*image_size floats (CHW) at dst.
void loadSampleInto(const ImageSample& sample, int image_size, const AugmentationOptions& options, uint64_t seed,
                    int epoch, float* dst);

}  // namespace mls
