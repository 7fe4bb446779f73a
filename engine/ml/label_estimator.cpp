// Initialisation follows the official models.py LabelEstimator: unobserved logits uniform in
// [-logit(0.6), +logit(0.6)] (q·(2u-1) with q = inverse_sigmoid(0.5 + 0.1)), observed positives
// logit(0.995), observed negatives logit(0.005).
#include "ml/label_estimator.h"

#include <torch/torch.h>

#include <cmath>
#include <random>
#include <stdexcept>

namespace mls {

namespace {

double logit(double p) { return std::log(p / (1.0 - p)); }

// Uniform [0,1) from the top 53 bits: unlike std::uniform_real_distribution this gives the same
// numbers with every standard library, so a seed means the same estimator everywhere.
double uniform01(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

torch::Tensor initialLogits(const torch::Tensor& observed, uint64_t seed) {
  if (!observed.defined() || observed.dim() != 2)
    throw std::invalid_argument("LabelEstimator: observed labels must be an (N, K) tensor");
  auto obs = observed.to(torch::kCPU, torch::kFloat).contiguous();
  const int64_t count = obs.numel();
  auto init = torch::empty(obs.sizes(), torch::kFloat);
  const float* o = obs.data_ptr<float>();
  float* out = init.data_ptr<float>();
  const double unobserved_range = logit(0.6);
  const float positive = static_cast<float>(logit(0.995));
  const float negative = static_cast<float>(logit(0.005));
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < count; ++i) {
    // Draw for every entry so an entry's initial value does not depend on the other labels.
    const double u = uniform01(rng);
    if (o[i] > 0.5f) out[i] = positive;
    else if (o[i] < -0.5f) out[i] = negative;
    else out[i] = static_cast<float>(unobserved_range * (2.0 * u - 1.0));
  }
  return init;
}

}  // namespace

LabelEstimatorImpl::LabelEstimatorImpl(const torch::Tensor& observed, uint64_t seed) {
  logits = register_parameter("logits", initialLogits(observed, seed));
}

torch::Tensor LabelEstimatorImpl::forward(const torch::Tensor& indices) {
  return logits.index_select(0, indices.to(logits.device(), torch::kLong).reshape({-1}));
}

torch::Tensor LabelEstimatorImpl::estimates() const {
  torch::NoGradGuard no_grad;
  return torch::sigmoid(logits).detach();
}

}  // namespace mls
