#include "data/pipeline/image_decoder.h"

#include "data/pipeline/image_header.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <filesystem>

namespace mls {

int reducedDecodeFactor(int width, int height, int target_size) {
  if (width <= 0 || height <= 0 || target_size <= 0) return 1;
  const int shorter = std::min(width, height);
  for (int factor : {8, 4, 2})
    if (shorter / factor >= target_size) return factor;
  return 1;
}

namespace {

int readFlagsFor(int factor) {
  switch (factor) {
    case 8: return cv::IMREAD_REDUCED_COLOR_8;
    case 4: return cv::IMREAD_REDUCED_COLOR_4;
    case 2: return cv::IMREAD_REDUCED_COLOR_2;
    default: return cv::IMREAD_COLOR;
  }
}

// Only libjpeg scales while decoding; for other formats OpenCV would decode fully and then shrink with
// plain bilinear (aliasing), so they are decoded at full size and resized later with INTER_AREA.
int chooseFactor(const std::string& path, int target_size, int known_width, int known_height) {
  if (target_size <= 0) return 1;
  if (known_width > 0 && known_height > 0)
    return hasJpegExtension(path) ? reducedDecodeFactor(known_width, known_height, target_size) : 1;
  const auto header = probeImageHeader(path);
  if (!header || header->format != ImageFormat::Jpeg) return 1;
  return reducedDecodeFactor(header->width, header->height, target_size);
}

}  // namespace

DecodedImage decodeImageRgb(const std::string& path, int target_size, int known_width, int known_height) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw ImageDecodeError("image file not found: " + path);

  DecodedImage out;
  out.reduction = chooseFactor(path, target_size, known_width, known_height);
  cv::Mat bgr;
  try {
    bgr = cv::imread(path, readFlagsFor(out.reduction));
  } catch (const cv::Exception& e) {
    throw ImageDecodeError("cannot decode image " + path + ": " + e.what());
  }
  if (bgr.empty() || bgr.cols <= 0 || bgr.rows <= 0)
    throw ImageDecodeError("cannot decode image (corrupt or unsupported format): " + path);
  cv::cvtColor(bgr, out.rgb, cv::COLOR_BGR2RGB);
  return out;
}

}  // namespace mls
