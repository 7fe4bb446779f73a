#include "ml/models/torchscript_backbone.h"

#include <torch/torch.h>

#include <stdexcept>

namespace mls {
namespace {

// Returns the child module at `path` (a.b.c), creating empty container modules on the way.
torch::nn::Module& childAt(torch::nn::Module& root, const std::vector<std::string>& path) {
  torch::nn::Module* node = &root;
  for (const auto& part : path) {
    auto children = node->named_children();
    if (const auto* found = children.find(part)) {
      node = found->get();
    } else {
      node = node->register_module(part, std::make_shared<torch::nn::Module>()).get();
    }
  }
  return *node;
}

std::vector<std::string> splitDots(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t dot; (dot = name.find('.', start)) != std::string::npos; start = dot + 1)
    parts.push_back(name.substr(start, dot - start));
  parts.push_back(name.substr(start));
  return parts;
}

}  // namespace

TorchScriptBackbone::TorchScriptBackbone(const std::string& path, int64_t dry_run_size) : path_(path) {
  try {
    scripted_ = torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& e) {
    // Without LibTorch's C++ backtrace, so the CLI's error stays one line.
    throw std::runtime_error("cannot load TorchScript backbone '" + path +
                             "' (export it with torch.jit.script or torch.jit.trace): " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot load TorchScript backbone '" + path +
                             "' (export it with torch.jit.script or torch.jit.trace): " + e.what());
  }
  mirrorTensors();

  // Dry run in eval mode without gradients: discovers the channel count and the stride.
  scripted_.eval();
  torch::Tensor map;
  {
    torch::NoGradGuard no_grad;
    map = runScripted(torch::zeros({1, 3, dry_run_size, dry_run_size}));
  }
  scripted_.train(is_training());
  if (map.dim() != 4)
    throw std::runtime_error("TorchScript backbone '" + path + "' must return a (B,C,H,W) feature map, got " +
                             std::to_string(map.dim()) + " dimensions");
  out_channels_ = map.size(1);
  stride_ = std::max<int64_t>(1, dry_run_size / std::max<int64_t>(1, map.size(2)));
}

void TorchScriptBackbone::mirrorTensors() {
  for (const auto& p : scripted_.named_parameters(/*recurse=*/true)) {
    auto parts = splitDots(p.name);
    const auto leaf = parts.back();
    parts.pop_back();
    childAt(*this, parts).register_parameter(leaf, p.value, p.value.requires_grad());
  }
  for (const auto& b : scripted_.named_buffers(/*recurse=*/true)) {
    auto parts = splitDots(b.name);
    const auto leaf = parts.back();
    parts.pop_back();
    childAt(*this, parts).register_buffer(leaf, b.value);
  }
}

torch::Tensor TorchScriptBackbone::runScripted(const torch::Tensor& images) {
  auto out = scripted_.forward({images});
  if (out.isTensor()) return out.toTensor();
  // Some exports return (features, ...) or a list of levels: take the last tensor (the deepest level).
  if (out.isTuple() || out.isList()) {
    const auto elems = out.isTuple() ? out.toTupleRef().elements().vec() : out.toListRef().vec();
    for (auto it = elems.rbegin(); it != elems.rend(); ++it)
      if (it->isTensor()) return it->toTensor();
  }
  throw std::runtime_error("TorchScript backbone '" + path_ + "' returned " + out.tagKind() +
                           ", expected a tensor (B,C,H,W)");
}

torch::Tensor TorchScriptBackbone::forward(const torch::Tensor& images) { return runScripted(images); }

void TorchScriptBackbone::train(bool on) {
  torch::nn::Module::train(on);
  scripted_.train(on);
}

}  // namespace mls

