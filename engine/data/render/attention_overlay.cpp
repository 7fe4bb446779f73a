#include "data/render/attention_overlay.h"

#include <torch/torch.h>

#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace mls {

cv::Mat attentionMap(const at::Tensor& attention, int label, int head) {
  if (!attention.defined() || attention.dim() != 4)
    throw std::invalid_argument("attention must be (heads, K, h, w)");
  if (label < 0 || label >= attention.size(1)) throw std::invalid_argument("label index out of range");
  if (head >= attention.size(0)) throw std::invalid_argument("head index out of range");
  at::Tensor m = head < 0 ? attention.select(1, label).mean(0) : attention[head][label];
  m = m.to(torch::kFloat32).cpu().contiguous();
  cv::Mat out(static_cast<int>(m.size(0)), static_cast<int>(m.size(1)), CV_32F);
  std::memcpy(out.data, m.data_ptr<float>(), sizeof(float) * static_cast<size_t>(m.numel()));
  return out;
}

cv::Mat renderAttentionOverlay(const cv::Mat& rgb, const cv::Mat& map, double opacity, int colormap) {
  if (rgb.empty() || rgb.type() != CV_8UC3) throw std::invalid_argument("overlay needs an 8-bit RGB image");
  if (map.empty()) throw std::invalid_argument("empty attention map");
  cv::Mat up;
  cv::resize(map, up, rgb.size(), 0, 0, cv::INTER_CUBIC);  // smooth like the papers' figures
  double lo = 0, hi = 0;
  cv::minMaxLoc(up, &lo, &hi);
  cv::Mat gray;
  up.convertTo(gray, CV_8U, hi > lo ? 255.0 / (hi - lo) : 0.0, hi > lo ? -lo * 255.0 / (hi - lo) : 0.0);
  cv::Mat heat_bgr, heat_rgb;
  cv::applyColorMap(gray, heat_bgr, colormap);
  cv::cvtColor(heat_bgr, heat_rgb, cv::COLOR_BGR2RGB);
  cv::Mat out;
  const double a = std::clamp(opacity, 0.0, 1.0);
  cv::addWeighted(rgb, 1.0 - a, heat_rgb, a, 0.0, out);
  return out;
}

}  // namespace mls
