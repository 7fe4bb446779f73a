// Small comparison helpers shared by the ml tests.
#pragma once
#include <torch/torch.h>

#include <string>

namespace mls::test {

// max |a - b| over all elements, in double precision.
inline double maxAbsDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kDouble) - b.to(torch::kDouble)).abs().max().item<double>();
}

inline double maxAbs(const torch::Tensor& a) { return a.abs().max().item<double>(); }

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace mls::test
