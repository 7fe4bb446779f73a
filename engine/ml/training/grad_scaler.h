// Dynamic loss scaling for float16 mixed precision, following torch.cuda.amp.GradScaler's defaults and
// rules: multiply the loss by the scale, unscale the gradients before the step (and before clipping),
// skip the step and halve the scale when a gradient is inf/NaN, double it after 2000 clean steps.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace mls {

struct GradScalerOptions {
  double init_scale = 65536.0;  // 2^16
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;
};

class GradScaler {
 public:
  explicit GradScaler(bool enabled = false, const GradScalerOptions& options = {});

  bool enabled() const { return enabled_; }
  // loss * scale when enabled, else the loss itself.
  at::Tensor scale(const at::Tensor& loss) const;
  // Divides the gradients of `params` by the scale in place. Returns true when all are finite
  // (the optimizer may step); false means skip this step. Always true when disabled.
  bool unscale(const std::vector<at::Tensor>& params);
  // Adjusts the scale after a step attempt: backoff on overflow, growth after growth_interval clean steps.
  void update(bool step_was_finite);

  double scaleValue() const { return scale_; }
  int64_t growthTracker() const { return growth_tracker_; }
  void setState(double scale, int64_t growth_tracker);

 private:
  bool enabled_;
  GradScalerOptions options_;
  double scale_;
  int64_t growth_tracker_ = 0;
};

}  // namespace mls
