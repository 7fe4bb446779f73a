// A module's complete state (every parameter and buffer) as a flat list of tensors, for weight swaps
// (EMA evaluation, keeping the best weights) and name-checked loading from serialized archives.
#pragma once
#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <torch/nn/module.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <optional>
#include <vector>

namespace mls {

// The live tensors: named_parameters() then named_buffers(), both recursive, in registration order.
std::vector<torch::Tensor> stateTensors(const torch::nn::Module& module);

// Detached copies of stateTensors(), on `device` when given (else where they are).
std::vector<torch::Tensor> cloneState(const torch::nn::Module& module, std::optional<c10::Device> device = std::nullopt);
// The same for any list of tensors.
std::vector<torch::Tensor> cloneTensors(const std::vector<torch::Tensor>& tensors,
                                        std::optional<c10::Device> device = std::nullopt);

// Copies `state` (as returned by cloneState on a module of the same architecture) into the module in
// place, so optimizers keep pointing at the same tensors. Throws std::invalid_argument on a count or
// shape mismatch.
void copyState(torch::nn::Module& module, const std::vector<torch::Tensor>& state);
// Copies `from` into `into` element by element, in place; the same checks as copyState.
void copyTensors(const std::vector<torch::Tensor>& into, const std::vector<torch::Tensor>& from);

// Loads what module.save(archive) wrote into the module by name, copying values in place (tensors keep
// their device and identity, unlike Module::load). Throws std::runtime_error naming a missing or
// mis-shaped entry.
void loadStateFromArchive(torch::nn::Module& module, torch::serialize::InputArchive& archive);

// Like loadStateFromArchive but returns the stored values (in stateTensors() order, on the archive's
// device) without touching the module.
std::vector<torch::Tensor> readStateFromArchive(const torch::nn::Module& module, torch::serialize::InputArchive& archive);

// Writes `state` (stateTensors() order) in exactly the layout module.save(archive) would give the module
// holding those values, so EMA or best weights are saved without swapping them into the model.
void saveStateToArchive(const torch::nn::Module& module, const std::vector<torch::Tensor>& state,
                        torch::serialize::OutputArchive& archive);

// Every 4-D parameter and buffer in place to NHWC strides (same values, same tensor identities), so
// convolutions keep their activations channels-last.
void convertToChannelsLast(torch::nn::Module& module);

}  // namespace mls
