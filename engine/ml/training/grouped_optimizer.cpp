#include "ml/training/grouped_optimizer.h"

#include "ml/training/foreach_adam.h"

#include <torch/torch.h>

#include <stdexcept>
#include <tuple>

namespace mls {

GroupedOptimizer::GroupedOptimizer(const std::string& kind, std::vector<ParamGroupSpec> groups, double base_lr,
                                   bool foreach)
    : foreach_(foreach) {
  if (kind != "adam" && kind != "adamw")
    throw std::invalid_argument("unknown optimizer '" + kind + "' (expected adamw or adam)");
  adamw_ = kind == "adamw";
  std::vector<torch::optim::OptimizerParamGroup> torch_groups;
  for (auto& g : groups) {
    if (g.params.empty()) continue;
    const double lr = base_lr * g.lr_multiplier;
    std::unique_ptr<torch::optim::OptimizerOptions> options;
    // betas (0.9, 0.999) and eps 1e-8 are the PyTorch defaults both official codebases keep.
    if (adamw_) options = std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(lr).weight_decay(g.weight_decay));
    else options = std::make_unique<torch::optim::AdamOptions>(torch::optim::AdamOptions(lr).weight_decay(g.weight_decay));
    torch_groups.emplace_back(g.params, std::move(options));
    all_params_.insert(all_params_.end(), g.params.begin(), g.params.end());
    specs_.push_back(std::move(g));
  }
  if (torch_groups.empty()) throw std::invalid_argument("the optimizer has no trainable parameters");
  if (adamw_) optimizer_ = std::make_unique<torch::optim::AdamW>(std::move(torch_groups), torch::optim::AdamWOptions(base_lr));
  else optimizer_ = std::make_unique<torch::optim::Adam>(std::move(torch_groups), torch::optim::AdamOptions(base_lr));
}

GroupedOptimizer::~GroupedOptimizer() = default;

void GroupedOptimizer::setLearningRate(double base_lr, std::optional<double> beta1) {
  auto& groups = optimizer_->param_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    auto& options = groups[i].options();
    options.set_lr(base_lr * specs_[i].lr_multiplier);
    if (!beta1) continue;
    if (adamw_) {
      auto& o = static_cast<torch::optim::AdamWOptions&>(options);
      o.betas(std::make_tuple(*beta1, std::get<1>(o.betas())));
    } else {
      auto& o = static_cast<torch::optim::AdamOptions&>(options);
      o.betas(std::make_tuple(*beta1, std::get<1>(o.betas())));
    }
  }
}

void GroupedOptimizer::zeroGrad() {
  for (auto& p : all_params_)
    if (p.grad().defined()) p.mutable_grad().reset();
}

void GroupedOptimizer::step() {
  if (foreach_) foreachAdamStep(*optimizer_, adamw_);
  else optimizer_->step();
}

std::vector<ParamGroupInfo> GroupedOptimizer::info() const {
  std::vector<ParamGroupInfo> out;
  const auto& groups = optimizer_->param_groups();
  for (size_t i = 0; i < groups.size(); ++i) {
    ParamGroupInfo g;
    g.name = specs_[i].name;
    g.tensors = static_cast<int64_t>(specs_[i].params.size());
    g.lr_multiplier = specs_[i].lr_multiplier;
    g.lr = groups[i].options().get_lr();
    g.weight_decay = specs_[i].weight_decay;
    out.push_back(g);
  }
  return out;
}

void GroupedOptimizer::save(torch::serialize::OutputArchive& archive) const { optimizer_->save(archive); }

void GroupedOptimizer::load(torch::serialize::InputArchive& archive) { optimizer_->load(archive); }

}  // namespace mls
