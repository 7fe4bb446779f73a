// Feature extractors that turn ImageNet-normalised images (B,3,H,W) into a feature map (B,C,H/s,W/s).
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

namespace mls {

class Backbone : public torch::nn::Module {
 public:
  virtual torch::Tensor forward(const torch::Tensor& images) = 0;
  virtual int64_t outChannels() const = 0;
  // Total downsampling factor of the returned map (32 for ResNet C5).
  virtual int64_t stride() const = 0;
  // The parameters an optimizer should update (requires_grad == true).
  std::vector<torch::Tensor> trainableParameters() const;
  // Activation checkpointing while training (activation_checkpoint.h): ResNet in segments of ~sqrt(n)
  // residual blocks per stage, the tiny CNN per conv-BN-ReLU. Returns false (and stays off) for backbones
  // without known segments (TorchScript).
  virtual bool setActivationCheckpointing(bool on);
  bool activationCheckpointing() const { return checkpointing_; }

 protected:
  bool checkpointing_ = false;
};

struct BackboneOptions {
  // "tiny", "resnet18", "resnet34", "resnet50", "resnet101" or "torchscript:PATH".
  std::string name = "tiny";
  bool frozen_bn = false;    // ResNet: FrozenBatchNorm2d instead of BatchNorm2d (DETR / Q2L)
  bool freeze_stem = false;  // ResNet: conv1, bn1 and layer1 get requires_grad = false (Q2L R101)
  int64_t dry_run_size = 224;  // TorchScript: image size of the dry run that discovers C and the stride
};

// Throws std::invalid_argument for an unknown name, std::runtime_error for an unusable TorchScript file.
std::shared_ptr<Backbone> makeBackbone(const BackboneOptions& options);

}  // namespace mls
