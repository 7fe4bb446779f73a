#include "inspect/rgb_image.h"

namespace mls {

QImage rgbMatToQImage(const cv::Mat& rgb) {
  if (rgb.empty() || rgb.type() != CV_8UC3) return {};
  const QImage view(rgb.data, rgb.cols, rgb.rows, static_cast<qsizetype>(rgb.step), QImage::Format_RGB888);
  return view.copy();
}

}  // namespace mls
