// torch DDP's gradient semantics for one model replica per process (torch.nn.parallel.DistributedDataParallel
// and its c10d Reducer): parameters and buffers broadcast from rank 0 at construction; gradients bucketed
// (~25 MB) and all-reduced with ProcessGroup::allreduce, launched from autograd hooks as buckets fill during
// backward, averaged over ranks, complete when backward returns; non-final micro-batches of gradient
// accumulation skip the all-reduce; an AMP found-inf flag agreed on by all ranks. A parameter that got no
// gradient in a synced backward on some rank (not in that step's graph) counts as zero there: its buckets
// are finished after backward, in bucket order on every rank (DDP's find_unused_parameters=True). (Why hooks
// and not c10d's Reducer itself: see gradient_sync.cpp.)
//
// Per step (micro-batches m = 0..M-1):
//   GradientSync sync(group, model->parameters(), model->buffers());
//   sync.beforeForward();                    // BatchNorm running statistics from rank 0, as DDP's broadcast_buffers
//   auto loss = model->forward(...) / M;
//   sync.backward(loss, m == M - 1);         // all-reduce only on the last micro-batch
//   if (!sync.anyRankFoundInf(!scaler.unscale(params))) optimizer.step();
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace at {
class Tensor;
}

namespace mls::dist {

class ProcessGroup;

struct GradientSyncOptions {
  int64_t bucket_cap_bytes = 25 * 1024 * 1024;  // torch DDP's bucket_cap_mb = 25
  int64_t first_bucket_bytes = 1024 * 1024;     // DDP's small first bucket: the last layers' grads go out at once
  bool broadcast_buffers = true;                // beforeForward() copies rank 0's buffers (DDP's default)
};

class GradientSync {
 public:
  // Broadcasts `params` and `buffers` from rank 0 (a collective: all ranks construct together, with the same
  // lists in the same order). `params` that require grad get their gradients averaged, the others are only
  // broadcast; `buffers` are broadcast again by syncBuffers(). Lists rather than a module, because a
  // trainer's trainable set need not be one module (a model plus ROLE's label estimator, or only a head).
  // For a module m: GradientSync(group, m.parameters(), m.buffers()).
  GradientSync(ProcessGroup& group, const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& buffers,
               const GradientSyncOptions& options = {});
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;

  // Call before every training forward (all ranks, same order).
  void beforeForward();
  // loss.backward(); with sync, the averaged gradients are in .grad() when it returns. Without sync (a
  // non-final accumulation micro-batch) gradients only accumulate locally. Throws DistributedError naming
  // the rank at fault when a rank dies or hangs.
  void backward(const at::Tensor& loss, bool sync = true);
  // True when `found_inf` is true on any rank, so every rank skips the same AMP step.
  bool anyRankFoundInf(bool found_inf);
  // Rank 0's buffers to all ranks (beforeForward does this when broadcast_buffers).
  void syncBuffers();

  // Sizes of the gradient buckets in bytes, in the order they are all-reduced (reverse parameter order, as
  // DDP's initial assignment; unlike DDP they are not rebuilt from the observed gradient order).
  std::vector<int64_t> bucketBytes() const;

  struct Impl;  // internal (gradient_sync.cpp), public for its autograd hook

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace mls::dist
