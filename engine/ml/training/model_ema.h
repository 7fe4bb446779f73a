// Exponential moving average of a model's weights, as Query2Label's ModelEma (from timm) keeps it:
// after every optimizer step, ema = decay * ema + (1 - decay) * w for every entry of the state dict
// (parameters and floating-point buffers such as BatchNorm running statistics); integer buffers
// (num_batches_tracked) are copied. The shadow starts as a copy of the model.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <vector>

namespace mls {

class ModelEma {
 public:
  // Throws std::invalid_argument unless 0 <= decay < 1.
  ModelEma(const torch::nn::Module& model, double decay);

  void update(const torch::nn::Module& model);
  // Writes the averaged weights into `model` (same architecture), in place.
  void copyTo(torch::nn::Module& model) const;
  // Exchanges the averaged and the model's weights without copying (no extra memory); calling it again
  // swaps them back. For evaluating the average on a model that keeps training afterwards.
  void swapWith(torch::nn::Module& model);
  // Replaces the average by stored values (stateTensors() order, e.g. from readStateFromArchive).
  void load(const std::vector<torch::Tensor>& state);

  double decay() const { return decay_; }
  const std::vector<torch::Tensor>& state() const { return shadow_; }

 private:
  void resetFrom(const torch::nn::Module& model);  // the shadow becomes a copy of the model's weights

  double decay_;
  std::vector<torch::Tensor> shadow_;        // same order as stateTensors(model)
  std::vector<size_t> averaged_, copied_;    // indices of floating-point / other entries
  std::vector<torch::Tensor> shadow_averaged_;  // shadow_[averaged_], as one list for the foreach update
  // The model update() last saw and its tensors, split like the shadow (see update()).
  const torch::nn::Module* live_model_ = nullptr;
  std::vector<torch::Tensor> live_averaged_, live_copied_;
};

}  // namespace mls
