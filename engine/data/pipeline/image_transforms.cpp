#include "data/pipeline/image_transforms.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mls {

cv::Mat resizeSquare(const cv::Mat& rgb, int size) {
  if (size <= 0) throw std::invalid_argument("resizeSquare: size must be positive");
  if (rgb.cols == size && rgb.rows == size) return rgb;
  const bool shrinking = rgb.cols >= size && rgb.rows >= size;
  cv::Mat out;
  cv::resize(rgb, out, cv::Size(size, size), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

void flipHorizontal(cv::Mat& rgb) { cv::flip(rgb, rgb, 1); }

CutoutRect drawCutoutRect(int width, int height, double factor, DeterministicRng& rng) {
  // Same draws as CutoutPIL: side from the size, then the centre row, then the centre column.
  const int h_cut = static_cast<int>(factor * height + 0.5);
  const int w_cut = static_cast<int>(factor * width + 0.5);
  const int yc = static_cast<int>(rng.below(height));
  const int xc = static_cast<int>(rng.below(width));
  CutoutRect r;
  r.y1 = std::clamp(yc - h_cut / 2, 0, height);
  r.y2 = std::min(std::clamp(yc + h_cut / 2, 0, height), height - 1);
  r.x1 = std::clamp(xc - w_cut / 2, 0, width);
  r.x2 = std::min(std::clamp(xc + w_cut / 2, 0, width), width - 1);
  return r;
}

void applyCutout(cv::Mat& rgb, int holes, double factor, CutoutFill fill, const std::array<float, 3>& mean,
                 DeterministicRng& rng) {
  for (int i = 0; i < holes; ++i) {
    const CutoutRect r = drawCutoutRect(rgb.cols, rgb.rows, factor, rng);
    cv::Scalar colour;
    if (fill == CutoutFill::Random) {
      colour = cv::Scalar(static_cast<double>(rng.below(256)), static_cast<double>(rng.below(256)),
                          static_cast<double>(rng.below(256)));
    } else {
      colour = cv::Scalar(std::round(mean[0] * 255.0), std::round(mean[1] * 255.0), std::round(mean[2] * 255.0));
    }
    if (r.x2 < r.x1 || r.y2 < r.y1) continue;
    rgb(cv::Rect(r.x1, r.y1, r.x2 - r.x1 + 1, r.y2 - r.y1 + 1)).setTo(colour);
  }
}

void writeNormalisedChw(const cv::Mat& rgb, const std::array<float, 3>& mean, const std::array<float, 3>& std,
                        float* dst) {
  if (rgb.type() != CV_8UC3) throw std::invalid_argument("writeNormalisedChw: expected an 8-bit RGB image");
  // A 256-entry table per channel: the same float arithmetic as ToTensor + Normalize, once per value.
  float lut[3][256];
  for (int c = 0; c < 3; ++c)
    for (int v = 0; v < 256; ++v) lut[c][v] = (static_cast<float>(v) / 255.0f - mean[c]) / std[c];
  const size_t plane = static_cast<size_t>(rgb.rows) * static_cast<size_t>(rgb.cols);
  float* r_out = dst;
  float* g_out = dst + plane;
  float* b_out = dst + 2 * plane;
  for (int y = 0; y < rgb.rows; ++y) {
    const unsigned char* row = rgb.ptr<unsigned char>(y);
    for (int x = 0; x < rgb.cols; ++x) {
      *r_out++ = lut[0][row[3 * x]];
      *g_out++ = lut[1][row[3 * x + 1]];
      *b_out++ = lut[2][row[3 * x + 2]];
    }
  }
}

}  // namespace mls
