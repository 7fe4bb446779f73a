// Query2Label's classification head: one weight vector per class, logit_k = W_k . h_k + b_k.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

namespace mls {

class GroupWiseLinearImpl : public torch::nn::Module {
 public:
  GroupWiseLinearImpl(int64_t num_classes, int64_t hidden_dim, bool bias = true);
  // x (B,K,d) -> logits (B,K)
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight() const { return W_; }  // (1,K,d), named "W" like the official code
  torch::Tensor bias() const { return b_; }    // (1,K), named "b"; undefined without bias

 private:
  torch::Tensor W_, b_;
};
TORCH_MODULE(GroupWiseLinear);

}  // namespace mls
