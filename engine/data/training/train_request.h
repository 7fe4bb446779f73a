// Everything a user chooses for one training run (CLI flags, the GUI's Train form), with the defaults that
// each method's official code uses. Serialised into the run's config so eval/predict rebuild the same model.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ml/method.h"

namespace mls {

struct TrainRequest {
  std::string project;
  Method method = Method::Q2L;     // hybrid: the Q2L architecture with a single-positive loss
  std::string loss = "asl";        // asl | bce | an | an-ls | wan | epr | role | focal
  std::string labels = "full";     // full | single
  std::string backbone = "tiny";   // tiny | resnet18 | resnet50 | resnet101 | torchscript:PATH
  std::string weights;             // optional backbone (torchvision names) or whole-model weights
  int image_size = 0;              // 0 = method default (tiny: 64; Q2L: 448; MLSPL: 448)
  int batch = 0;                   // 0 = default (tiny: 32; Q2L: 16; MLSPL: 8)
  int epochs = 0;                  // 0 = default (tiny: 40, 70 from single positives; Q2L: 80; MLSPL: 10)
  double lr = 0;                   // 0 = default (tiny: 1e-3; Q2L: 1e-4; MLSPL: 1e-5)
  std::string device = "auto";
  bool amp = false;
  std::string amp_dtype = "fp16";  // fp16 (with loss scaling) | bf16
  double ema = -1;                 // <0 = default (Q2L: 0.9997 scaled for short runs; MLSPL: off)
  int linear_init = 0;             // MLSPL LinearInit: epochs of a linear head on cached frozen features
  double expected_positives = 0;   // 0 = estimated from the project's full labels if any, else 2.9 (COCO)
  uint64_t seed = 1200;
  std::string run_name;
  std::string resume;              // run id or name to continue from its last checkpoint
  int grad_accum = 1;
  int early_stop = -1;             // <0 = default (Q2L: 8; MLSPL: off)
  int workers = -1;                // image decoding threads; <0 = 2 on the CPU, up to 8 with CUDA
  // GPU memory / speed (TrainerOptions): recompute backbone activations in backward; NHWC convolutions.
  bool checkpoint_backbone = false;
  bool channels_last = false;
  bool profile = false;            // time step phases (synchronises the device; for diagnosis)
  // FrozenBatchNorm2d in the backbone instead of trainable BatchNorm. Unset = the method's choice, fixed by
  // resolveDefaults() and stored with the run, since a checkpoint only loads into the same kind of norm.
  // A config stored before this field existed reads as what every method used then (see fromJson()).
  std::optional<bool> frozen_bn;
  // Processes of a data-parallel run (`batch` is then the global batch, split evenly over them). Set by the
  // session and stored for information only: a run resumes at any world size.
  int world_size = 1;

  // Throws std::invalid_argument ("--lr must be > 0 (got -1)") for a value that is neither its "default"
  // sentinel (0, or -1 for ema / early_stop / workers) nor valid. resolveDefaults() calls it.
  void validate() const;
  // Fills every 0/-1 default from method, backbone and loss. Throws std::invalid_argument for bad values.
  void resolveDefaults();
  // Throws std::invalid_argument when the loss is not one the method trains with, or when a single-positive
  // loss would train on full labels (AN/EPR/ROLE assume one observed positive per image; on full labels
  // they are BCE at best). Checked for new runs only, so configs stored before this rule still load.
  void checkLossChoice() const;
  std::string toJson() const;
  static TrainRequest fromJson(const std::string& json);
  // The method's BatchNorm choice for a pretrained ResNet-50/101 (smaller backbones and training from
  // scratch always keep trainable BatchNorm). What resolveDefaults() stores in frozen_bn.
  bool defaultFrozenBatchNorm() const;
};

// The rule behind validate() for one setting, named by its CLI flag (--lr, --epochs, --batch, --image-size,
// --ema, --grad-accum, --linear-init, --expected-positives, --early-stop, --workers). For a value the user
// gave explicitly, where 0 is no "use the default" but an error (`--epochs 0`).
void checkTrainSetting(const std::string& flag, double value);

// The losses a method trains with: q2l the full-label losses (asl, bce, focal); mlspl the MLSPL paper's
// (bce and the single-positive ones); hybrid the Q2L model with a single-positive loss.
std::vector<std::string> lossesForMethod(Method method);
// an, an-ls, wan, epr, role (case-insensitive, '_' for '-').
bool isSinglePositiveLoss(const std::string& loss);

}  // namespace mls
