// The embedded demo dataset: synthetic multi-label images in COCO layout with real bounding boxes.
// 12 classes (6 shapes x 2 colour families) at random positions, sizes, rotations and counts (1-4 per image)
// over textured backgrounds with distractor clutter. Deterministic for a seed.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mls {

struct DemoOptions {
  int train = 2000;
  int val = 500;
  int size = 128;        // square images, px
  uint64_t seed = 1200;
  // Generated single positives for every train image (experiments, tests). The app's demo starts without
  // them so that a new user has images to label.
  bool single_positives = true;
};

struct DemoDataset {
  std::string images_dir;
  std::string train_json;
  std::string val_json;
  std::string project;   // set by createDemoProject
};

const std::vector<std::string>& demoClassNames();

// Writes DIR/images/*.jpg, DIR/annotations/instances_train.json and instances_val.json.
DemoDataset generateDemoDataset(const std::string& out_dir, const DemoOptions& options,
                                const std::function<void(int done, int total)>& progress = {});

// generateDemoDataset + DIR/demo.mlsproj: train split from the train json, val split from the val json,
// single positives generated for train (seed = options.seed) unless options.single_positives is off. Throws if DIR/demo.mlsproj exists (it is never overwritten).
DemoDataset createDemoProject(const std::string& out_dir, const DemoOptions& options,
                              const std::function<void(int done, int total)>& progress = {});

}  // namespace mls
