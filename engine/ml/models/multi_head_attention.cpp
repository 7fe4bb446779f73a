#include "ml/models/multi_head_attention.h"

#include <torch/torch.h>

#include <cmath>
#include <stdexcept>

namespace mls {

MultiheadAttentionImpl::MultiheadAttentionImpl(int64_t embed_dim, int64_t num_heads, double dropout)
    : embed_dim_(embed_dim), num_heads_(num_heads), head_dim_(0), dropout_(dropout) {
  if (num_heads <= 0 || embed_dim % num_heads != 0)
    throw std::invalid_argument("attention: hidden size " + std::to_string(embed_dim) +
                                " is not divisible by the number of heads " + std::to_string(num_heads));
  head_dim_ = embed_dim / num_heads;
  in_proj_weight_ = register_parameter("in_proj_weight", torch::empty({3 * embed_dim, embed_dim}));
  in_proj_bias_ = register_parameter("in_proj_bias", torch::zeros({3 * embed_dim}));
  out_proj_ = register_module("out_proj", torch::nn::Linear(embed_dim, embed_dim));
  // PyTorch's MultiheadAttention initialisation: Xavier-uniform packed projections, zero biases.
  torch::nn::init::xavier_uniform_(in_proj_weight_);
  torch::NoGradGuard no_grad;
  out_proj_->bias.zero_();
}

std::pair<torch::Tensor, torch::Tensor> MultiheadAttentionImpl::forward(const torch::Tensor& query,
                                                                        const torch::Tensor& key,
                                                                        const torch::Tensor& value,
                                                                        bool need_weights) {
  const int64_t b = query.size(0), lq = query.size(1), lk = key.size(1);
  const auto w = in_proj_weight_.chunk(3, 0);
  const auto bias = in_proj_bias_.chunk(3, 0);
  auto split = [&](const torch::Tensor& t, int64_t len) {  // (B,L,d) -> (B,heads,L,head_dim)
    return t.view({b, len, num_heads_, head_dim_}).transpose(1, 2);
  };
  const auto q = split(torch::nn::functional::linear(query, w[0], bias[0]), lq) / std::sqrt(double(head_dim_));
  const auto k = split(torch::nn::functional::linear(key, w[1], bias[1]), lk);
  const auto v = split(torch::nn::functional::linear(value, w[2], bias[2]), lk);

  const auto weights = torch::softmax(torch::matmul(q, k.transpose(-2, -1)), -1);  // (B,h,Lq,Lk)
  const auto dropped =
      (dropout_ > 0 && is_training()) ? torch::dropout(weights, dropout_, /*train=*/true) : weights;
  const auto context = torch::matmul(dropped, v).transpose(1, 2).reshape({b, lq, embed_dim_});
  return {out_proj_->forward(context), need_weights ? weights : torch::Tensor()};
}

}  // namespace mls
