// Multi-head scaled dot-product attention that can return per-head weights (torch's MultiheadAttention
// averages heads). Parameter names match torch.nn.MultiheadAttention (in_proj_weight, in_proj_bias,
// out_proj.weight/bias) so official Q2L checkpoints map onto it.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <utility>

namespace mls {

class MultiheadAttentionImpl : public torch::nn::Module {
 public:
  MultiheadAttentionImpl(int64_t embed_dim, int64_t num_heads, double dropout = 0.0);
  // query (B,Lq,d), key and value (B,Lk,d) (batch-first). Returns the output (B,Lq,d) and, when need_weights,
  // the softmax weights per head (B,heads,Lq,Lk) before dropout (rows sum to 1); otherwise an undefined tensor.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& query, const torch::Tensor& key,
                                                  const torch::Tensor& value, bool need_weights = false);

 private:
  int64_t embed_dim_, num_heads_, head_dim_;
  double dropout_;
  torch::Tensor in_proj_weight_, in_proj_bias_;
  torch::nn::Linear out_proj_{nullptr};
};
TORCH_MODULE(MultiheadAttention);

}  // namespace mls
