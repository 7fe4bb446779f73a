// Turns a project's images and labels into the image samples the loader reads: training targets from the
// single positives or the full labels, evaluation targets from the full labels.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/pipeline/image_sample.h"
#include "data/store/project_types.h"

namespace at { class Tensor; }

namespace mls {

class ProjectStore;

enum class LabelMode { Full, Single };
LabelMode parseLabelMode(const std::string& name);  // "full" | "single"

struct ProjectSamples {
  std::vector<ImageSample> samples;   // sample.index = position in this vector
  std::vector<int64_t> image_ids;     // parallel to samples
  int num_classes = 0;
  int64_t left_out = 0;               // images without the labels the mode needs (e.g. no single positive)
};

// Train split. Single: images with a single positive (+1 there, 0 = unobserved elsewhere).
// Full: images with at least one label (1 positive / 0 negative).
ProjectSamples trainingSamples(ProjectStore& store, LabelMode mode);
// Any split, full labels (1/0); every image of the split, also those without labels.
ProjectSamples evaluationSamples(ProjectStore& store, Split split);
// Throws std::invalid_argument when not one training image file exists (a moved or deleted images folder),
// naming the folder and the first missing file and pointing at `mlstudio-cli relink`. Stops at the first
// file that exists, so a healthy project costs one stat.
void requireSomeTrainingFile(const ProjectSamples& train, const std::string& project_path);
// (N,K) matrix of the samples' targets (ROLE's observed labels).
at::Tensor targetMatrix(const ProjectSamples& samples);

}  // namespace mls
