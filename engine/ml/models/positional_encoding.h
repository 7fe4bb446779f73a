// DETR's 2-D sine positional encoding (as used by Query2Label).
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

namespace mls {

struct SineEncodingOptions {
  double temperature = 10000.0;
  bool normalize = true;           // positions divided by the map size, then times scale
  double scale = 6.283185307179586;  // 2*pi (DETR's default when normalising)
};

// Returns (1, hidden_dim, height, width). The first hidden_dim/2 channels encode the row (y), the rest the
// column (x); within each half channel 2j is sin(p / T^(2j/n)) and 2j+1 is cos(p / T^(2j/n)), n = hidden_dim/2,
// p = (index+1) [/ (size + 1e-6) * scale when normalised]. hidden_dim must be a multiple of 4.
torch::Tensor sinePositionEncoding2d(int64_t height, int64_t width, int64_t hidden_dim,
                                     const SineEncodingOptions& options = {},
                                     const c10::TensorOptions& tensor_options = {});

}  // namespace mls
