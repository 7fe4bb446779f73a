// The single-positive-label baseline (Cole et al. 2021): backbone, global average pooling, one linear
// layer. pooledFeatures()/headFromPooled() let the trainer cache frozen features and train only the linear
// layer ("LinearInit"), then fine-tune end to end.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/modules/linear.h>

#include <memory>

#include "ml/models/multilabel_model.h"

namespace mls {

class MlsplClassifier : public MultiLabelModel {
 public:
  MlsplClassifier(std::shared_ptr<Backbone> backbone, int64_t num_classes);
  ModelOutput forward(const torch::Tensor& images, bool want_attention = false) override;
  torch::Tensor pooledFeatures(const torch::Tensor& images) override;         // (B,C)
  torch::Tensor headFromPooled(const torch::Tensor& pooled) override;         // (B,K)
  bool hasAttention() const override { return false; }
  int64_t numClasses() const override { return num_classes_; }

 private:
  int64_t num_classes_;
  torch::nn::Linear fc_{nullptr};
};

}  // namespace mls
