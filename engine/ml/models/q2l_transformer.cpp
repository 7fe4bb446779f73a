#include "ml/models/q2l_transformer.h"

#include <torch/torch.h>

#include <stdexcept>

namespace mls {
namespace {

torch::nn::LayerNorm layerNorm(int64_t d) { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({d})); }

}  // namespace

TransformerEncoderLayerImpl::TransformerEncoderLayerImpl(const Q2LTransformerOptions& o) {
  self_attn_ = register_module("self_attn", MultiheadAttention(o.d_model, o.num_heads, o.dropout));
  linear1_ = register_module("linear1", torch::nn::Linear(o.d_model, o.dim_feedforward));
  dropout_ = register_module("dropout", torch::nn::Dropout(o.dropout));
  linear2_ = register_module("linear2", torch::nn::Linear(o.dim_feedforward, o.d_model));
  norm1_ = register_module("norm1", layerNorm(o.d_model));
  norm2_ = register_module("norm2", layerNorm(o.d_model));
  dropout1_ = register_module("dropout1", torch::nn::Dropout(o.dropout));
  dropout2_ = register_module("dropout2", torch::nn::Dropout(o.dropout));
}

torch::Tensor TransformerEncoderLayerImpl::forward(const torch::Tensor& src, const torch::Tensor& pos) {
  const auto qk = src + pos;
  auto x = norm1_->forward(src + dropout1_->forward(self_attn_->forward(qk, qk, src).first));
  const auto ffn = linear2_->forward(dropout_->forward(torch::relu(linear1_->forward(x))));
  return norm2_->forward(x + dropout2_->forward(ffn));
}

TransformerDecoderLayerImpl::TransformerDecoderLayerImpl(const Q2LTransformerOptions& o) {
  if (o.query_self_attention) {
    self_attn_ = register_module("self_attn", MultiheadAttention(o.d_model, o.num_heads, o.dropout));
    norm1_ = register_module("norm1", layerNorm(o.d_model));
    dropout1_ = register_module("dropout1", torch::nn::Dropout(o.dropout));
  }
  multihead_attn_ = register_module("multihead_attn", MultiheadAttention(o.d_model, o.num_heads, o.dropout));
  linear1_ = register_module("linear1", torch::nn::Linear(o.d_model, o.dim_feedforward));
  dropout_ = register_module("dropout", torch::nn::Dropout(o.dropout));
  linear2_ = register_module("linear2", torch::nn::Linear(o.dim_feedforward, o.d_model));
  norm2_ = register_module("norm2", layerNorm(o.d_model));
  norm3_ = register_module("norm3", layerNorm(o.d_model));
  dropout2_ = register_module("dropout2", torch::nn::Dropout(o.dropout));
  dropout3_ = register_module("dropout3", torch::nn::Dropout(o.dropout));
}

std::pair<torch::Tensor, torch::Tensor> TransformerDecoderLayerImpl::forward(const torch::Tensor& tgt_in,
                                                                             const torch::Tensor& memory,
                                                                             const torch::Tensor& pos,
                                                                             const torch::Tensor& query_pos,
                                                                             bool need_weights) {
  auto tgt = tgt_in;
  if (self_attn_) {
    const auto qk = tgt + query_pos;
    tgt = norm1_->forward(tgt + dropout1_->forward(self_attn_->forward(qk, qk, tgt).first));
  }
  auto cross = multihead_attn_->forward(tgt + query_pos, memory + pos, memory, need_weights);
  tgt = norm2_->forward(tgt + dropout2_->forward(cross.first));
  const auto ffn = linear2_->forward(dropout_->forward(torch::relu(linear1_->forward(tgt))));
  tgt = norm3_->forward(tgt + dropout3_->forward(ffn));
  return {tgt, cross.second};
}

Q2LTransformerImpl::Q2LTransformerImpl(const Q2LTransformerOptions& options) {
  if (options.num_decoder_layers < 1) throw std::invalid_argument("Query2Label needs at least one decoder layer");
  if (options.num_encoder_layers < 0) throw std::invalid_argument("negative number of encoder layers");
  encoder_layers_ = torch::nn::ModuleList();
  for (int64_t i = 0; i < options.num_encoder_layers; ++i)
    encoder_layers_->push_back(TransformerEncoderLayer(options));
  decoder_layers_ = torch::nn::ModuleList();
  for (int64_t i = 0; i < options.num_decoder_layers; ++i)
    decoder_layers_->push_back(TransformerDecoderLayer(options));
  decoder_norm_ = layerNorm(options.d_model);

  // Same names as the official model: transformer.encoder.layers.N..., transformer.decoder.norm.
  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  encoder->register_module("layers", encoder_layers_);
  auto decoder = register_module("decoder", std::make_shared<torch::nn::Module>());
  decoder->register_module("layers", decoder_layers_);
  decoder->register_module("norm", decoder_norm_);

  // DETR/Q2L _reset_parameters: Xavier-uniform for every matrix of the transformer.
  for (auto& p : parameters(/*recurse=*/true))
    if (p.dim() > 1) torch::nn::init::xavier_uniform_(p);
}

std::pair<torch::Tensor, torch::Tensor> Q2LTransformerImpl::forward(const torch::Tensor& src,
                                                                    const torch::Tensor& pos,
                                                                    const torch::Tensor& query_pos,
                                                                    bool need_weights) {
  auto memory = src;
  for (const auto& layer : *encoder_layers_) memory = layer->as<TransformerEncoderLayerImpl>()->forward(memory, pos);

  const auto queries = query_pos.unsqueeze(0);  // (1,K,d), broadcast over the batch
  auto tgt = torch::zeros({src.size(0), query_pos.size(0), query_pos.size(1)}, src.options());
  torch::Tensor weights;
  const auto n = decoder_layers_->size();
  for (size_t i = 0; i < n; ++i) {
    auto out = decoder_layers_[i]->as<TransformerDecoderLayerImpl>()->forward(tgt, memory, pos, queries,
                                                                                need_weights && i + 1 == n);
    tgt = out.first;
    weights = out.second;
  }
  return {decoder_norm_->forward(tgt), weights};
}

}  // namespace mls
