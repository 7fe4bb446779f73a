// RandAugment (Cubuk et al., 2020) implemented with OpenCV on 8-bit RGB images: N operations drawn
// uniformly with replacement from the list below, all at one magnitude M on the paper's 0..10 scale.
#pragma once
#include "ml/batch_source.h"

#include <opencv2/core/mat.hpp>

namespace mls {

enum class RandAugmentOp {
  Identity, AutoContrast, Equalize, Rotate, Solarize, Color, Posterize,
  Contrast, Brightness, Sharpness, ShearX, ShearY, TranslateX, TranslateY,
};
constexpr int kRandAugmentOpCount = 14;

const char* randAugmentOpName(RandAugmentOp op);

// One operation at `level` in [0, 1] (= M / 10). `negate` flips the direction of the signed operations
// (rotate, shear, translate and the enhance factors); the others ignore it. Ranges at level 1 follow
// AutoAugment/timm: rotate 30°, shear 0.3, translate 0.45 of the side, enhance factor 1 ± 0.9,
// posterize down to 4 bits, solarize threshold down to 0. Geometric ops fill with grey 128 (the
// AutoAugment fill colour) and rotate/shear about the image centre.
void applyRandAugmentOp(cv::Mat& rgb, RandAugmentOp op, double level, bool negate);

// Draws num_ops operations and their signs from rng and applies them in order. magnitude is clamped
// to [0, 10].
void applyRandAugment(cv::Mat& rgb, int num_ops, int magnitude, DeterministicRng& rng);

}  // namespace mls
