#include "ml/models/activation_checkpoint.h"

#include <torch/torch.h>

#include <utility>

#include "ml/autocast_guard.h"

namespace mls {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What backward needs besides tensors; travels in the autograd context as a capsule.
struct SegmentState : torch::CustomClassHolder {
  SegmentForward forward;
  std::vector<at::Tensor> buffers;  // restored after the recomputation (training mode only)
  AutocastState autocast, cpu_autocast;  // the forward's, as torch.utils.checkpoint records both devices'
  bool input_requires_grad = false;
};

struct CheckpointFunction : torch::autograd::Function<CheckpointFunction> {
  // Called with grad mode off by Function::apply: nothing inside the segment is kept for backward.
  static at::Tensor forward(AutogradContext* ctx, c10::intrusive_ptr<SegmentState> state, const at::Tensor& input,
                            at::TensorList params) {
    std::vector<at::Tensor> saved{input};
    saved.insert(saved.end(), params.begin(), params.end());
    ctx->save_for_backward(saved);
    auto out = state->forward(input);
    ctx->saved_data["segment"] = c10::IValue::make_capsule(std::move(state));
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    auto state = c10::static_intrusive_pointer_cast<SegmentState>(ctx->saved_data["segment"].toCapsule());
    const auto saved = ctx->get_saved_variables();
    auto input = saved[0].detach().requires_grad_(state->input_requires_grad);
    // Running statistics go back to their values before the recomputation when this scope ends, also when
    // the recomputation throws (e.g. out of memory). Only after grad(): batch_norm's backward reads the
    // statistics it saved during the recomputation.
    struct RestoreBuffers {
      std::vector<at::Tensor>& live;
      std::vector<at::Tensor> values;
      ~RestoreBuffers() {
        torch::NoGradGuard no_grad;
        for (size_t i = 0; i < values.size(); ++i) live[i].copy_(values[i]);
      }
    } restore{state->buffers, {}};
    {
      torch::NoGradGuard no_grad;
      for (const auto& b : state->buffers) restore.values.push_back(b.clone());
    }
    at::Tensor out;
    {
      // Backward may run on another thread (CUDA's device threads) with another autocast state: set the
      // recorded one, on or off.
      torch::AutoGradMode grad_on(true);
      AutocastStateGuard autocast(state->autocast);
      AutocastStateGuard cpu_autocast(state->cpu_autocast, c10::DeviceType::CPU);
      out = state->forward(input);
    }
    std::vector<at::Tensor> wrt(saved.begin() + 1, saved.end());
    if (state->input_requires_grad) wrt.insert(wrt.begin(), input);
    auto grads = torch::autograd::grad({out}, wrt, {grad_outputs[0]}, /*retain_graph=*/false,
                                       /*create_graph=*/false, /*allow_unused=*/true);
    // One entry per forward argument, TensorList flattened: state (none), input, then each parameter.
    variable_list result{at::Tensor()};
    size_t next = 0;
    result.push_back(state->input_requires_grad ? grads[next++] : at::Tensor());
    for (; next < grads.size(); ++next) result.push_back(grads[next]);
    return result;
  }
};

// The buffers a recomputation would change: BatchNorm running statistics (frozen norms have none that move).
std::vector<at::Tensor> runningStatistics(const std::vector<torch::nn::Module*>& modules) {
  std::vector<at::Tensor> out;
  for (auto* segment_module : modules) {
    for (const auto& m : segment_module->modules()) {
      if (dynamic_cast<torch::nn::BatchNorm2dImpl*>(m.get()) || dynamic_cast<torch::nn::BatchNorm1dImpl*>(m.get())) {
        const auto b = m->buffers(/*recurse=*/false);
        out.insert(out.end(), b.begin(), b.end());
      }
    }
  }
  return out;
}

}  // namespace

at::Tensor checkpointSegment(const std::vector<torch::nn::Module*>& modules, const SegmentForward& forward,
                             const at::Tensor& input) {
  std::vector<at::Tensor> params;
  bool training = false;
  for (auto* module : modules) {
    training = training || module->is_training();
    for (const auto& p : module->parameters())
      if (p.requires_grad()) params.push_back(p);
  }
  if (!torch::GradMode::is_enabled() || (params.empty() && !input.requires_grad())) return forward(input);

  auto state = c10::make_intrusive<SegmentState>();
  state->forward = forward;
  if (training) state->buffers = runningStatistics(modules);
  state->autocast = currentCudaAutocast();
  state->cpu_autocast = currentAutocast(c10::DeviceType::CPU);
  state->input_requires_grad = input.requires_grad();
  return CheckpointFunction::apply(std::move(state), input, at::TensorList(params));
}

}  // namespace mls
