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
int chooseFactor(bool jpeg, int width, int height, int target_size) {
  return jpeg ? reducedDecodeFactor(width, height, target_size) : 1;
}

// OpenCV's messages span several lines (file, function, assertion); a skip report wants one.
std::string firstLine(const std::string& text) {
  const auto end = text.find_first_of("\r\n");
  return end == std::string::npos ? text : text.substr(0, end);
}

}  // namespace

DecodedImage decodeImageRgb(const std::string& path, int target_size, int known_width, int known_height) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw ImageDecodeError("image file not found: " + path);

  // The header is read every time (a few hundred bytes): the size bound must hold for the file as it is now.
  const auto header = probeImageHeader(path);
  const bool header_size = header && header->width > 0 && header->height > 0;
  const int width = header_size ? header->width : known_width;
  const int height = header_size ? header->height : known_height;
  if (static_cast<long long>(width) * height > kMaxImagePixels)
    throw ImageDecodeError("image too large to decode (" + std::to_string(width) + "x" + std::to_string(height) +
                           " pixels, limit " + std::to_string(kMaxImagePixels / 1'000'000) + " megapixels): " + path);
  const bool jpeg = header ? header->format == ImageFormat::Jpeg : hasJpegExtension(path);

  DecodedImage out;
  out.reduction = target_size > 0 ? chooseFactor(jpeg, width, height, target_size) : 1;
  cv::Mat bgr;
  try {
    bgr = cv::imread(path, readFlagsFor(out.reduction));
  } catch (const cv::Exception& e) {
    throw ImageDecodeError("cannot decode image (" + firstLine(e.err.empty() ? e.what() : e.err) + "): " + path);
  }
  if (bgr.empty() || bgr.cols <= 0 || bgr.rows <= 0)
    throw ImageDecodeError("cannot decode image (corrupt or unsupported format): " + path);
  cv::cvtColor(bgr, out.rgb, cv::COLOR_BGR2RGB);
  return out;
}

}  // namespace mls
