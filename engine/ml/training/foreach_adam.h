// Multi-tensor ("foreach") Adam / AdamW step over a torch::optim::Adam or AdamW optimizer's own groups and
// state: the same update as their step() (and as PyTorch's torch.optim.AdamW with foreach=True, its CUDA
// default), but a handful of kernels per group instead of ~10 per parameter. ResNet-101 + the Q2L decoder
// has ~300 trainable tensors, so on a GPU the per-parameter loop is launch-bound. The state stays in the
// optimizer's map, so save()/load() and existing checkpoints are unchanged.
#pragma once

namespace torch::optim { class Optimizer; }

namespace mls {

// adamw = true: decoupled weight decay (p *= 1 - lr*wd); false: Adam's L2 term (grad += wd*p).
// Parameters without a gradient are skipped, as torch's step() does. amsgrad is not supported
// (neither official recipe uses it): throws std::invalid_argument when a group enables it.
void foreachAdamStep(torch::optim::Optimizer& optimizer, bool adamw);

}  // namespace mls
