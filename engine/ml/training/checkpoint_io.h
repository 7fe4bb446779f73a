// Checkpoint files: their names, the keys inside, atomic writing, and loading a model's weights.
// A checkpoint is a torch::serialize archive (readable with torch::serialize::InputArchive).
//   epoch_NNN.pt  full training state after run epoch NNN (resume): "model" (raw weights), "ema_model",
//                 "optimizer", "estimator", counters, RNG state, loss-scaler state, "use_ema".
//   best.pt       weights only: "model" = the better of raw/EMA weights at the best epoch.
#pragma once
#include <string>

namespace torch { namespace serialize { class OutputArchive; } }

namespace mls {

class MultiLabelModel;

namespace ckpt {
constexpr const char* kFormat = "mls_format";
constexpr const char* kTrainingFormat = "mls-training-checkpoint-1";
constexpr const char* kWeightsFormat = "mls-weights-1";
constexpr const char* kModel = "model";
constexpr const char* kEmaModel = "ema_model";
constexpr const char* kUseEma = "use_ema";  // EMA weights were the better ones at this epoch
constexpr const char* kOptimizer = "optimizer";
constexpr const char* kEstimator = "estimator";
constexpr const char* kEpoch = "epoch";
constexpr const char* kGlobalStep = "global_step";
constexpr const char* kOptimizerStep = "optimizer_step";  // the scheduler's position
constexpr const char* kBestMap = "best_map";
constexpr const char* kBestEpoch = "best_epoch";
constexpr const char* kBestRawMap = "best_map_raw";    // early stopping (ml/training/early_stop.h)
constexpr const char* kBestRawEpoch = "best_epoch_raw";
constexpr const char* kBestEmaMap = "best_map_ema";
// Epochs of the LinearInit phase before end-to-end training: "epoch" (and the file's NNN) number the run
// (linear epochs first), fit()'s own count is epoch - linear_epochs.
constexpr const char* kLinearEpochs = "linear_epochs";
constexpr const char* kValMap = "val_map";
constexpr const char* kSeed = "seed";
constexpr const char* kRngState = "rng_state";
constexpr const char* kScalerScale = "loss_scale";
constexpr const char* kScalerTracker = "loss_scale_growth_tracker";
}  // namespace ckpt

// "epoch_007.pt" inside dir.
std::string epochCheckpointPath(const std::string& dir, int epoch);
std::string bestCheckpointPath(const std::string& dir);

// Writes to "<path>.tmp", fsyncs it and renames it over `path`, so a crash, a full disk or a folder that
// cannot be written never leaves a half-written checkpoint (the previous file stays as it was). Creates
// missing parent directories. Throws std::runtime_error "cannot write '<path>': <reason>" (e.g. "No space
// left on device"), removing the temp file.
void saveArchiveAtomically(torch::serialize::OutputArchive& archive, const std::string& path);

// Loads a checkpoint's model weights (EMA if they were the better ones, else raw) into a freshly built
// model of the same architecture; accepts epoch checkpoints and best.pt. Throws TrainingError when the
// file cannot be read or does not match the model.
void loadCheckpointWeights(MultiLabelModel& model, const std::string& checkpoint_path);

}  // namespace mls
