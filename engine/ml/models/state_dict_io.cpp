#include "ml/models/state_dict_io.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <stdexcept>

namespace mls {
namespace {

const char* kExportHint =
    "; export the weights with tests/testdata/export_torchvision_resnet.py (or in Python: "
    "torch.save(dict(model.state_dict()), path), or torch.jit.save(torch.jit.script(model), path))";

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool isBatchCounter(const std::string& key) { return endsWith(key, "num_batches_tracked"); }

std::string shapeText(const torch::Tensor& t) {
  std::ostringstream os;
  os << t.sizes();
  return os.str();
}

// The whole file, or only its first `limit` bytes (enough to tell the format).
std::vector<char> readBytes(const std::string& path, size_t limit = SIZE_MAX) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open weights file '" + path + "'");
  if (limit == SIZE_MAX) return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  std::vector<char> head(limit);
  in.read(head.data(), static_cast<std::streamsize>(limit));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

bool isZip(const std::vector<char>& bytes) {
  return bytes.size() >= 4 && bytes[0] == 'P' && bytes[1] == 'K' && bytes[2] == 3 && bytes[3] == 4;
}

NamedTensors readTorchScript(const std::string& path) {
  auto scripted = torch::jit::load(path, torch::kCPU);
  NamedTensors out;
  for (const auto& p : scripted.named_parameters(/*recurse=*/true)) out.emplace_back(p.name, p.value.detach());
  for (const auto& b : scripted.named_buffers(/*recurse=*/true)) out.emplace_back(b.name, b.value.detach());
  return out;
}

// Unwraps {"state_dict": {...}} / {"model": {...}} and collects the string -> tensor entries.
NamedTensors tensorsFromDict(const c10::impl::GenericDict& dict, const std::string& path) {
  NamedTensors out;
  for (const auto& entry : dict) {
    if (entry.key().isString() && entry.value().isTensor())
      out.emplace_back(entry.key().toStringRef(), entry.value().toTensor());
  }
  if (out.empty()) {
    for (const char* wrapper : {"state_dict", "model"}) {
      for (const auto& entry : dict)
        if (entry.key().isString() && entry.key().toStringRef() == wrapper && entry.value().isGenericDict())
          return tensorsFromDict(entry.value().toGenericDict(), path);
    }
    throw std::runtime_error("weights file '" + path + "' holds a dict without any tensors" + kExportHint);
  }
  return out;
}

NamedTensors readPickledDict(const std::vector<char>& bytes, const std::string& path,
                             caffe2::serialize::PyTorchStreamReader& reader) {
  c10::IValue value;
  try {
    value = torch::pickle_load(bytes);
  } catch (const std::exception& e) {
    bool ordered = false;
    if (reader.hasRecord("data.pkl")) {
      auto record = reader.getRecord("data.pkl");
      const auto* data = static_cast<const char*>(std::get<0>(record).get());
      ordered = std::string(data, std::get<1>(record)).find("OrderedDict") != std::string::npos;
    }
    if (ordered)
      throw std::runtime_error("weights file '" + path +
                               "' holds an OrderedDict (what torch.save(model.state_dict()) writes), which "
                               "LibTorch cannot read. Re-save it as a plain dict" + std::string(kExportHint));
    throw std::runtime_error("cannot read weights file '" + path + "': " + e.what() + kExportHint);
  }
  if (!value.isGenericDict())
    throw std::runtime_error("weights file '" + path + "' holds a " + value.tagKind() +
                             ", expected a dict of tensors" + kExportHint);
  return tensorsFromDict(value.toGenericDict(), path);
}

void stripDataParallelPrefix(NamedTensors& tensors) {
  const std::string dp = "module.";
  for (const auto& kv : tensors)
    if (kv.first.rfind(dp, 0) != 0) return;
  for (auto& kv : tensors) kv.first = kv.first.substr(dp.size());
}

std::string joinFew(const std::vector<std::string>& names, size_t limit = 8) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < limit; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > limit) s += ", ... (" + std::to_string(names.size() - limit) + " more)";
  return s;
}

}  // namespace

std::string StateDictLoadReport::summary() const {
  std::string s = "loaded " + std::to_string(loaded.size()) + " tensors";
  if (!format.empty()) s += " (" + format + ")";
  s += "; " + std::to_string(missing.size()) + " missing";
  if (!missing.empty()) s += ": " + joinFew(missing);
  s += "; " + std::to_string(unexpected.size()) + " unexpected";
  if (!unexpected.empty()) s += ": " + joinFew(unexpected);
  return s;
}

NamedTensors readStateDictFile(const std::string& path, std::string* format) {
  // The format from the first bytes; the whole file is read only for a plain dict, whose pickle is parsed
  // from memory (TorchScript and the zip reader read the file themselves).
  const auto head = readBytes(path, 4);
  if (head.empty()) throw std::runtime_error("weights file '" + path + "' is empty");
  if (!isZip(head)) {
    // Pickle protocol 2 starts with 0x80 0x02: the legacy format torch.save used before PyTorch 1.6.
    const bool legacy = static_cast<unsigned char>(head[0]) == 0x80;
    throw std::runtime_error("weights file '" + path + "' is " +
                             (legacy ? std::string("in the legacy (pre-1.6, non-zip) torch.save format, which C++ "
                                                   "cannot read")
                                     : std::string("not a PyTorch zip archive")) + kExportHint);
  }
  NamedTensors tensors;
  try {
    caffe2::serialize::PyTorchStreamReader reader(path);
    const bool scripted = reader.hasRecord("constants.pkl");
    if (format) *format = scripted ? "TorchScript" : "plain dict";
    tensors = scripted ? readTorchScript(path) : readPickledDict(readBytes(path), path, reader);
  } catch (const std::runtime_error&) {
    throw;
  } catch (const std::exception& e) {  // c10::Error from a damaged archive
    throw std::runtime_error("cannot read weights file '" + path + "': " + e.what() + kExportHint);
  }
  stripDataParallelPrefix(tensors);
  return tensors;
}

StateDictLoadReport loadStateDict(torch::nn::Module& module, const NamedTensors& tensors, std::string prefix) {
  if (!prefix.empty() && prefix.back() != '.') prefix += '.';

  std::map<std::string, torch::Tensor> targets;
  for (const auto& p : module.named_parameters(/*recurse=*/true))
    if (p.key().rfind(prefix, 0) == 0) targets.emplace(p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/true))
    if (b.key().rfind(prefix, 0) == 0) targets.emplace(b.key(), b.value());

  StateDictLoadReport report;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;  // (destination, source)
  std::vector<std::string> mismatches;
  std::map<std::string, bool> seen;
  for (const auto& kv : tensors) {
    const auto key = prefix + kv.first;
    const auto it = targets.find(key);
    if (it == targets.end()) {
      if (!isBatchCounter(kv.first)) report.unexpected.push_back(kv.first);
      continue;
    }
    seen[key] = true;
    if (!it->second.sizes().equals(kv.second.sizes())) {
      mismatches.push_back(key + ": model " + shapeText(it->second) + " vs file " + shapeText(kv.second));
      continue;
    }
    copies.emplace_back(it->second, kv.second);
    report.loaded.push_back(key);
  }
  if (!mismatches.empty())
    throw std::runtime_error("weights do not fit the model (" + std::to_string(mismatches.size()) +
                             " shape mismatches; wrong architecture?): " + joinFew(mismatches, 4));
  for (const auto& kv : targets)
    if (!seen.count(kv.first) && !isBatchCounter(kv.first)) report.missing.push_back(kv.first);

  torch::NoGradGuard no_grad;
  for (auto& c : copies) c.first.copy_(c.second.to(c.first.device()));
  return report;
}

StateDictLoadReport loadStateDictFile(torch::nn::Module& module, const std::string& path, std::string prefix) {
  std::string format;
  const auto tensors = readStateDictFile(path, &format);
  auto report = loadStateDict(module, tensors, std::move(prefix));
  report.format = format;
  return report;
}

void saveStateDictFile(const torch::nn::Module& module, const std::string& path) {
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) dict.insert(p.key(), p.value().detach().cpu());
  for (const auto& b : module.named_buffers(/*recurse=*/true)) dict.insert(b.key(), b.value().detach().cpu());
  const auto bytes = torch::pickle_save(c10::IValue(dict));
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot write weights file '" + path + "'");
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("failed writing weights file '" + path + "'");
}

}  // namespace mls
