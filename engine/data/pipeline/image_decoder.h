// Decodes an image file into an 8-bit RGB cv::Mat, using libjpeg's DCT-domain downscaling
// (cv::IMREAD_REDUCED_COLOR_2/4/8) when the network input is much smaller than the stored JPEG.
#pragma once
#include <opencv2/core/mat.hpp>

#include <stdexcept>
#include <string>

namespace mls {

// A missing, unreadable, corrupt or too large image. The loader catches it, counts the sample as skipped and
// goes on. The message is one line, "reason: PATH", so a report can show the reason without the path.
class ImageDecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Decoding time and memory follow the pixel count the header claims, not the file size: a 1 kB JPEG that
// claims 30000×30000 took 29 s and 5.5 GB. Images claiming more are refused before decoding.
inline constexpr long long kMaxImagePixels = 100'000'000;

// Largest factor f in {1, 2, 4, 8} that still leaves both sides >= target_size after decoding at 1/f,
// so reduced decoding never forces an upscale. 1 when the size is unknown (<= 0).
int reducedDecodeFactor(int width, int height, int target_size);

struct DecodedImage {
  cv::Mat rgb;         // CV_8UC3, RGB order
  int reduction = 1;   // the JPEG scale denominator actually used
};

// known_width/height: stored size from the project, used when the file header gives none (the header wins:
// the file may differ from what was imported). target_size <= 0 disables reduced decoding. Throws
// ImageDecodeError, with a one-line message, for missing, corrupt and too large (> kMaxImagePixels) images.
DecodedImage decodeImageRgb(const std::string& path, int target_size, int known_width = 0, int known_height = 0);

}  // namespace mls
