// Activation checkpointing (torch.utils.checkpoint for LibTorch, which has none): a segment runs forward
// without keeping its intermediate activations; backward runs the segment again, with the same autocast
// state, and back-propagates through the recomputed graph. Memory drops from every activation inside the
// segment to its input; compute grows by one extra forward of the segment.
#pragma once
#include <ATen/core/Tensor.h>

#include <functional>
#include <vector>

namespace torch::nn { class Module; }

namespace mls {

using SegmentForward = std::function<at::Tensor(const at::Tensor&)>;

// Runs `forward(input)` as a checkpointed segment made of `modules` (which `forward` must keep alive until
// backward). The gradients of the modules' parameters
// that require grad are returned through the autograd graph (so gradient accumulation and loss scaling
// behave as without checkpointing). In training mode the module's buffers (BatchNorm running statistics)
// are restored after the recomputation, so they advance once per step as without checkpointing.
// Segments without anything to differentiate (frozen weights, input without grad) and calls under
// no_grad run as a plain forward.
at::Tensor checkpointSegment(const std::vector<torch::nn::Module*>& modules, const SegmentForward& forward,
                             const at::Tensor& input);

}  // namespace mls
