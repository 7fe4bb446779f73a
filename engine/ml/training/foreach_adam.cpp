#include "ml/training/foreach_adam.h"

#include <torch/torch.h>

#include <cmath>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace mls {

namespace {

// The optimizer's state map is keyed by the TensorImpl pointer: as its printed form in LibTorch 1.x
// (c10::guts::to_string(ptr), i.e. ostream << ptr), as the pointer itself in 2.x. Deduce which from the
// map instead of testing version macros.
template <typename Map>
typename Map::key_type stateKey(const torch::Tensor& p) {
  using Key = typename Map::key_type;
  const void* impl = p.unsafeGetTensorImpl();
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream printed;
    printed << impl;
    return printed.str();
  } else {
    return static_cast<Key>(const_cast<void*>(impl));
  }
}

// One group's tensors that share a step count (normally all of them), so they share bias corrections.
struct Bucket {
  std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs;
};

template <typename Options, typename State>
void stepGroups(torch::optim::Optimizer& optimizer, bool adamw) {
  torch::NoGradGuard no_grad;
  auto& states = optimizer.state();
  using Map = std::decay_t<decltype(states)>;
  for (auto& group : optimizer.param_groups()) {
    auto& options = static_cast<Options&>(group.options());
    if (options.amsgrad()) throw std::invalid_argument("foreach Adam does not implement amsgrad");
    const double lr = options.lr(), wd = options.weight_decay(), eps = options.eps();
    const auto [beta1, beta2] = options.betas();

    std::map<int64_t, Bucket> buckets;  // by the step count after this update
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto key = stateKey<Map>(p);
      auto it = states.find(key);
      if (it == states.end()) {
        auto fresh = std::make_unique<State>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, at::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, at::MemoryFormat::Preserve));
        it = states.emplace(key, std::move(fresh)).first;
      }
      auto& state = static_cast<State&>(*it->second);
      state.step(state.step() + 1);
      auto& b = buckets[state.step()];
      b.params.push_back(p);
      b.grads.push_back(p.grad());
      b.exp_avgs.push_back(state.exp_avg());
      b.exp_avg_sqs.push_back(state.exp_avg_sq());
    }

    for (auto& [step, b] : buckets) {
      std::vector<torch::Tensor> grads = b.grads;
      if (wd != 0) {
        if (adamw) at::_foreach_mul_(b.params, 1.0 - lr * wd);
        else grads = at::_foreach_add(b.grads, b.params, wd);
      }
      const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(step));
      const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(step));
      at::_foreach_mul_(b.exp_avgs, beta1);
      at::_foreach_add_(b.exp_avgs, grads, 1.0 - beta1);
      at::_foreach_mul_(b.exp_avg_sqs, beta2);
      at::_foreach_addcmul_(b.exp_avg_sqs, grads, grads, 1.0 - beta2);
      auto denom = at::_foreach_sqrt(b.exp_avg_sqs);
      at::_foreach_div_(denom, std::sqrt(bias_correction2));
      at::_foreach_add_(denom, eps);
      at::_foreach_addcdiv_(b.params, b.exp_avgs, denom, -lr / bias_correction1);
    }
  }
}

}  // namespace

void foreachAdamStep(torch::optim::Optimizer& optimizer, bool adamw) {
  if (adamw) stepGroups<torch::optim::AdamWOptions, torch::optim::AdamWParamState>(optimizer, true);
  else stepGroups<torch::optim::AdamOptions, torch::optim::AdamParamState>(optimizer, false);
}

}  // namespace mls
