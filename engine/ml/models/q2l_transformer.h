// Query2Label's transformer (DETR's, post-norm): encoder layers over the HW feature tokens, then decoder
// layers in which K label queries cross-attend to them. The positional encoding is added to attention
// queries/keys of feature tokens, never to values; query_pos is added in every decoder layer; the decoder
// input starts at zeros; self-attention among the queries is removed by default (official Q2L).
// Module names follow the official code (encoder.layers.N.self_attn, decoder.layers.N.multihead_attn,
// linear1/linear2, norm1..3, decoder.norm).
#pragma once
#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <utility>

#include "ml/models/multi_head_attention.h"

namespace mls {

// Defaults: the official Query2Label COCO settings (main_mlc.py: hidden_dim 2048, nheads 4, enc_layers 1,
// dec_layers 2, dim_feedforward 8192, dropout 0.1, no self-attention among the queries).
struct Q2LTransformerOptions {
  int64_t d_model = 2048;  // hidden size of the tokens and label queries (main_mlc.py's hidden_dim)
  int64_t num_heads = 4;
  int64_t num_encoder_layers = 1;
  int64_t num_decoder_layers = 2;
  int64_t dim_feedforward = 8192;
  double dropout = 0.1;
  bool query_self_attention = false;  // official Q2L removes it in every decoder layer
};

// FFN with ReLU shared by both layer kinds: linear2(dropout(relu(linear1(x)))).
class TransformerEncoderLayerImpl : public torch::nn::Module {
 public:
  explicit TransformerEncoderLayerImpl(const Q2LTransformerOptions& o);
  // src (B,L,d), pos broadcastable to it.
  torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& pos);

 private:
  MultiheadAttention self_attn_{nullptr};
  torch::nn::Linear linear1_{nullptr}, linear2_{nullptr};
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr};
  torch::nn::Dropout dropout_{nullptr}, dropout1_{nullptr}, dropout2_{nullptr};
};
TORCH_MODULE(TransformerEncoderLayer);

class TransformerDecoderLayerImpl : public torch::nn::Module {
 public:
  explicit TransformerDecoderLayerImpl(const Q2LTransformerOptions& o);
  // tgt (B,K,d), memory (B,L,d), pos broadcastable to memory, query_pos broadcastable to tgt.
  // Returns the new tgt and, when need_weights, the cross-attention weights (B,heads,K,L).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& tgt, const torch::Tensor& memory,
                                                  const torch::Tensor& pos, const torch::Tensor& query_pos,
                                                  bool need_weights);

 private:
  MultiheadAttention self_attn_{nullptr};
  MultiheadAttention multihead_attn_{nullptr};
  torch::nn::Linear linear1_{nullptr}, linear2_{nullptr};
  torch::nn::LayerNorm norm1_{nullptr}, norm2_{nullptr}, norm3_{nullptr};
  torch::nn::Dropout dropout_{nullptr}, dropout1_{nullptr}, dropout2_{nullptr}, dropout3_{nullptr};
};
TORCH_MODULE(TransformerDecoderLayer);

class Q2LTransformerImpl : public torch::nn::Module {
 public:
  explicit Q2LTransformerImpl(const Q2LTransformerOptions& options);
  // src (B,L,d) feature tokens, pos (1 or B, L, d), query_pos (K,d).
  // Returns the decoder output after its final LayerNorm (B,K,d) and, when need_weights, the last
  // decoder layer's cross-attention weights per head (B,heads,K,L).
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& src, const torch::Tensor& pos,
                                                  const torch::Tensor& query_pos, bool need_weights = false);

 private:
  torch::nn::ModuleList encoder_layers_{nullptr}, decoder_layers_{nullptr};
  torch::nn::LayerNorm decoder_norm_{nullptr};
};
TORCH_MODULE(Q2LTransformer);

}  // namespace mls
