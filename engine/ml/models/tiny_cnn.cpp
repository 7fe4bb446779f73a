#include "ml/models/tiny_cnn.h"

#include <torch/torch.h>

#include <stdexcept>

#include "ml/models/activation_checkpoint.h"

namespace mls {
namespace {

void appendConvBnRelu(torch::nn::Sequential& seq, int64_t in, int64_t out, int64_t stride) {
  seq->push_back(torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false)));
  seq->push_back(torch::nn::BatchNorm2d(out));
  seq->push_back(torch::nn::ReLU(torch::nn::ReLUOptions().inplace(true)));
}

}  // namespace

TinyCnn::TinyCnn(const TinyCnnOptions& options) {
  if (options.widths.empty()) throw std::invalid_argument("TinyCnn needs at least one stage");
  features_ = torch::nn::Sequential();
  int64_t in = 3;
  const size_t n = options.widths.size();
  for (size_t i = 0; i < n; ++i) {
    const bool last = i + 1 == n;
    const int64_t s = last && n > 1 ? 1 : 2;
    appendConvBnRelu(features_, in, options.widths[i], s);
    // Stage 0 runs at the highest resolution; a second conv there would dominate the cost.
    if (options.double_conv && i > 0 && !last) appendConvBnRelu(features_, options.widths[i], options.widths[i], 1);
    stride_ *= s;
    in = options.widths[i];
  }
  out_channels_ = in;
  register_module("features", features_);
  for (auto& p : parameters())
    if (p.dim() == 4) torch::nn::init::kaiming_normal_(p, 0.0, torch::kFanOut, torch::kReLU);
}

torch::Tensor TinyCnn::forward(const torch::Tensor& images) {
  if (!checkpointing_ || !is_training()) return features_->forward(images);
  // One segment per conv-BN-ReLU triple (appendConvBnRelu's layout).
  auto x = images;
  const auto children = features_->children();
  for (size_t i = 0; i + 2 < children.size(); i += 3) {
    auto seq = features_;
    x = checkpointSegment({children[i].get(), children[i + 1].get(), children[i + 2].get()},
                          [seq, i](const torch::Tensor& t) mutable {
                            auto y = t;
                            for (auto it = seq->begin() + i; it != seq->begin() + i + 3; ++it) y = it->forward(y);
                            return y;
                          },
                          x);
  }
  return x;
}

bool TinyCnn::setActivationCheckpointing(bool on) {
  checkpointing_ = on;
  return true;
}

}  // namespace mls
