#include "ml/models/frozen_batch_norm.h"

#include <torch/torch.h>

namespace mls {

FrozenBatchNorm2dImpl::FrozenBatchNorm2dImpl(int64_t channels, double eps) : eps_(eps) {
  weight_ = register_buffer("weight", torch::ones({channels}));
  bias_ = register_buffer("bias", torch::zeros({channels}));
  running_mean_ = register_buffer("running_mean", torch::zeros({channels}));
  running_var_ = register_buffer("running_var", torch::ones({channels}));
}

std::pair<torch::Tensor, torch::Tensor> FrozenBatchNorm2dImpl::scaleAndShift() const {
  // Fold the four buffers into one scale and shift (as DETR does), eps inside the rsqrt like the
  // Q2L copy so that non-torchvision statistics never produce NaN.
  const auto scale = weight_ * (running_var_ + eps_).rsqrt();
  return {scale, bias_ - running_mean_ * scale};
}

torch::Tensor FrozenBatchNorm2dImpl::forward(const torch::Tensor& x) {
  const auto [scale, shift] = scaleAndShift();
  return x * scale.to(x.dtype()).view({1, -1, 1, 1}) + shift.to(x.dtype()).view({1, -1, 1, 1});
}

}  // namespace mls
