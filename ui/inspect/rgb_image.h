// OpenCV RGB images (what the engine decodes and renders) as QImages, copied so they outlive the Mat.
#pragma once
#include <QImage>
#include <opencv2/core/mat.hpp>

namespace mls {

// CV_8UC3 RGB -> QImage::Format_RGB888 (deep copy). A null QImage for an empty or other-typed Mat.
QImage rgbMatToQImage(const cv::Mat& rgb);

}  // namespace mls
