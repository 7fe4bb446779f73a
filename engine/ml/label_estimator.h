// ROLE label estimator g (Cole et al. 2021): one trainable logit per (training image, class).
#pragma once
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace mls {

// The official code trains f and g with one Adam optimizer in two parameter groups, g's with
// this multiple of f's learning rate (train.py: P['lr_mult'] = 10). The trainer builds the groups.
constexpr double kRoleEstimatorLrMultiplier = 10.0;

class LabelEstimatorImpl : public torch::nn::Module {
 public:
  // observed: (N,K) with +1 observed positive, 0 unobserved, -1 observed negative; row n is the
  // training image with dataset index n. Initial logits are deterministic for a given seed.
  LabelEstimatorImpl(const torch::Tensor& observed, uint64_t seed);

  // indices: (B,) int64 dataset indices -> (B,K) logits (not probabilities).
  torch::Tensor forward(const torch::Tensor& indices);

  // (N,K) probabilities sigmoid(logits), detached, for inspection.
  torch::Tensor estimates() const;

  torch::Tensor logits;  // registered parameter "logits", (N,K) float32
};
TORCH_MODULE(LabelEstimator);

}  // namespace mls
