// Query2Label (Liu et al. 2021): backbone -> 1x1 input projection -> transformer encoder over the HW tokens
// -> K learnable label queries cross-attending in the decoder -> GroupWiseLinear head.
// Names follow the official model: backbone, input_proj, transformer, query_embed, fc.
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/embedding.h>

#include <memory>

#include "ml/models/group_wise_linear.h"
#include "ml/models/multilabel_model.h"
#include "ml/models/positional_encoding.h"
#include "ml/models/q2l_transformer.h"

namespace mls {

struct Q2LConfig {
  int64_t num_classes = 80;
  Q2LTransformerOptions transformer;  // hidden size, heads, layers, dropout: the official defaults
  SineEncodingOptions position;       // temperature 10000, normalised, scale 2*pi

  // The paper's COCO R101-448 setup (official defaults).
  static Q2LConfig paperR101_448(int64_t num_classes);
  // Small enough to train on 2 CPU cores in minutes with the tiny backbone at 64-128 px.
  static Q2LConfig smallCpu(int64_t num_classes);
};

class Query2Label : public MultiLabelModel {
 public:
  Query2Label(std::shared_ptr<Backbone> backbone, const Q2LConfig& config);
  ModelOutput forward(const torch::Tensor& images, bool want_attention = false) override;
  torch::Tensor pooledFeatures(const torch::Tensor& images) override;
  torch::Tensor headFromPooled(const torch::Tensor& pooled) override;  // throws std::logic_error
  bool hasAttention() const override { return true; }
  int64_t numClasses() const override { return config_.num_classes; }

  torch::nn::Embedding queryEmbed() const { return query_embed_; }  // (K,d) learnable query_pos
  const Q2LConfig& config() const { return config_; }

 private:
  Q2LConfig config_;
  torch::nn::Conv2d input_proj_{nullptr};  // absent (identity) when channels == hidden_dim
  Q2LTransformer transformer_{nullptr};
  torch::nn::Embedding query_embed_{nullptr};
  GroupWiseLinear fc_{nullptr};
};

}  // namespace mls
