// Draws a label query's cross-attention map over its image: upsampled, colour-mapped, alpha-blended.
#pragma once
#include <opencv2/core/mat.hpp>

namespace at { class Tensor; }

namespace mls {

// attention: (heads, K, h, w). head < 0 averages the heads. Returns the (h, w) float map for `label`.
cv::Mat attentionMap(const at::Tensor& attention, int label, int head = -1);

// rgb: CV_8UC3 RGB. map: (h, w) float, any range (min-max normalised). opacity 0..1 of the heat map.
// Returns a CV_8UC3 RGB image the size of rgb. colormap: an OpenCV cv::ColormapTypes value (default JET).
cv::Mat renderAttentionOverlay(const cv::Mat& rgb, const cv::Mat& map, double opacity, int colormap = 2);

}  // namespace mls
