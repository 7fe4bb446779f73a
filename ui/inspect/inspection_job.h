// The Inspect panel's background work: one image through one run (scores, and the decoder's attention when
// the model has one). Runs on a worker thread; the GUI only renders the result.
#pragma once
#include <ATen/core/Tensor.h>
#include <atomic>
#include <cstdint>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

namespace mls {

class RunModelCache;

struct InspectionRequest {
  std::string project;      // project file: the worker opens its own connection when it loads a model
  int64_t run_id = 0;
  int64_t image_id = 0;
  std::string image_path;
  std::string device = "auto";
  uint64_t generation = 0;  // the panel's request counter; superseded requests are skipped
};

struct InspectionResult {
  int64_t run_id = 0;
  int64_t image_id = 0;
  uint64_t generation = 0;
  bool skipped = false;        // superseded before it started
  std::string error;           // non-empty on failure, meant for the user
  std::vector<float> scores;   // sigmoid per class idx
  bool has_attention = false;  // the run's model has a decoder (Q2L / hybrid)
  at::Tensor attention;        // (heads, K, h, w) when has_attention
  cv::Mat image_rgb;           // the decoded image at full size (CV_8UC3 RGB)
};

// latest: the newest generation asked for; when it moved past request.generation the work is skipped.
InspectionResult runInspection(const InspectionRequest& request, RunModelCache& cache,
                               const std::atomic<uint64_t>* latest = nullptr);

}  // namespace mls
