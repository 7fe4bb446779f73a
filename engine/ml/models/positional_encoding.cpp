#include "ml/models/positional_encoding.h"

#include <torch/torch.h>

#include <stdexcept>

namespace mls {

torch::Tensor sinePositionEncoding2d(int64_t height, int64_t width, int64_t hidden_dim,
                                     const SineEncodingOptions& options, const c10::TensorOptions& tensor_options) {
  if (hidden_dim <= 0 || hidden_dim % 4 != 0)
    throw std::invalid_argument("sine positional encoding needs a hidden size divisible by 4, got " +
                                std::to_string(hidden_dim));
  const int64_t n = hidden_dim / 2;  // features per axis
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(tensor_options.device());

  // 1-based positions like DETR's cumsum over an all-valid mask.
  auto y = torch::arange(1, height + 1, f32);
  auto x = torch::arange(1, width + 1, f32);
  if (options.normalize) {
    const double eps = 1e-6;
    y = y / (static_cast<double>(height) + eps) * options.scale;
    x = x / (static_cast<double>(width) + eps) * options.scale;
  }
  // Frequencies shared by each sin/cos pair: T^(2*floor(i/2)/n).
  const auto i = torch::arange(n, f32);
  const auto dim_t = torch::pow(options.temperature, 2.0 * torch::floor(i / 2) / static_cast<double>(n));

  auto encodeAxis = [&](const torch::Tensor& p) {  // (L) -> (L, n), interleaving sin (even) and cos (odd)
    const auto a = p.unsqueeze(1) / dim_t;
    const auto even = a.index({torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2)}).sin();
    const auto odd = a.index({torch::indexing::Slice(), torch::indexing::Slice(1, torch::indexing::None, 2)}).cos();
    return torch::stack({even, odd}, 2).flatten(1);
  };
  const auto pos_y = encodeAxis(y).t().unsqueeze(2).expand({n, height, width});
  const auto pos_x = encodeAxis(x).t().unsqueeze(1).expand({n, height, width});
  auto pos = torch::cat({pos_y, pos_x}, 0).unsqueeze(0);
  if (tensor_options.has_dtype()) pos = pos.to(tensor_options.dtype().toScalarType());
  return pos.contiguous();
}

}  // namespace mls
