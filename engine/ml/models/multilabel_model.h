// The interface the trainer, the CLI and the GUI use for every model, plus the factory that builds one
// from a ModelSpec. Models are torch::nn::Modules: save/load with torch::save / torch::load (or
// module.save(archive) / module.load(archive)); inputs are ImageNet-normalised float images (B,3,H,W).
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

#include "ml/method.h"

namespace mls {

class Backbone;

struct ModelOutput {
  torch::Tensor logits;     // (B,K)
  torch::Tensor attention;  // (B,heads,K,H,W) from the last decoder layer, or undefined
};

class MultiLabelModel : public torch::nn::Module {
 public:
  virtual ModelOutput forward(const torch::Tensor& images, bool want_attention = false) = 0;
  // Global-average-pooled backbone features (B,C): what a linear probe is trained on (MLSPL "LinearInit").
  virtual torch::Tensor pooledFeatures(const torch::Tensor& images) = 0;
  // Logits from pooledFeatures(). Throws std::logic_error for models whose head is not linear in them (Q2L).
  virtual torch::Tensor headFromPooled(const torch::Tensor& pooled) = 0;
  virtual bool hasAttention() const = 0;
  virtual int64_t numClasses() const = 0;
  // Trainable (requires_grad) backbone parameters, and every other trainable parameter.
  virtual std::vector<torch::Tensor> backboneParameters();
  virtual std::vector<torch::Tensor> headParameters();

  Backbone& backbone() { return *backbone_; }
  int64_t pooledDim() const;
  // What loading the spec's weights file did (empty when none was given).
  const std::string& weightsSummary() const { return weights_summary_; }
  void setWeightsSummary(std::string s) { weights_summary_ = std::move(s); }

 protected:
  std::shared_ptr<Backbone> backbone_;  // subclasses register it as "backbone"

 private:
  std::string weights_summary_;
};

struct ModelSpec {
  Method method = Method::Q2L;    // the hybrid has the Q2L architecture
  std::string backbone = "tiny";  // "tiny", "resnet18", "resnet34", "resnet50", "resnet101", "torchscript:PATH"
  std::string weights;            // optional: backbone-only (torchvision names) or whole-model weights file
  int num_classes = 0;
  int image_size = 224;
  bool small_q2l = true;  // Q2LConfig::smallCpu, otherwise Q2LConfig::paperR101_448
  bool frozen_bn = false;
  bool freeze_stem = false;
};

// Builds the model and loads spec.weights when given: a file with any key starting with "backbone." is
// loaded as a whole model, anything else (e.g. torchvision names) into the backbone.
// Throws std::invalid_argument for a bad spec and std::runtime_error for unusable weights
// (unreadable file, shape mismatch, or no tensor name matching the model).
std::shared_ptr<MultiLabelModel> buildModel(const ModelSpec& spec);

}  // namespace mls
