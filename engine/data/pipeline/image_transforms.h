// The small geometric/photometric steps of the per-sample pipeline, on 8-bit RGB cv::Mat images.
#pragma once
#include "data/pipeline/augmentation_options.h"
#include "ml/batch_source.h"

#include <opencv2/core/mat.hpp>

#include <array>

namespace mls {

// Resize to size×size ignoring aspect ratio (torchvision Resize((S,S)) in both official codebases).
// INTER_AREA when shrinking approximates PIL's antialiased resize; bilinear when enlarging.
cv::Mat resizeSquare(const cv::Mat& rgb, int size);

// Mirror left-right in place.
void flipHorizontal(cv::Mat& rgb);

// The hole rectangle CutoutPIL draws: side = int(factor*S + 0.5), centre uniform in the image,
// corners clipped; PIL's rectangle includes both corners, so [x1, x2] × [y1, y2] inclusive.
struct CutoutRect {
  int x1 = 0, y1 = 0, x2 = -1, y2 = -1;  // inclusive; empty when x2 < x1
};
CutoutRect drawCutoutRect(int width, int height, double factor, DeterministicRng& rng);
// Paints `holes` rectangles in place; Random fill draws one RGB colour per hole, Mean fills with the
// normalisation mean (becomes 0 after normalisation).
void applyCutout(cv::Mat& rgb, int holes, double factor, CutoutFill fill, const std::array<float, 3>& mean,
                 DeterministicRng& rng);

// ToTensor + Normalize: writes (3, H, W) float planes, (v/255 - mean[c]) / std[c], to dst.
void writeNormalisedChw(const cv::Mat& rgb, const std::array<float, 3>& mean, const std::array<float, 3>& std,
                        float* dst);

}  // namespace mls
