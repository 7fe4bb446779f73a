#include "ml/training/model_ema.h"

#include <torch/torch.h>

#include <stdexcept>

#include "ml/training/module_state.h"

namespace mls {

ModelEma::ModelEma(const torch::nn::Module& model, double decay) : decay_(decay) {
  if (!(decay >= 0.0 && decay < 1.0)) throw std::invalid_argument("EMA decay must be in [0, 1)");
  resetFrom(model);
}

void ModelEma::resetFrom(const torch::nn::Module& model) {
  shadow_ = cloneState(model);
  averaged_.clear();
  copied_.clear();
  for (size_t i = 0; i < shadow_.size(); ++i) (shadow_[i].is_floating_point() ? averaged_ : copied_).push_back(i);
  shadow_averaged_.clear();
  for (size_t i : averaged_) shadow_averaged_.push_back(shadow_[i]);  // same tensors as in shadow_
  live_model_ = nullptr;
}

void ModelEma::load(const std::vector<torch::Tensor>& state) {
  try {
    copyTensors(shadow_, state);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string("EMA: stored weights do not match the model (") + e.what() + ")");
  }
}

void ModelEma::update(const torch::nn::Module& model) {
  // Walking the module tree builds every dotted name: do it once per model, not after every step (the
  // tensors keep their identity through device moves, layout changes and swapWith).
  if (&model != live_model_) {
    const auto live = stateTensors(model);
    if (live.size() != shadow_.size()) throw std::invalid_argument("EMA: model does not match the averaged one");
    live_averaged_.clear();
    live_copied_.clear();
    for (size_t i : averaged_) live_averaged_.push_back(live[i]);
    for (size_t i : copied_) live_copied_.push_back(live[i]);
    live_model_ = &model;
  }
  torch::NoGradGuard no_grad;
  // One fused kernel per list instead of two per tensor: this runs after every optimizer step.
  at::_foreach_mul_(shadow_averaged_, decay_);
  at::_foreach_add_(shadow_averaged_, live_averaged_, 1.0 - decay_);
  for (size_t j = 0; j < copied_.size(); ++j) shadow_[copied_[j]].copy_(live_copied_[j]);
}

void ModelEma::copyTo(torch::nn::Module& model) const { copyState(model, shadow_); }

void ModelEma::swapWith(torch::nn::Module& model) {
  const auto live = stateTensors(model);
  if (live.size() != shadow_.size()) throw std::invalid_argument("EMA: model does not match the averaged one");
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < live.size(); ++i) {
    if (live[i].sizes() != shadow_[i].sizes()) throw std::invalid_argument("EMA: weight has the wrong shape");
    // Exchange storages, not values: the tensors keep their identity (optimizer state is keyed by it).
    const auto held = live[i].detach();
    live[i].set_data(shadow_[i]);
    shadow_[i].set_data(held);
  }
}

}  // namespace mls
