// BatchNorm2d with fixed statistics and affine parameters (all four are buffers, never trained).
// Matches DETR / Query2Label's FrozenBatchNorm2d so torchvision weights load by name
// (weight, bias, running_mean, running_var; num_batches_tracked is simply not present).
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <utility>

namespace mls {

class FrozenBatchNorm2dImpl : public torch::nn::Module {
 public:
  explicit FrozenBatchNorm2dImpl(int64_t channels, double eps = 1e-5);
  torch::Tensor forward(const torch::Tensor& x);
  // The map as y = scale * x + shift, per channel (C,) each.
  std::pair<torch::Tensor, torch::Tensor> scaleAndShift() const;

 private:
  torch::Tensor weight_, bias_, running_mean_, running_var_;
  double eps_;
};

TORCH_MODULE(FrozenBatchNorm2d);

}  // namespace mls
