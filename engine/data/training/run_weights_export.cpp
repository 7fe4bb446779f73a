#include "data/training/run_weights_export.h"

#include <torch/torch.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <system_error>

#include "data/pipeline/augmentation_options.h"
#include "data/store/project_store.h"
#include "data/training/run_model_spec.h"
#include "data/training/train_request.h"
#include "ml/models/authors_names.h"
#include "ml/models/multilabel_model.h"
#include "ml/training/checkpoint_io.h"
#include "ml/training/module_state.h"

namespace fs = std::filesystem;

namespace mls {
namespace {

std::string runLabel(const RunRecord& run) { return "run " + std::to_string(run.id) + " ('" + run.name + "')"; }

std::string newestEpochCheckpoint(ProjectStore& store, const RunRecord& run) {
  const auto records = store.checkpoints(run.id);  // by epoch
  for (auto it = records.rbegin(); it != records.rend(); ++it)
    if (fs::is_regular_file(it->path)) return it->path;
  return {};
}

std::string chooseCheckpoint(ProjectStore& store, const RunRecord& run, ExportCheckpoint which) {
  if (which == ExportCheckpoint::Best && !run.checkpoint_dir.empty()) {
    const auto best = bestCheckpointPath(run.checkpoint_dir);
    if (fs::is_regular_file(best)) return best;
  }
  const auto last = newestEpochCheckpoint(store, run);
  if (last.empty()) throw std::runtime_error(runLabel(run) + " has no checkpoint yet");
  return last;
}

struct LoadedWeights {
  int epoch = 0;
  bool ema = false;
};

// Reads the weights the checkpoint names as the better ones (EMA or raw) into `model`, the same choice
// loadCheckpointWeights makes, and says which they were. best.pt records the choice as "from_ema".
LoadedWeights loadWeights(MultiLabelModel& model, const std::string& path) {
  LoadedWeights out;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, torch::Device(torch::kCPU));
    c10::IValue value;
    if (!archive.try_read(ckpt::kFormat, value) || !value.isString())
      throw std::runtime_error("'" + path + "' is not a Multi-Label Studio checkpoint");
    if (archive.try_read(ckpt::kEpoch, value) && value.isInt()) out.epoch = static_cast<int>(value.toInt());
    const bool use_ema = archive.try_read(ckpt::kUseEma, value) && value.isBool() && value.toBool();
    torch::serialize::InputArchive weights;
    if (use_ema && archive.try_read(ckpt::kEmaModel, weights)) {
      out.ema = true;
    } else if (!archive.try_read(ckpt::kModel, weights)) {
      throw std::runtime_error("checkpoint '" + path + "' holds no model weights");
    } else {
      out.ema = archive.try_read("from_ema", value) && value.isBool() && value.toBool();
    }
    try {
      loadStateFromArchive(model, weights);
    } catch (const c10::Error& e) {
      throw std::runtime_error("checkpoint '" + path + "' does not fit the run's model: " + e.what_without_backtrace());
    } catch (const std::runtime_error& e) {
      throw std::runtime_error("checkpoint '" + path + "' does not fit the run's model: " + e.what());
    }
  } catch (const c10::Error& e) {
    throw std::runtime_error("cannot read checkpoint '" + path + "': " + e.what_without_backtrace());
  }
  return out;
}

// Writes to "<path>.tmp" and renames it into place, so a failed export never leaves half a file under `path`.
void writeAtomically(const std::string& path, const char* data, size_t size) {
  const std::string temp = path + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno));
    out.write(data, static_cast<std::streamsize>(size));
    out.close();
    if (!out) {
      std::error_code ec;
      fs::remove(temp, ec);
      throw std::runtime_error("failed writing '" + path + "'");
    }
  }
  std::error_code ec;
  fs::rename(temp, path, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw std::runtime_error("cannot move the export into place at '" + path + "': " + ec.message());
  }
}

// "12" -> 12, "0.1" -> 0.1, "true" -> true, anything else stays a string (the authors' argparse types).
nlohmann::json argumentValue(const std::string& text) {
  if (text == "true" || text == "false") return text == "true";
  try {
    size_t used = 0;
    const double v = std::stod(text, &used);
    if (used == text.size()) {
      if (text.find_first_of(".eE") == std::string::npos) return static_cast<int64_t>(v);
      return v;
    }
  } catch (const std::exception&) {
  }
  return text;
}

nlohmann::json infoJson(const RunRecord& run, const TrainRequest& request, const std::vector<Category>& categories,
                        const ExportWeightsOptions& options, const ExportWeightsResult& r,
                        const std::vector<std::pair<std::string, std::string>>& arguments) {
  nlohmann::json classes = nlohmann::json::array();
  for (const auto& c : categories) classes.push_back({{"index", c.idx}, {"id", c.id}, {"name", c.name}});
  const AugmentationOptions plain;
  nlohmann::json args = nlohmann::json::object();
  for (const auto& kv : arguments) args[kv.first] = argumentValue(kv.second);
  return {{"format", "multi-label-studio-weights-1"},
          {"weights_file", fs::path(r.path).filename().string()},
          {"naming", options.naming == ExportNaming::Authors ? "authors" : "native"},
          {"module", r.module},
          {"exact", r.exact},
          {"authors_arguments", args},
          {"notes", r.notes},
          {"run", {{"id", run.id}, {"name", run.name}, {"method", methodName(request.method)}, {"loss", request.loss},
                   {"labels", request.labels}, {"backbone", request.backbone}}},
          {"checkpoint", {{"which", options.checkpoint == ExportCheckpoint::Best ? "best" : "last"},
                          {"file", r.checkpoint_path}, {"epoch", r.epoch}, {"ema", r.ema}}},
          {"input", {{"image_size", request.image_size}, {"mean", plain.mean}, {"std", plain.std},
                     {"layout", "RGB, NCHW, values in [0,1] then normalised"}}},
          {"output", "logits; sigmoid gives per-class probabilities"},
          {"classes", classes}};
}

}  // namespace

ExportCheckpoint parseExportCheckpoint(const std::string& text) {
  if (text == "best") return ExportCheckpoint::Best;
  if (text == "last") return ExportCheckpoint::Last;
  throw std::invalid_argument("unknown checkpoint '" + text + "' (expected best or last)");
}

ExportNaming parseExportNaming(const std::string& text) {
  if (text == "authors") return ExportNaming::Authors;
  if (text == "native") return ExportNaming::Native;
  throw std::invalid_argument("unknown naming '" + text + "' (expected authors or native)");
}

ExportWeightsResult exportRunWeights(ProjectStore& store, int64_t run_id, const std::string& out_path,
                                     const ExportWeightsOptions& options) {
  const auto run = store.run(run_id);
  if (!run) throw UnknownIdError("unknown run id " + std::to_string(run_id));
  if (out_path.empty()) throw std::invalid_argument("no output file given");
  ExportWeightsResult result;
  result.path = out_path;
  result.checkpoint_path = chooseCheckpoint(store, *run, options.checkpoint);

  auto request = TrainRequest::fromJson(run->config);
  request.resolveDefaults();
  const auto categories = store.categories();
  // The trained architecture; the values come from the checkpoint, not from the run's initial weights file.
  ModelSpec spec = modelSpecFor(request, static_cast<int>(categories.size()));
  spec.weights.clear();
  auto model = buildModel(spec);
  model->eval();
  const auto loaded = loadWeights(*model, result.checkpoint_path);
  result.epoch = loaded.epoch;
  result.ema = loaded.ema;

  NamedTensors tensors;
  std::vector<std::pair<std::string, std::string>> arguments;
  if (options.naming == ExportNaming::Authors) {
    auto authors = toAuthorsNames(*model, request.backbone, request.image_size);
    tensors = std::move(authors.tensors);
    result.module = authors.module;
    result.exact = authors.exact;
    result.notes = std::move(authors.notes);
    arguments = std::move(authors.arguments);
  } else {
    tensors = moduleStateDict(*model);
    result.module = spec.method == Method::MLSPL ? "MlsplClassifier" : "Query2Label";
    result.notes.push_back("this project's names: the file loads back with `mlstudio-cli train --weights`");
  }
  result.tensors = static_cast<int64_t>(tensors.size());

  // A plain dict (not an OrderedDict): what torch.load returns and load_state_dict accepts, and what
  // LibTorch's own reader (state_dict_io.h) reads back.
  c10::Dict<std::string, torch::Tensor> dict;
  for (const auto& kv : tensors) dict.insert(kv.first, kv.second);
  const auto bytes = torch::pickle_save(c10::IValue(dict));
  writeAtomically(out_path, bytes.data(), bytes.size());

  if (options.write_info) {
    result.info_path = out_path + ".json";
    const auto text = infoJson(*run, request, categories, options, result, arguments).dump(2) + "\n";
    writeAtomically(result.info_path, text.data(), text.size());
  }
  return result;
}

}  // namespace mls
