// Named starting points for the Train form, each following its paper's published recipe.
#pragma once
#include <QString>
#include <vector>

#include "data/training/train_request.h"

namespace mls {

struct TrainPreset {
  QString name;
  QString description;
  TrainRequest request;
};

// "CPU demo", "COCO Q2L-R101-448", "COCO ROLE ResNet-50".
const std::vector<TrainPreset>& trainPresets();

}  // namespace mls
