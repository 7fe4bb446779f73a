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

// The preset the getting-started guide points to.
inline constexpr const char* kDemoRolePreset = "Demo: ROLE from your labels";

// "CPU demo", "COCO Q2L-R101-448", "COCO ROLE ResNet-50", kDemoRolePreset.
const std::vector<TrainPreset>& trainPresets();
// Index of the preset with that name, or -1.
int trainPresetIndex(const QString& name);

}  // namespace mls
