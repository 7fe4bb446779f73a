// A trained run loaded back for inference: rebuilds the model from the run's stored request and loads its
// best checkpoint. Used by `eval`, `predict` and the GUI's Inspect tab.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ATen/core/Tensor.h>
#include <opencv2/core/mat.hpp>

#include "data/store/project_types.h"
#include "data/training/train_request.h"
#include "ml/metrics.h"

namespace mls {

class ProjectStore;
class MultiLabelModel;

struct ImagePrediction {
  std::vector<float> scores;   // sigmoid, per class (category idx order)
  at::Tensor attention;        // (heads, K, h, w) when the model has a decoder and it was asked for
  cv::Mat image_rgb;           // the decoded image at its original size (for overlays)
};

class RunModel {
 public:
  // Throws UnknownIdError (no such run) or std::runtime_error (no checkpoint, unreadable file).
  RunModel(ProjectStore& store, int64_t run_id, const std::string& device = "cpu");
  ~RunModel();

  const std::vector<Category>& categories() const { return categories_; }
  const std::string& checkpoint() const { return checkpoint_; }
  bool hasAttention() const;

  // Throws ImageDecodeError for an image that will not decode.
  ImagePrediction predict(const std::string& image_path, bool want_attention = false);
  // Full-label metrics of the run's best weights on a split.
  MultiLabelMetrics evaluate(ProjectStore& store, Split split);

 private:
  TrainRequest request_;
  std::vector<Category> categories_;
  std::string checkpoint_;
  std::shared_ptr<MultiLabelModel> model_;
  std::string device_;
};

}  // namespace mls
