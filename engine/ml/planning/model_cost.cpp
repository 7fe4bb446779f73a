#include "ml/planning/model_cost.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include "ml/models/backbone.h"
#include "ml/models/frozen_batch_norm.h"
#include "ml/models/mlspl_classifier.h"
#include "ml/models/multilabel_model.h"
#include "ml/models/query2label.h"
#include "ml/models/resnet.h"
#include "ml/models/tiny_cnn.h"

namespace mls {
namespace {

int64_t numelOf(const torch::Tensor& t) { return t.defined() ? t.numel() : 0; }

// The walk's running state: the current activation (per image), whether autograd keeps it already, whether
// gradients flow into it, and the ledgers.
class Walk {
 public:
  explicit Walk(const CostQuery& q) : q_(q), act_(q.half ? 2 : 4) {}

  const CostQuery& query() const { return q_; }
  int actBytes() const { return act_; }

  // ---- the current tensor ---------------------------------------------------------------------------------
  void setCurrent(int64_t channels, int64_t h, int64_t w, bool counted) {
    c_ = channels, h_ = h, w_ = w, counted_ = counted;
  }
  int64_t mapElements() const { return c_ * h_ * w_; }
  int64_t channels() const { return c_; }
  int64_t height() const { return h_; }
  int64_t width() const { return w_; }
  bool gradFlows() const { return grad_flows_; }
  void setGradFlows(bool on) { grad_flows_ = on; }
  // Autograd keeps the current tensor (a consumer saves it); counted once however many consumers save it.
  void keepCurrent(int bytes_per_element) {
    if (counted_) return;
    keep(mapElements() * bytes_per_element);
    counted_ = true;
  }

  // ---- ledgers ----------------------------------------------------------------------------------------------
  void keep(int64_t bytes) {
    if (segment_open_) segment_ += bytes;
    else held_ += bytes, part_ += bytes;
  }
  void keepFixed(int64_t bytes) { fixed_ += bytes; }
  void gradient(int64_t bytes) { part_grad_ += bytes; }
  void noteMap(int64_t bytes) {
    largest_ = std::max(largest_, bytes);
    part_largest_ = std::max(part_largest_, bytes);
  }
  void flops(double forward, bool grad_input, bool grad_weight) {
    forward_ += forward;
    backward_ += (grad_input ? forward : 0.0) + (grad_weight ? forward : 0.0);
    if (segment_open_) recompute_ += forward;
    kernels_ += 1 + (grad_input ? 1 : 0) + (grad_weight ? 1 : 0);
  }
  void elementwise(int64_t elements, int passes) {
    elementwise_ += static_cast<double>(elements) * act_ * passes;
    kernels_ += passes;
  }

  // A checkpointed segment keeps only its input; its inside is recomputed (and held) during backward.
  void openSegment() {
    keepCurrent(act_);
    segment_open_ = true;
    segment_ = 0;
  }
  void closeSegment() {
    segment_open_ = false;
    max_segment_ = std::max(max_segment_, segment_);
    part_segment_ = std::max(part_segment_, segment_);
    counted_ = false;  // the segment's output is a fresh tensor nothing has saved yet
  }

  void endPart(const std::string& name, ModelCost& cost) {
    if (part_ > 0 || part_grad_ > 0 || part_largest_ > 0)
      cost.parts.push_back({name, part_, part_grad_, part_largest_, part_segment_});
    part_ = 0;
    part_grad_ = 0;
    part_largest_ = 0;
    part_segment_ = 0;
  }
  void finish(ModelCost& cost) const {
    cost.activation_bytes_per_image = held_;
    cost.activation_bytes_fixed = fixed_;
    cost.largest_map_bytes_per_image = largest_;
    cost.segment_bytes_per_image = max_segment_;
    cost.forward_flop_per_image = forward_;
    cost.backward_flop_per_image = backward_ + recompute_;
    cost.recompute_flop_per_image = recompute_;
    cost.elementwise_bytes_per_image = elementwise_;
    cost.kernels_per_step = kernels_;
  }

 private:
  CostQuery q_;
  int act_;
  int64_t c_ = 3, h_ = 0, w_ = 0;
  bool counted_ = false, grad_flows_ = false;
  bool segment_open_ = false;
  int64_t held_ = 0, fixed_ = 0, part_ = 0, part_grad_ = 0, largest_ = 0, segment_ = 0, max_segment_ = 0;
  int64_t part_largest_ = 0, part_segment_ = 0;
  double forward_ = 0, backward_ = 0, recompute_ = 0, elementwise_ = 0;
  int64_t kernels_ = 0;
};

enum class Norm { None, Trained, Frozen };

Norm normKind(const std::shared_ptr<torch::nn::Module>& m) {
  if (!m) return Norm::None;
  if (std::dynamic_pointer_cast<FrozenBatchNorm2dImpl>(m)) return Norm::Frozen;
  if (std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(m)) return Norm::Trained;
  return Norm::None;
}

// What follows a convolution's norm: ReLU (saves its output), a residual add then ReLU (the same), or nothing
// (the downsample branch, consumed by the add).
enum class After { Relu, Nothing };

// conv (+ norm) (+ ReLU), as resnet.cpp's convNorm and tiny_cnn.cpp's conv-BN-ReLU run them.
void convNormStep(Walk& walk, const torch::nn::Conv2dImpl& conv, Norm norm, bool fold_allowed, After after) {
  const auto& o = conv.options;
  const int64_t k = (*o.kernel_size())[0], s = (*o.stride())[0];
  const int64_t pad = c10::get<torch::ExpandingArray<2>>(o.padding())->at(0);
  const int64_t cin = o.in_channels(), cout = o.out_channels();
  const int64_t ho = (walk.height() + 2 * pad - k) / s + 1, wo = (walk.width() + 2 * pad - k) / s + 1;
  const int64_t out = cout * ho * wo;
  const bool trainable = conv.weight.requires_grad();
  const bool graph = trainable || walk.gradFlows();
  const int act = walk.actBytes();
  const bool half = walk.query().half;

  if (graph) {
    walk.keepCurrent(act);  // the convolution keeps its input
    const int64_t w = numelOf(conv.weight);
    const bool folded = norm == Norm::Frozen && fold_allowed && (!trainable || half);
    if (half && trainable) walk.keepFixed(w * 2);    // autocast's half copy of the weight (or of W*scale)
    else if (folded) walk.keepFixed(w * (half ? 2 : 4));  // W*scale, kept for the input's gradient
    int64_t kept = 0;
    if (norm == Norm::Trained) kept = out + (after == After::Relu ? out : 0);  // BN input + ReLU output
    else kept = after == After::Relu ? out : 0;  // frozen (folded or x*s+b): the ReLU output only
    walk.keep(kept * act);
  }
  walk.noteMap(out * act);
  if (trainable) walk.gradient(numelOf(conv.weight) * 4);
  walk.flops(2.0 * static_cast<double>(cin * k * k) * static_cast<double>(out), walk.gradFlows(), trainable);
  const bool folded_any = norm == Norm::Frozen && fold_allowed && (!trainable || half);
  if (norm == Norm::Trained) walk.elementwise(out, 6);                 // stats + normalise, backward
  else if (norm == Norm::Frozen && !folded_any) walk.elementwise(out, 4);
  if (after == After::Relu) walk.elementwise(out, 2);
  if (trainable) walk.setGradFlows(true);
  walk.setCurrent(cout, ho, wo, graph && after == After::Relu);
}

std::shared_ptr<torch::nn::Module> child(const torch::nn::Module& m, const std::string& name) {
  for (const auto& item : m.named_children())
    if (item.key() == name) return item.value();
  return nullptr;
}

void resnetBlock(Walk& walk, torch::nn::Module& block, bool fold) {
  const int64_t in_c = walk.channels(), in_h = walk.height(), in_w = walk.width();
  const bool flows_in = walk.gradFlows();
  auto conv = [&](const std::string& n) { return std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(child(block, n)); };
  convNormStep(walk, *conv("conv1"), normKind(child(block, "bn1")), fold, After::Relu);
  convNormStep(walk, *conv("conv2"), normKind(child(block, "bn2")), fold, After::Relu);
  // A bottleneck's last conv: its norm's output takes the residual add in place, then ReLU in place.
  if (auto c3 = conv("conv3")) convNormStep(walk, *c3, normKind(child(block, "bn3")), fold, After::Relu);
  const int64_t out_c = walk.channels(), out_h = walk.height(), out_w = walk.width();
  const bool flows_out = walk.gradFlows();
  if (auto ds = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(child(block, "downsample"))) {
    // Runs on the block input (already kept by conv1); its output is consumed by the add, so only a
    // trained BN keeps anything (its input).
    walk.setCurrent(in_c, in_h, in_w, true);
    walk.setGradFlows(flows_in);
    convNormStep(walk, *ds->ptr<torch::nn::Conv2dImpl>(0), normKind(ds->ptr(1)), fold, After::Nothing);
  }
  walk.elementwise(out_c * out_h * out_w, 3);  // residual add (+ its backward)
  walk.setGradFlows(flows_out || walk.gradFlows());
  walk.setCurrent(out_c, out_h, out_w, walk.gradFlows());  // kept by conv3's (or conv2's) ReLU
}

void walkResNet(Walk& walk, ResNet& net, ModelCost& cost) {
  const bool fold = net.options().fold_frozen_bn;
  convNormStep(walk, *std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(child(net, "conv1")), normKind(child(net, "bn1")),
               fold, After::Relu);
  // max_pool2d(3, 2, 1): keeps int64 indices at its output size when a gradient must pass it.
  const int64_t h = (walk.height() + 2 - 3) / 2 + 1, w = (walk.width() + 2 - 3) / 2 + 1;
  if (walk.gradFlows()) walk.keep(walk.channels() * h * w * 8);
  walk.elementwise(walk.channels() * h * w, 3);
  walk.setCurrent(walk.channels(), h, w, false);
  walk.endPart("backbone.stem", cost);
  for (const char* name : {"layer1", "layer2", "layer3", "layer4"}) {
    auto layer = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(child(net, name));
    const auto blocks = layer->children();
    // ResNet::runLayer: segments of ceil(sqrt(n)) blocks when checkpointing; a segment without anything to
    // differentiate (a frozen stage fed by frozen layers) runs as a plain forward, keeping nothing.
    const size_t per_segment = walk.query().checkpoint_backbone
                                   ? static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(blocks.size()))))
                                   : blocks.size();
    for (size_t first = 0; first < blocks.size(); first += per_segment) {
      bool trainable = walk.gradFlows();
      for (size_t i = first; i < std::min(blocks.size(), first + per_segment); ++i)
        for (const auto& p : blocks[i]->parameters()) trainable = trainable || p.requires_grad();
      const bool segment = walk.query().checkpoint_backbone && trainable;
      if (segment) walk.openSegment();
      for (size_t i = first; i < std::min(blocks.size(), first + per_segment); ++i) resnetBlock(walk, *blocks[i], fold);
      if (segment) walk.closeSegment();
    }
    walk.endPart(std::string("backbone.") + name, cost);
  }
}

void walkTiny(Walk& walk, TinyCnn& net, ModelCost& cost) {
  auto features = std::dynamic_pointer_cast<torch::nn::SequentialImpl>(child(net, "features"));
  const auto layers = features->children();
  for (size_t i = 0; i + 2 < layers.size(); i += 3) {  // conv-BN-ReLU triples (tiny_cnn.cpp)
    const bool segment = walk.query().checkpoint_backbone;
    if (segment) walk.openSegment();
    convNormStep(walk, *std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(layers[i]), normKind(layers[i + 1]), false,
                 After::Relu);
    if (segment) walk.closeSegment();
    walk.endPart("backbone.block" + std::to_string(i / 3 + 1), cost);  // backward frees it block by block
  }
}

// One multi-head attention (multi_head_attention.cpp) with lq queries over lk keys, d wide, h heads, as
// LibTorch 1.13 records it: the projections keep their inputs (counted by the caller); q / sqrt(hd) and the
// (B,h,L,hd) views are copied to contiguous blocks for the batched matmuls, which keep them; softmax keeps its
// output (fp32 under autocast); dropout keeps a mask (float on the CPU, bool on CUDA) and its output; the
// context is copied back to (B,L,d) for out_proj, which keeps it.
void attention(Walk& walk, int64_t lq, int64_t lk, int64_t d, int64_t heads, double dropout) {
  const int act = walk.actBytes();
  const bool half = walk.query().half;
  const int64_t scores = heads * lq * lk;
  walk.keep((lq * d) * act * 2);       // q copy, context copy
  walk.keep((lk * d) * act * 2);       // k copy, v copy
  walk.keep(scores * (half ? 4 : act));  // softmax output
  if (dropout > 0) {
    walk.keep(scores * (walk.query().cuda ? 1 : (half ? 4 : act)));  // mask
    walk.keep(scores * (half ? 4 + 2 : act));                          // dropout output (+ its half cast)
  } else if (half) {
    walk.keep(scores * 2);  // half cast of the weights for the second matmul
  }
  walk.noteMap(scores * (half ? 4 : act));
  walk.flops(2.0 * static_cast<double>(lq * d * d) * 2 + 2.0 * static_cast<double>(lk * d * d) * 2, true, true);
  walk.flops(2.0 * static_cast<double>(scores) * static_cast<double>(d / heads) * 2, true, false);
  walk.elementwise(scores, dropout > 0 ? 8 : 4);
}

// Linear + ReLU + dropout + Linear of a transformer layer over `tokens` rows; the add and the norm after it.
void feedForward(Walk& walk, int64_t tokens, int64_t d, int64_t f, double dropout) {
  const int act = walk.actBytes();
  const bool half = walk.query().half;
  walk.keep(tokens * f * act);  // ReLU output
  if (dropout > 0) {
    walk.keep(tokens * f * (walk.query().cuda ? 1 : act));  // mask
    walk.keep(tokens * f * act);                            // dropout output (linear2's input)
  }
  walk.noteMap(tokens * f * act);
  walk.flops(2.0 * static_cast<double>(tokens * d * f) * 2, true, true);
  walk.elementwise(tokens * f, dropout > 0 ? 6 : 3);
  (void)half;
}

// residual add + dropout of the branch + LayerNorm (fp32 under autocast, whose output linear layers cast back).
void addNorm(Walk& walk, int64_t tokens, int64_t d, double dropout) {
  const int act = walk.actBytes();
  const bool half = walk.query().half;
  if (dropout > 0) walk.keep(tokens * d * (walk.query().cuda ? 1 : act));  // the branch's dropout mask
  walk.keep(tokens * d * (half ? 4 : act));      // the norm's input
  walk.keep(tokens * d * (half ? 4 + 2 : act));  // its output (+ the half copy the next linear keeps)
  walk.elementwise(tokens * d, 8);
}

void walkQ2LHead(Walk& walk, Query2Label& model, ModelCost& cost) {
  const auto& t = model.config().transformer;
  const int act = walk.actBytes();
  const bool half = walk.query().half;
  const int64_t d = t.d_model, L = walk.height() * walk.width(), K = model.config().num_classes, f = t.dim_feedforward;
  const double p = t.dropout;
  if (auto proj = std::dynamic_pointer_cast<torch::nn::Conv2dImpl>(child(model, "input_proj"))) {
    walk.keepCurrent(act);
    walk.flops(2.0 * static_cast<double>(walk.channels() * d * L), true, true);
    if (half) walk.keepFixed(numelOf(proj->weight) * 2);
  }
  walk.keep(L * d * act);  // tokens: the contiguous (B,HW,d) copy the encoder's value projection keeps
  walk.elementwise(L * d, 2);
  for (int64_t i = 0; i < t.num_encoder_layers; ++i) {
    walk.keep(L * d * act);  // src + pos (queries and keys)
    attention(walk, L, L, d, t.num_heads, p);
    addNorm(walk, L, d, p);
    feedForward(walk, L, d, f, p);
    addNorm(walk, L, d, p);
  }
  walk.endPart("transformer.encoder", cost);
  // Decoder: K label queries attend to the L memory tokens (no query self-attention by default).
  for (int64_t i = 0; i < t.num_decoder_layers; ++i) {
    walk.keep(K * d * act + L * d * act);  // tgt + query_pos, memory + pos
    if (t.query_self_attention) {
      attention(walk, K, K, d, t.num_heads, p);
      addNorm(walk, K, d, p);
    }
    attention(walk, K, L, d, t.num_heads, p);
    addNorm(walk, K, d, p);
    feedForward(walk, K, d, f, p);
    addNorm(walk, K, d, p);
  }
  walk.keep(K * d * (half ? 4 : act) * 2);  // decoder norm input and output (GroupWiseLinear keeps it)
  walk.flops(2.0 * static_cast<double>(K * d), true, true);
  walk.keep(K * 4 * 4);                     // logits, loss terms
  walk.endPart("transformer.decoder", cost);
  if (half) {  // autocast's half copies of the transformer's weights
    int64_t n = 0;
    for (const auto& prm : child(model, "transformer")->parameters())
      if (prm.dim() > 1 && prm.requires_grad()) n += prm.numel();
    walk.keepFixed(n * 2);
  }
}

void walkLinearHead(Walk& walk, MlsplClassifier& model, ModelCost& cost) {
  // Global average pooling keeps nothing but sizes; the classifier keeps the pooled features.
  const int64_t k = model.numClasses();
  walk.keep(walk.channels() * walk.actBytes() + k * 4 * 4);
  walk.elementwise(walk.mapElements(), 2);
  walk.flops(2.0 * static_cast<double>(walk.channels() * k), true, true);
  walk.endPart("head", cost);
}

}  // namespace

ModelCost modelCost(MultiLabelModel& model, const CostQuery& q) {
  if (q.image_size < 16) throw std::invalid_argument("planning needs an image size of at least 16 px");
  ModelCost cost;
  for (const auto& p : model.parameters()) {
    cost.weight_bytes += p.numel() * static_cast<int64_t>(p.element_size());
    cost.ema_bytes += p.numel() * static_cast<int64_t>(p.element_size());
    if (p.requires_grad()) {
      cost.trainable_bytes += p.numel() * static_cast<int64_t>(p.element_size());
      ++cost.trainable_tensors;
    }
  }
  for (const auto& b : model.buffers()) {
    cost.weight_bytes += b.numel() * static_cast<int64_t>(b.element_size());
    if (b.is_floating_point()) cost.ema_bytes += b.numel() * static_cast<int64_t>(b.element_size());
  }

  Walk walk(q);
  // The float32 image batch stays alive through the step; channels-last adds an NHWC copy, autocast the half
  // copy the first convolution keeps.
  const int64_t image = 3 * q.image_size * q.image_size;
  cost.input_bytes_per_image = image * 4 * (q.channels_last ? 2 : 1);
  walk.keep(cost.input_bytes_per_image);
  walk.setCurrent(3, q.image_size, q.image_size, !q.half);
  walk.endPart("input", cost);

  auto& backbone = model.backbone();
  if (auto* resnet = dynamic_cast<ResNet*>(&backbone)) walkResNet(walk, *resnet, cost);
  else if (auto* tiny = dynamic_cast<TinyCnn*>(&backbone)) walkTiny(walk, *tiny, cost);
  else throw std::invalid_argument("the planner reads ResNet and tiny backbones only (TorchScript backbones have no layers to read)");

  if (auto* q2l = dynamic_cast<Query2Label*>(&model)) walkQ2LHead(walk, *q2l, cost);
  else if (auto* mlspl = dynamic_cast<MlsplClassifier*>(&model)) walkLinearHead(walk, *mlspl, cost);
  else throw std::invalid_argument("the planner does not know this model's head");
  walk.finish(cost);
  // The head's gradients (and the norms' small ones) belong to the last part: backward makes them first.
  int64_t counted = 0;
  for (const auto& p : cost.parts) counted += p.gradient_bytes;
  if (!cost.parts.empty()) cost.parts.back().gradient_bytes += std::max<int64_t>(0, cost.trainable_bytes - counted);
  return cost;
}

}  // namespace mls
