// Adam / AdamW over named parameter groups whose learning rates keep fixed ratios to one base rate
// (ROLE's estimator group runs at 10x, as the official code's second Adam group). The schedule sets the
// base rate (and Adam's beta1 when momentum is cycled) before every step.
#pragma once
#include <ATen/core/Tensor.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ml/training/training_types.h"

namespace torch {
namespace optim { class Optimizer; }
namespace serialize { class InputArchive; class OutputArchive; }
}  // namespace torch

namespace mls {

struct ParamGroupSpec {
  std::string name;
  std::vector<torch::Tensor> params;
  double lr_multiplier = 1.0;
  double weight_decay = 0.0;
};

class GroupedOptimizer {
 public:
  // kind: "adam" | "adamw". Empty groups are dropped. Throws std::invalid_argument for an unknown kind or
  // when no group has parameters. foreach: multi-tensor update (foreach_adam.h); false runs torch's own
  // per-parameter step() (the same numbers; kept as the reference the tests compare against).
  GroupedOptimizer(const std::string& kind, std::vector<ParamGroupSpec> groups, double base_lr, bool foreach = true);
  ~GroupedOptimizer();

  void setLearningRate(double base_lr, std::optional<double> beta1 = std::nullopt);
  // Drops the gradients (set to none, PyTorch 2.x's default): no zero-fill kernels, and the memory of the
  // gradients is free between an optimizer step and the next backward.
  void zeroGrad();
  void step();
  const std::vector<torch::Tensor>& parameters() const { return all_params_; }
  std::vector<ParamGroupInfo> info() const;

  void save(torch::serialize::OutputArchive& archive) const;
  void load(torch::serialize::InputArchive& archive);  // throws c10::Error when the groups differ

 private:
  bool adamw_;
  bool foreach_;
  std::vector<ParamGroupSpec> specs_;
  std::vector<torch::Tensor> all_params_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
};

}  // namespace mls
