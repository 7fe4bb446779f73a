#include "ml/training/module_state.h"

#include <torch/torch.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace mls {

std::vector<torch::Tensor> stateTensors(const torch::nn::Module& module) {
  std::vector<torch::Tensor> out;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) out.push_back(p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/true)) out.push_back(b.value());
  return out;
}

std::vector<torch::Tensor> cloneTensors(const std::vector<torch::Tensor>& tensors, std::optional<c10::Device> device) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> out;
  out.reserve(tensors.size());
  for (const auto& t : tensors)
    out.push_back(device ? t.detach().to(*device, /*non_blocking=*/false, /*copy=*/true) : t.detach().clone());
  return out;
}

std::vector<torch::Tensor> cloneState(const torch::nn::Module& module, std::optional<c10::Device> device) {
  return cloneTensors(stateTensors(module), device);
}

void copyTensors(const std::vector<torch::Tensor>& into, const std::vector<torch::Tensor>& from) {
  if (into.size() != from.size())
    throw std::invalid_argument("weight snapshot has " + std::to_string(from.size()) + " tensors, model has " +
                                std::to_string(into.size()));
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < into.size(); ++i) {
    if (into[i].sizes() != from[i].sizes())
      throw std::invalid_argument("weight snapshot tensor " + std::to_string(i) + " has the wrong shape");
    into[i].copy_(from[i]);
  }
}

void copyState(torch::nn::Module& module, const std::vector<torch::Tensor>& state) {
  copyTensors(stateTensors(module), state);
}

namespace {

// Full dotted name ("backbone.features.0.weight") -> position in stateTensors().
std::unordered_map<std::string, size_t> stateIndex(const torch::nn::Module& module) {
  std::unordered_map<std::string, size_t> index;
  size_t i = 0;
  for (const auto& p : module.named_parameters(true)) index.emplace(p.key(), i++);
  for (const auto& b : module.named_buffers(true)) index.emplace(b.key(), i++);
  return index;
}

using Visit = std::function<void(const std::string& full_name, const torch::Tensor& stored)>;

// Walks the archive along the module tree (the layout Module::save writes) and hands every stored tensor,
// shape-checked against the live one, to `visit`.
void readLevel(const torch::nn::Module& module, torch::serialize::InputArchive& archive, const std::string& prefix,
               const Visit& visit) {
  auto readEntry = [&](const std::string& key, const torch::Tensor& live, bool is_buffer) {
    torch::Tensor stored;
    if (!archive.try_read(key, stored, is_buffer))
      throw std::runtime_error("checkpoint has no entry '" + prefix + key + "'");
    if (stored.sizes() != live.sizes())
      throw std::runtime_error("checkpoint entry '" + prefix + key + "' has shape " + c10::str(stored.sizes()) +
                               ", the model expects " + c10::str(live.sizes()));
    visit(prefix + key, stored);
  };
  for (const auto& p : module.named_parameters(/*recurse=*/false)) readEntry(p.key(), p.value(), false);
  for (const auto& b : module.named_buffers(/*recurse=*/false)) readEntry(b.key(), b.value(), true);
  for (const auto& child : module.named_children()) {
    torch::serialize::InputArchive sub;
    if (!archive.try_read(child.key(), sub))
      throw std::runtime_error("checkpoint has no module '" + prefix + child.key() + "'");
    readLevel(*child.value(), sub, prefix + child.key() + ".", visit);
  }
}

void writeLevel(const torch::nn::Module& module, const std::vector<torch::Tensor>& state,
                const std::unordered_map<std::string, size_t>& index, torch::serialize::OutputArchive& archive,
                const std::string& prefix) {
  for (const auto& p : module.named_parameters(false)) archive.write(p.key(), state[index.at(prefix + p.key())]);
  for (const auto& b : module.named_buffers(false))
    archive.write(b.key(), state[index.at(prefix + b.key())], /*is_buffer=*/true);
  for (const auto& child : module.named_children()) {
    torch::serialize::OutputArchive sub(archive.compilation_unit());
    writeLevel(*child.value(), state, index, sub, prefix + child.key() + ".");
    archive.write(child.key(), sub);
  }
}

}  // namespace

void loadStateFromArchive(torch::nn::Module& module, torch::serialize::InputArchive& archive) {
  auto live = stateTensors(module);
  const auto index = stateIndex(module);
  torch::NoGradGuard no_grad;
  readLevel(module, archive, "", [&](const std::string& name, const torch::Tensor& stored) {
    live[index.at(name)].copy_(stored);
  });
}

std::vector<torch::Tensor> readStateFromArchive(const torch::nn::Module& module,
                                                torch::serialize::InputArchive& archive) {
  const auto index = stateIndex(module);
  std::vector<torch::Tensor> out(index.size());
  readLevel(module, archive, "", [&](const std::string& name, const torch::Tensor& stored) {
    out[index.at(name)] = stored.detach().clone();
  });
  return out;
}

void saveStateToArchive(const torch::nn::Module& module, const std::vector<torch::Tensor>& state,
                        torch::serialize::OutputArchive& archive) {
  const auto index = stateIndex(module);
  if (index.size() != state.size())
    throw std::invalid_argument("weight snapshot does not match the model (" + std::to_string(state.size()) +
                                " vs " + std::to_string(index.size()) + " tensors)");
  writeLevel(module, state, index, archive, "");
}

void convertToChannelsLast(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(at::MemoryFormat::ChannelsLast));
  for (auto& b : module.buffers())
    if (b.dim() == 4) b.set_data(b.contiguous(at::MemoryFormat::ChannelsLast));
}

}  // namespace mls
