#include "ml/distributed/gradient_sync.h"

#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <unordered_map>

#include "ml/distributed/process_group_impl.h"

namespace mls::dist {

namespace {
// DDP's broadcast_bucket_size for the initial state broadcast (torch/nn/parallel/distributed.py).
constexpr size_t kBroadcastBucketBytes = 250 * 1024 * 1024;
}  // namespace

struct GradientSync::Impl {
  ProcessGroup& group;
  GradientSyncOptions options;
  std::vector<at::Tensor> params;   // those that require grad, in module.parameters() order
  std::vector<at::Tensor> buffers;  // BatchNorm running statistics and the like
  std::unique_ptr<c10d::Reducer> reducer;  // null for a world of one

  Impl(ProcessGroup& g, const GradientSyncOptions& o) : group(g), options(o) {}

  void broadcastFromRankZero(std::vector<at::Tensor> tensors, const std::string& what) {
    if (!group.impl().group || tensors.empty()) return;
    group.markProgress();
    try {
      torch::NoGradGuard no_grad;
      c10d::broadcast_coalesced(group.impl().group, tensors, kBroadcastBucketBytes, 0);
    } catch (const DistributedError&) {
      throw;
    } catch (const std::exception& e) {
      group.fail(what, e);
    }
  }
};

GradientSync::GradientSync(ProcessGroup& group, torch::nn::Module& module, const GradientSyncOptions& options)
    : impl_(std::make_unique<Impl>(group, options)) {
  std::unordered_map<size_t, std::string> names;
  for (const auto& item : module.named_parameters(true)) {
    if (!item.value().requires_grad()) continue;
    names[impl_->params.size()] = item.key();
    impl_->params.push_back(item.value());
  }
  impl_->buffers = module.buffers(true);

  std::vector<at::Tensor> state = impl_->params;
  for (const auto& p : module.parameters(true))
    if (!p.requires_grad()) state.push_back(p);  // frozen weights must agree too
  state.insert(state.end(), impl_->buffers.begin(), impl_->buffers.end());
  impl_->broadcastFromRankZero(state, "initial parameter broadcast");

  if (!group.impl().group || impl_->params.empty()) return;
  // As DistributedDataParallel does without find_unused_parameters: one bucket for the first iteration (the
  // order in which gradients arrive is unknown yet), in reverse parameter order; the Reducer rebuilds the
  // buckets at the next forward, capped at bucket_cap_bytes, in the order gradients actually became ready.
  const std::vector<bool> sparse(impl_->params.size(), false);
  auto [bucket_indices, bucket_limits] =
      c10d::compute_bucket_assignment_by_size(impl_->params, {std::numeric_limits<size_t>::max()}, sparse);
  std::reverse(bucket_indices.begin(), bucket_indices.end());
  std::reverse(bucket_limits.begin(), bucket_limits.end());
  impl_->reducer = std::make_unique<c10d::Reducer>(impl_->params, bucket_indices, bucket_limits, group.impl().group,
                                                   sparse, options.bucket_cap_bytes,
                                                   /*find_unused_parameters=*/false,
                                                   /*gradient_as_bucket_view=*/false, names, options.first_bucket_bytes);
}

GradientSync::~GradientSync() = default;

void GradientSync::beforeForward() {
  if (!impl_->reducer) return;
  try {
    // A collective (bucket order from rank 0) the first time only; a no-op afterwards.
    impl_->reducer->rebuild_buckets();
  } catch (const std::exception& e) {
    impl_->group.fail("gradient bucket rebuild", e);
  }
  if (impl_->options.broadcast_buffers) syncBuffers();
}

void GradientSync::backward(const at::Tensor& loss, bool sync) {
  if (!impl_->reducer || !sync) {
    // Without prepare_for_backward the Reducer's autograd hooks return at once: gradients just accumulate.
    loss.backward();
    return;
  }
  impl_->group.markProgress();
  try {
    impl_->reducer->prepare_for_forward();
    impl_->reducer->prepare_for_backward({});
    loss.backward();
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    impl_->group.fail("gradient all-reduce", e);
  }
}

bool GradientSync::anyRankFoundInf(bool found_inf) {
  if (!impl_->group.impl().group) return found_inf;
  std::vector<at::Tensor> flag{torch::full({1}, found_inf ? 1.0f : 0.0f)};
  impl_->group.allreduceMax(flag, "AMP found-inf agreement");
  return flag[0].item<float>() > 0.0f;
}

void GradientSync::syncBuffers() { impl_->broadcastFromRankZero(impl_->buffers, "buffer broadcast"); }

std::vector<int64_t> GradientSync::bucketBytes() const {
  std::vector<int64_t> sizes;
  if (!impl_->reducer) return sizes;
  for (const auto& bucket : impl_->reducer->get_grad_buckets(/*return_zero_tensors=*/true))
    sizes.push_back(static_cast<int64_t>(bucket.getBuffer().nbytes()));
  return sizes;
}

}  // namespace mls::dist
