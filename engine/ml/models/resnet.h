// ResNet-18/34/50/101 with torchvision's exact module, parameter and buffer names
// (conv1, bn1, layer1..4 / "0","1",.. / conv1..3, bn1..3, downsample.0/.1, optional fc),
// so a torchvision state_dict loads by name. forward() returns C5 (stride 32).
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>

#include <string>

#include "ml/models/backbone.h"

namespace mls {

struct ResNetOptions {
  int depth = 50;            // 18, 34, 50 or 101
  bool frozen_bn = false;    // FrozenBatchNorm2d everywhere (DETR / Q2L default for pretrained backbones)
  bool freeze_stem = false;  // conv1 + bn1 + layer1 not trained (Q2L trains only layer2..4)
  // Frozen BN folded into the convolution before it (same outputs; no pass over the activations for the
  // norm, forward or backward). Off only to compare against the unfolded computation.
  bool fold_frozen_bn = true;
  bool with_fc = false;      // keep torchvision's 1000-way classifier (for checking exported weights)
  int64_t fc_classes = 1000;
};

// "resnet18" -> 18 ...; throws std::invalid_argument for names that are not a supported ResNet.
int resnetDepthFromName(const std::string& name);

// BasicBlock (18/34) or Bottleneck (50/101, torchvision "v1.5": stride on the 3x3 conv).
class ResNetBlock : public torch::nn::Module {
 public:
  ResNetBlock(bool bottleneck, int64_t in_channels, int64_t planes, int64_t stride, bool frozen_bn,
              bool fold_frozen_bn = true);
  torch::Tensor forward(const torch::Tensor& x);
  static int64_t expansion(bool bottleneck) { return bottleneck ? 4 : 1; }

 private:
  bool bottleneck_;
  bool fold_;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr}, conv3_{nullptr};
  torch::nn::AnyModule bn1_, bn2_, bn3_;
  torch::nn::Sequential downsample_{nullptr};
};

class ResNet : public Backbone {
 public:
  explicit ResNet(const ResNetOptions& options);
  torch::Tensor forward(const torch::Tensor& images) override;  // C5 map (B, C, H/32, W/32)
  bool setActivationCheckpointing(bool on) override;
  int64_t outChannels() const override { return out_channels_; }
  int64_t stride() const override { return 32; }
  // Global-average-pooled C5 through fc: torchvision's logits. Requires with_fc.
  torch::Tensor classify(const torch::Tensor& images);
  const ResNetOptions& options() const { return options_; }

 private:
  torch::nn::Sequential makeLayer(int64_t planes, int blocks, int64_t stride);
  torch::Tensor runLayer(torch::nn::Sequential& layer, torch::Tensor x);

  ResNetOptions options_;
  bool bottleneck_;
  int64_t in_channels_ = 64;
  int64_t out_channels_ = 0;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::AnyModule bn1_;
  torch::nn::Sequential layer1_{nullptr}, layer2_{nullptr}, layer3_{nullptr}, layer4_{nullptr};
  torch::nn::Linear fc_{nullptr};
};

}  // namespace mls
