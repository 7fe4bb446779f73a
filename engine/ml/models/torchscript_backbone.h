// Any network exported from Python with torch.jit.script/trace whose forward(images) returns a
// feature map (B,C,H,W) (TResNet, Swin, CvT, ...). C and the stride are found by a dry run.
// The scripted module's parameters and buffers are mirrored (same tensors, same dotted names) into
// this nn::Module, so optimizers, .to(device) and save/load archives see them like native ones.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/script.h>

#include <string>

#include "ml/models/backbone.h"

namespace mls {

class TorchScriptBackbone : public Backbone {
 public:
  // Throws std::runtime_error when the file cannot be loaded or does not return a 4-D map.
  TorchScriptBackbone(const std::string& path, int64_t dry_run_size = 224);
  torch::Tensor forward(const torch::Tensor& images) override;
  int64_t outChannels() const override { return out_channels_; }
  int64_t stride() const override { return stride_; }
  void train(bool on = true) override;

 private:
  torch::Tensor runScripted(const torch::Tensor& images);
  void mirrorTensors();

  std::string path_;
  torch::jit::Module scripted_;
  int64_t out_channels_ = 0;
  int64_t stride_ = 1;
};

}  // namespace mls
