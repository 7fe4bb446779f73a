#include "ml/training/checkpoint_io.h"

#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "ml/models/multilabel_model.h"
#include "ml/training/module_state.h"
#include "ml/training/training_types.h"

namespace mls {

namespace fs = std::filesystem;

std::string epochCheckpointPath(const std::string& dir, int epoch) {
  char name[32];
  std::snprintf(name, sizeof name, "epoch_%03d.pt", epoch);
  return (fs::path(dir) / name).string();
}

std::string bestCheckpointPath(const std::string& dir) { return (fs::path(dir) / "best.pt").string(); }

void saveArchiveAtomically(torch::serialize::OutputArchive& archive, const std::string& path) {
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  const fs::path temp = target.string() + ".tmp";
  try {
    archive.save_to(temp.string());
  } catch (const c10::Error& e) {
    fs::remove(temp, ec);
    throw std::runtime_error("cannot write checkpoint '" + path + "': " + e.what_without_backtrace());
  }
  // rename() replaces the destination atomically on POSIX file systems.
  fs::rename(temp, target, ec);
  if (ec) {
    fs::remove(temp, ec);
    throw std::runtime_error("cannot move checkpoint into place at '" + path + "': " + ec.message());
  }
}

void loadCheckpointWeights(MultiLabelModel& model, const std::string& checkpoint_path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(checkpoint_path, torch::Device(torch::kCPU));
    c10::IValue format;
    if (!archive.try_read(ckpt::kFormat, format) || !format.isString())
      throw TrainingError("'" + checkpoint_path + "' is not a Multi-Label Studio checkpoint");
    c10::IValue use_ema;
    const bool want_ema = archive.try_read(ckpt::kUseEma, use_ema) && use_ema.isBool() && use_ema.toBool();
    torch::serialize::InputArchive weights;
    if (!(want_ema && archive.try_read(ckpt::kEmaModel, weights)) && !archive.try_read(ckpt::kModel, weights))
      throw TrainingError("checkpoint '" + checkpoint_path + "' holds no model weights");
    loadStateFromArchive(model, weights);
  } catch (const TrainingError&) {
    throw;
  } catch (const c10::Error& e) {
    throw TrainingError("cannot read checkpoint '" + checkpoint_path + "': " + e.what_without_backtrace());
  } catch (const std::runtime_error& e) {
    throw TrainingError("checkpoint '" + checkpoint_path + "' does not fit this model: " + e.what());
  }
}

}  // namespace mls
