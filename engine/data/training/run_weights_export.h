// Exporting a trained run's weights as a plain PyTorch state dict: `torch.load(path)` returns a dict of tensors
// that `model.load_state_dict(...)` takes directly, named like the authors' Query2Label / MLSPL models
// (authors_names.h) or like this project's modules. A sidecar `<path>.json` holds the class names in logit
// order, the input normalisation and the authors' settings that build a matching model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mls {

class ProjectStore;

enum class ExportCheckpoint { Best, Last };  // best.pt (the best validation epoch), or the newest epoch file
enum class ExportNaming { Authors, Native };

struct ExportWeightsOptions {
  ExportCheckpoint checkpoint = ExportCheckpoint::Best;
  ExportNaming naming = ExportNaming::Authors;
  bool write_info = true;  // also write <out_path>.json
};

struct ExportWeightsResult {
  std::string path, info_path;    // info_path is empty without write_info
  std::string checkpoint_path;    // the checkpoint the weights came from
  int epoch = 0;                  // its epoch (0 when the file does not say)
  bool ema = false;               // the weights are the EMA average (the run's better ones at that epoch)
  int64_t tensors = 0;
  std::string module;             // "Qeruy2Label", "ImageClassifier" or, for native names, this project's model
  bool exact = true;              // every tensor has its counterpart in the authors' model (native: true)
  std::vector<std::string> notes; // how to build the authors' model, and what does not map
};

// Throws std::invalid_argument for "best"/"last" and "authors"/"native" spelled otherwise.
ExportCheckpoint parseExportCheckpoint(const std::string& text);
ExportNaming parseExportNaming(const std::string& text);

// Writes run `run_id`'s weights to out_path (atomically: a temporary file renamed into place).
// Best: best.pt, or the newest epoch checkpoint when there is no best.pt yet; Last: the newest epoch
// checkpoint. The weights are the EMA average where the checkpoint marks it as the better one.
// Throws UnknownIdError for an unknown run and std::runtime_error for a run without a checkpoint, a checkpoint
// that does not fit the run's model, or an output path that cannot be written.
ExportWeightsResult exportRunWeights(ProjectStore& store, int64_t run_id, const std::string& out_path,
                                     const ExportWeightsOptions& options = {});

}  // namespace mls
