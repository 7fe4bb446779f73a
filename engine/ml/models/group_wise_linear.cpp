#include "ml/models/group_wise_linear.h"

#include <torch/torch.h>

#include <cmath>

namespace mls {

GroupWiseLinearImpl::GroupWiseLinearImpl(int64_t num_classes, int64_t hidden_dim, bool bias) {
  // Official init: weights and biases uniform in +-1/sqrt(hidden_dim).
  const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_dim));
  W_ = register_parameter("W", torch::empty({1, num_classes, hidden_dim}).uniform_(-bound, bound));
  if (bias) b_ = register_parameter("b", torch::empty({1, num_classes}).uniform_(-bound, bound));
}

torch::Tensor GroupWiseLinearImpl::forward(const torch::Tensor& x) {
  auto logits = (W_ * x).sum(-1);
  return b_.defined() ? logits + b_ : logits;
}

}  // namespace mls
