// A small CNN backbone for fast CPU work: trains in minutes on 2 cores at 64-128 px.
// Stages of conv3x3-BN-ReLU; total stride 16 so a 64 px image still gives a 4x4 map to attend over.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/modules/container/sequential.h>

#include <vector>

#include "ml/models/backbone.h"

namespace mls {

struct TinyCnnOptions {
  // Output width of each stage; every stage but the last halves the resolution.
  std::vector<int64_t> widths{32, 64, 96, 128, 128};
  // Extra stride-1 conv in the middle stages (cheap capacity at low resolution).
  bool double_conv = true;
};

class TinyCnn : public Backbone {
 public:
  explicit TinyCnn(const TinyCnnOptions& options = {});
  torch::Tensor forward(const torch::Tensor& images) override;
  bool setActivationCheckpointing(bool on) override;
  int64_t outChannels() const override { return out_channels_; }
  int64_t stride() const override { return stride_; }

 private:
  torch::nn::Sequential features_{nullptr};
  int64_t out_channels_ = 0;
  int64_t stride_ = 1;
};

}  // namespace mls
