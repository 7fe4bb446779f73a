// Loading weights by name into native modules from files written by PyTorch:
//  * a plain dict of tensors: torch.save(dict(model.state_dict()), f)  (what LibTorch can unpickle), or
//  * a TorchScript archive (torch.jit.save): its named parameters and buffers are copied by name.
// torch.save(model.state_dict()) writes an OrderedDict, which LibTorch 1.13 cannot unpickle, and pre-1.6
// (non-zip) files cannot be read from C++ at all; both give an error that points at the export script
// tests/testdata/export_torchvision_resnet.py.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <string>
#include <utility>
#include <vector>

namespace mls {

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

struct StateDictLoadReport {
  std::string format;                   // "plain dict" or "TorchScript"
  std::vector<std::string> loaded;      // module keys that received a tensor
  std::vector<std::string> missing;     // module keys (under the prefix) the file does not have
  std::vector<std::string> unexpected;  // file keys the module does not have
  // e.g. "loaded 122 tensors (plain dict); 0 missing; 2 unexpected: fc.weight, fc.bias"
  std::string summary() const;
};

// Reads every tensor of a plain-dict or TorchScript file (on CPU). A dict nested under "state_dict" or
// "model" is unwrapped, and a "module." prefix on every key (DataParallel) is removed.
// Throws std::runtime_error with a clear message for missing, unreadable, legacy or OrderedDict files.
// `format`, when given, receives "plain dict" or "TorchScript".
NamedTensors readStateDictFile(const std::string& path, std::string* format = nullptr);

// Copies tensors into `module` by name. File key k goes to module key prefix + k, so
// loadStateDictFile(q2l, "resnet50.pt", "backbone") fills q2l's backbone from a torchvision file.
// "num_batches_tracked" entries are ignored when only one side has them (FrozenBatchNorm2d).
// Checks every shape first and throws std::runtime_error on any mismatch, leaving the module unchanged.
StateDictLoadReport loadStateDict(torch::nn::Module& module, const NamedTensors& tensors,
                                  std::string prefix = "");
StateDictLoadReport loadStateDictFile(torch::nn::Module& module, const std::string& path, std::string prefix = "");

// Writes the module's parameters and buffers as a plain dict that torch.load and readStateDictFile read.
void saveStateDictFile(const torch::nn::Module& module, const std::string& path);

}  // namespace mls
