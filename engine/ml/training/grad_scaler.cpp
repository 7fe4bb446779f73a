#include "ml/training/grad_scaler.h"

#include <torch/torch.h>

namespace mls {

GradScaler::GradScaler(bool enabled, const GradScalerOptions& options)
    : enabled_(enabled), options_(options), scale_(options.init_scale) {}

at::Tensor GradScaler::scale(const at::Tensor& loss) const { return enabled_ ? loss * scale_ : loss; }

bool GradScaler::unscale(const std::vector<at::Tensor>& params) {
  if (!enabled_) return true;
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (const auto& p : params)
    if (p.grad().defined()) grads.push_back(p.grad());
  if (grads.empty()) return true;
  if (grads.front().is_cuda()) {
    // PyTorch's GradScaler kernel: unscales every gradient and flags non-finite ones in one pass.
    auto found_inf = torch::zeros({1}, grads.front().options().dtype(torch::kFloat));
    const auto inv_scale = torch::full({1}, 1.0 / scale_, found_inf.options());
    at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale);
    return found_inf.item<float>() == 0.0f;
  }
  at::_foreach_mul_(grads, 1.0 / scale_);
  // Accumulate on the device and synchronise once, not once per tensor.
  auto all_finite = torch::ones({}, grads.front().options().dtype(torch::kBool));
  for (const auto& g : grads) all_finite = all_finite.logical_and(torch::isfinite(g).all());
  return all_finite.item<bool>();
}

void GradScaler::update(bool step_was_finite) {
  if (!enabled_) return;
  if (!step_was_finite) {
    scale_ *= options_.backoff_factor;
    growth_tracker_ = 0;
    return;
  }
  if (++growth_tracker_ >= options_.growth_interval) {
    scale_ *= options_.growth_factor;
    growth_tracker_ = 0;
  }
}

void GradScaler::setState(double scale, int64_t growth_tracker) {
  scale_ = scale;
  growth_tracker_ = growth_tracker;
}

}  // namespace mls
