#include "data/pipeline/rand_augment.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace mls {
namespace {

const cv::Scalar kFill(128, 128, 128);

void applyLut(cv::Mat& rgb, const std::vector<unsigned char>& table) {
  cv::Mat lut(1, 256, CV_8U, const_cast<unsigned char*>(table.data()));
  cv::LUT(rgb, lut, rgb);
}

// PIL ImageEnhance: blend(degenerate, image, factor) = degenerate + factor * (image - degenerate), saturated.
void blend(cv::Mat& rgb, const cv::Mat& degenerate, double factor) {
  cv::addWeighted(rgb, factor, degenerate, 1.0 - factor, 0.0, rgb);
}

cv::Mat grayAsRgb(const cv::Mat& rgb) {
  cv::Mat gray, out;
  cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);  // ITU-R 601 weights, as PIL's convert("L")
  cv::cvtColor(gray, out, cv::COLOR_GRAY2RGB);
  return out;
}

// Warp with an inverse map (output pixel -> source pixel), as PIL's Image.transform(AFFINE).
void warpInverse(cv::Mat& rgb, const cv::Matx23d& inverse) {
  cv::Mat out;
  cv::warpAffine(rgb, out, cv::Mat(inverse), rgb.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 cv::BORDER_CONSTANT, kFill);
  rgb = out;
}

void autoContrast(cv::Mat& rgb) {
  std::vector<cv::Mat> channels;
  cv::split(rgb, channels);
  for (auto& ch : channels) {
    double lo = 0, hi = 0;
    cv::minMaxLoc(ch, &lo, &hi);
    if (hi <= lo) continue;  // flat channel: PIL leaves it unchanged
    const double scale = 255.0 / (hi - lo);
    ch.convertTo(ch, CV_8U, scale, -lo * scale);
  }
  cv::merge(channels, rgb);
}

void equalize(cv::Mat& rgb) {
  std::vector<cv::Mat> channels;
  cv::split(rgb, channels);
  for (auto& ch : channels) cv::equalizeHist(ch, ch);
  cv::merge(channels, rgb);
}

void sharpness(cv::Mat& rgb, double factor) {
  // PIL's SMOOTH kernel; PIL keeps the one-pixel border of the original.
  const cv::Matx33f kernel(1, 1, 1, 1, 5, 1, 1, 1, 1);
  cv::Mat smooth;
  cv::filter2D(rgb, smooth, -1, cv::Mat(kernel) / 13.0f, cv::Point(-1, -1), 0, cv::BORDER_REPLICATE);
  if (rgb.rows > 2 && rgb.cols > 2) {
    cv::Mat degenerate = rgb.clone();
    smooth(cv::Rect(1, 1, rgb.cols - 2, rgb.rows - 2)).copyTo(degenerate(cv::Rect(1, 1, rgb.cols - 2, rgb.rows - 2)));
    blend(rgb, degenerate, factor);
  }
}

}  // namespace

const char* randAugmentOpName(RandAugmentOp op) {
  switch (op) {
    case RandAugmentOp::Identity: return "identity";
    case RandAugmentOp::AutoContrast: return "autocontrast";
    case RandAugmentOp::Equalize: return "equalize";
    case RandAugmentOp::Rotate: return "rotate";
    case RandAugmentOp::Solarize: return "solarize";
    case RandAugmentOp::Color: return "color";
    case RandAugmentOp::Posterize: return "posterize";
    case RandAugmentOp::Contrast: return "contrast";
    case RandAugmentOp::Brightness: return "brightness";
    case RandAugmentOp::Sharpness: return "sharpness";
    case RandAugmentOp::ShearX: return "shear_x";
    case RandAugmentOp::ShearY: return "shear_y";
    case RandAugmentOp::TranslateX: return "translate_x";
    case RandAugmentOp::TranslateY: return "translate_y";
  }
  return "unknown";
}

void applyRandAugmentOp(cv::Mat& rgb, RandAugmentOp op, double level, bool negate) {
  level = std::clamp(level, 0.0, 1.0);
  const double sign = negate ? -1.0 : 1.0;
  const double enhance = 1.0 + sign * 0.9 * level;
  const double cx = (rgb.cols - 1) * 0.5;
  const double cy = (rgb.rows - 1) * 0.5;
  switch (op) {
    case RandAugmentOp::Identity:
      return;
    case RandAugmentOp::AutoContrast:
      return autoContrast(rgb);
    case RandAugmentOp::Equalize:
      return equalize(rgb);
    case RandAugmentOp::Rotate: {
      const cv::Mat m = cv::getRotationMatrix2D(cv::Point2f(static_cast<float>(cx), static_cast<float>(cy)),
                                                sign * 30.0 * level, 1.0);
      cv::Mat out;
      cv::warpAffine(rgb, out, m, rgb.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, kFill);
      rgb = out;
      return;
    }
    case RandAugmentOp::Solarize: {
      // Increasing strength: threshold 256 (no-op) at level 0 down to 0 (full inversion) at level 1.
      const int threshold = static_cast<int>(std::lround(256.0 - 256.0 * level));
      std::vector<unsigned char> table(256);
      for (int v = 0; v < 256; ++v) table[v] = static_cast<unsigned char>(v >= threshold ? 255 - v : v);
      return applyLut(rgb, table);
    }
    case RandAugmentOp::Posterize: {
      const int bits = 8 - static_cast<int>(std::lround(4.0 * level));
      const int mask = ~((1 << (8 - bits)) - 1) & 0xFF;
      std::vector<unsigned char> table(256);
      for (int v = 0; v < 256; ++v) table[v] = static_cast<unsigned char>(v & mask);
      return applyLut(rgb, table);
    }
    case RandAugmentOp::Color:
      return blend(rgb, grayAsRgb(rgb), enhance);
    case RandAugmentOp::Contrast: {
      cv::Mat gray;
      cv::cvtColor(rgb, gray, cv::COLOR_RGB2GRAY);
      const double m = std::floor(cv::mean(gray)[0] + 0.5);  // PIL uses the rounded mean grey level
      return blend(rgb, cv::Mat(rgb.size(), rgb.type(), cv::Scalar(m, m, m)), enhance);
    }
    case RandAugmentOp::Brightness:
      return blend(rgb, cv::Mat::zeros(rgb.size(), rgb.type()), enhance);
    case RandAugmentOp::Sharpness:
      return sharpness(rgb, enhance);
    case RandAugmentOp::ShearX: {
      const double s = sign * 0.3 * level;
      return warpInverse(rgb, cv::Matx23d(1, s, -s * cy, 0, 1, 0));
    }
    case RandAugmentOp::ShearY: {
      const double s = sign * 0.3 * level;
      return warpInverse(rgb, cv::Matx23d(1, 0, 0, s, 1, -s * cx));
    }
    case RandAugmentOp::TranslateX:
      return warpInverse(rgb, cv::Matx23d(1, 0, sign * 0.45 * level * rgb.cols, 0, 1, 0));
    case RandAugmentOp::TranslateY:
      return warpInverse(rgb, cv::Matx23d(1, 0, 0, 0, 1, sign * 0.45 * level * rgb.rows));
  }
}

void applyRandAugment(cv::Mat& rgb, int num_ops, int magnitude, DeterministicRng& rng) {
  const double level = std::clamp(magnitude, 0, 10) / 10.0;
  for (int i = 0; i < num_ops; ++i) {
    const auto op = static_cast<RandAugmentOp>(rng.below(kRandAugmentOpCount));
    const bool negate = rng.bernoulli(0.5);
    applyRandAugmentOp(rgb, op, level, negate);
  }
}

}  // namespace mls
