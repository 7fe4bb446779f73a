// Per-image memory and compute of one training step of a model, from the model's own layers at a given image
// size, precision, channels-last and checkpointing: the layer arithmetic under the resource planner.
//
// Why rules per layer and not a measured forward pass: the planner must answer for CUDA on a machine
// without a GPU, for image sizes and batches that do not fit the machine it runs on, and for every
// combination the fit search tries (precision x checkpointing x channels-last) in milliseconds, which a
// real forward pass of ResNet-101 at 448 px (31 GFLOP per image) cannot. The walk reads the real modules
// (convolution shapes and strides, which norms are frozen or folded, which weights train, the transformer's
// sizes) and applies LibTorch 1.13's saved-tensor rules per operation (a convolution keeps its input,
// BatchNorm its input, ReLU its output, max-pooling int64 indices, CPU dropout a float mask, softmax its
// output, ...), following the forward code of resnet.cpp, tiny_cnn.cpp and q2l_transformer.cpp. A short
// probe on the real device (step_probe.h) then calibrates what the rules miss (allocator and library
// workspaces); tests/bench/bench_ml_planner compares both with measured peaks.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mls {

class MultiLabelModel;

struct CostQuery {
  int64_t image_size = 448;
  bool half = false;           // CUDA autocast (fp16 / bf16): 2-byte activations, fp32 softmax / layer norm
  bool cuda = false;           // CUDA kernels: bool dropout masks (the CPU's dropout keeps a float mask)
  bool checkpoint_backbone = false;
  bool channels_last = false;
};

struct ModelCost {
  // Model state (bytes, fp32 as the trainer keeps it).
  int64_t weight_bytes = 0;      // parameters + buffers
  int64_t trainable_bytes = 0;   // parameters with requires_grad
  int64_t ema_bytes = 0;         // parameters + floating-point buffers
  int64_t trainable_tensors = 0;
  // Activations kept for backward at the end of the forward pass.
  int64_t activation_bytes_per_image = 0;
  int64_t activation_bytes_fixed = 0;   // independent of the batch (half-precision weight copies, ...)
  int64_t input_bytes_per_image = 0;    // the float32 image batch (part of the activations above)
  int64_t largest_map_bytes_per_image = 0;  // the largest single activation (backward's buffers scale with it)
  int64_t segment_bytes_per_image = 0;  // largest checkpointed segment, recomputed in backward (0 when off)
  // Forward, backward (grad of inputs and weights where needed) and recomputation, FLOP per image.
  double forward_flop_per_image = 0;
  double backward_flop_per_image = 0;
  double recompute_flop_per_image = 0;
  // Bytes that element-wise kernels (norms, activations, adds, dropout) stream per image, forward + backward.
  double elementwise_bytes_per_image = 0;
  int64_t kernels_per_step = 0;  // forward + backward launches (per-kernel overhead on small inputs)
  // Activations and trainable weights by part in forward order ("input", "backbone.layer3",
  // "transformer.encoder", ...). Backward runs the parts in reverse: it frees a part's activations after
  // allocating its weights' gradients, so the peak is the worst boundary between activations still held
  // (earlier parts) and gradients already made (later parts).
  // While backward is inside a part it also holds the gradient arriving at the part's activations (about its
  // largest map) and, with checkpointing, the part's recomputed segment.
  struct Part {
    std::string name;
    int64_t activation_bytes_per_image = 0;
    int64_t gradient_bytes = 0;
    int64_t largest_map_bytes_per_image = 0;
    int64_t segment_bytes_per_image = 0;
  };
  std::vector<Part> parts;
  std::vector<std::string> notes;
};

// Throws std::invalid_argument for a model whose layers the planner cannot read (TorchScript backbones).
ModelCost modelCost(MultiLabelModel& model, const CostQuery& query);

}  // namespace mls
