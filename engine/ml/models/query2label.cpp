#include "ml/models/query2label.h"

#include <torch/torch.h>

#include <stdexcept>

#include "ml/models/backbone.h"

namespace mls {

Q2LConfig Q2LConfig::paperR101_448(int64_t num_classes) {
  Q2LConfig c;  // the struct defaults are the official main_mlc.py COCO settings
  c.num_classes = num_classes;
  return c;
}

Q2LConfig Q2LConfig::smallCpu(int64_t num_classes) {
  Q2LConfig c;
  c.num_classes = num_classes;
  c.transformer.d_model = 128;
  c.transformer.dim_feedforward = 256;  // heads, layers and dropout stay the official ones
  return c;
}

Query2Label::Query2Label(std::shared_ptr<Backbone> backbone, const Q2LConfig& config) : config_(config) {
  if (!backbone) throw std::invalid_argument("Query2Label needs a backbone");
  if (config.num_classes <= 0) throw std::invalid_argument("Query2Label needs at least one class");
  const int64_t d = config.transformer.d_model;
  if (d <= 0 || d % 4 != 0)  // d/2 sine features per axis, in sin/cos pairs
    throw std::invalid_argument("Query2Label hidden size must be a positive multiple of 4, got " + std::to_string(d));
  backbone_ = register_module("backbone", std::move(backbone));
  const int64_t channels = backbone_->outChannels();
  if (channels != d)
    input_proj_ = register_module("input_proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(channels, d, 1)));

  transformer_ = register_module("transformer", Q2LTransformer(config.transformer));
  query_embed_ = register_module("query_embed", torch::nn::Embedding(config.num_classes, d));
  fc_ = register_module("fc", GroupWiseLinear(config.num_classes, d));
}

ModelOutput Query2Label::forward(const torch::Tensor& images, bool want_attention) {
  auto features = backbone_->forward(images);
  if (input_proj_) features = input_proj_->forward(features);
  const int64_t b = features.size(0), d = features.size(1), h = features.size(2), w = features.size(3);

  // contiguous(): LibTorch 1.13 turns the attention input projections of a strided view into slow batched matmuls.
  const auto tokens = features.flatten(2).transpose(1, 2).contiguous();  // (B,HW,d)
  const auto pos = sinePositionEncoding2d(h, w, d, config_.position, features.options())
                       .flatten(2)
                       .transpose(1, 2);  // (1,HW,d)
  auto out = transformer_->forward(tokens, pos, query_embed_->weight, want_attention);

  ModelOutput result;
  result.logits = fc_->forward(out.first);
  if (want_attention) result.attention = out.second.reshape({b, config_.transformer.num_heads, config_.num_classes, h, w});
  return result;
}

torch::Tensor Query2Label::pooledFeatures(const torch::Tensor& images) {
  return backbone_->forward(images).mean({2, 3});
}

torch::Tensor Query2Label::headFromPooled(const torch::Tensor&) {
  throw std::logic_error("Query2Label's head attends over the feature map; it cannot run on pooled features");
}

}  // namespace mls
