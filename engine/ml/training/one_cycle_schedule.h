// The one-cycle learning-rate policy (Smith & Topin 2018) exactly as torch.optim.lr_scheduler.OneCycleLR
// computes it with anneal_strategy="cos" and three_phase=False, which Query2Label's training script uses.
// LibTorch has no such scheduler, so the trainer asks this class for each optimizer step's values.
#pragma once
#include <cstdint>

namespace mls {

struct OneCycleOptions {
  double max_lr = 1e-4;
  int64_t total_steps = 1;        // optimizer steps over the whole run
  double pct_start = 0.3;         // PyTorch's default; Q2L passes 0.2
  double div_factor = 25.0;       // initial_lr = max_lr / div_factor
  double final_div_factor = 1e4;  // min_lr = initial_lr / final_div_factor
  double base_momentum = 0.85;    // beta1 at the learning-rate peak
  double max_momentum = 0.95;     // beta1 at the start and the end
};

class OneCycleSchedule {
 public:
  // Throws std::invalid_argument for total_steps < 1, pct_start outside [0, 1] or non-positive factors.
  explicit OneCycleSchedule(const OneCycleOptions& options);

  // Values for 0-based optimizer step `step`: PyTorch's scheduler sets these before that optimizer.step().
  // Steps past the end are clamped to the last step (PyTorch raises there instead).
  double lr(int64_t step) const;
  double momentum(int64_t step) const;  // Adam's beta1 when momentum is cycled

  double initialLr() const { return initial_lr_; }
  double minLr() const { return min_lr_; }

 private:
  // Cosine interpolation start -> end with progress pct in [0, 1] (PyTorch's _annealing_cos).
  static double annealCos(double start, double end, double pct);
  // Phase progress for `step`; which phase it falls in is returned in *warmup.
  double phaseProgress(int64_t step, bool* warmup) const;

  OneCycleOptions options_;
  double initial_lr_, min_lr_;
  double warmup_end_, final_step_;  // PyTorch's phase end_step values: pct*total - 1 and total - 1
};

}  // namespace mls
