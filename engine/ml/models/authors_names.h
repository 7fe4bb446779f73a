// A trained model's weights under the parameter names of the authors' own Python models, so that an exported
// state dict loads with load_state_dict(..., strict=True) into
//  * Query2Label: `Qeruy2Label` as built by build_q2l(args) in SlongLiu/query2labels lib/models/query2label.py
//    (backbone.0.body.<torchvision ResNet>, backbone.1.pe, input_proj, transformer.*, query_embed, fc.W / fc.b);
//  * MLSPL: `ImageClassifier` of elijahcole/single-positive-multi-label models.py, i.e. the `f` part whose
//    state dict train.py saves as best_model_state_f.pt (feature_extractor.<Sequential index>, linear_classifier).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "ml/models/state_dict_io.h"

namespace mls {

class MultiLabelModel;

struct AuthorsStateDict {
  NamedTensors tensors;
  std::string module;              // the authors' class: "Qeruy2Label" or "ImageClassifier"
  bool exact = true;               // false: some tensors have no counterpart in the authors' code (see notes)
  // The authors' settings that build a model these tensors fit (main_mlc.py / train.py option names).
  std::vector<std::pair<std::string, std::string>> arguments;
  std::vector<std::string> notes;  // how to build the authors' model for this file, and what differs
};

// Every parameter and buffer of `module` by name, detached, contiguous, on the CPU, in registration order.
NamedTensors moduleStateDict(const torch::nn::Module& module);

// Renames `model`'s weights (trained with `backbone_name`, e.g. "resnet50", at `image_size` px) to the authors'
// names. For Query2Label it adds the fixed sine positional-encoding buffer the authors register (backbone.1.pe,
// sized for the feature map at image_size), found by one dry run of the backbone on the CPU in eval mode.
// Throws std::invalid_argument for a model that is neither Query2Label nor MlsplClassifier.
AuthorsStateDict toAuthorsNames(MultiLabelModel& model, const std::string& backbone_name, int image_size);

}  // namespace mls
