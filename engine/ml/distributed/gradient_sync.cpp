#include "ml/distributed/gradient_sync.h"

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

#include <algorithm>
#include <mutex>

#include "ml/distributed/process_group_impl.h"

// Why not c10d::Reducer (what DistributedDataParallel uses)? Its header, c10d/reducer.hpp, includes
// torch/csrc/distributed/autograd/context/context.h and static_asserts on a type from it; Debian's
// libtorch-dev 1.13 does not ship torch/csrc/distributed/autograd/, so the Reducer cannot be compiled
// against without redefining a Torch class. This file does what the Reducer does: a post-hook on each
// parameter's AccumulateGrad node, flat buckets filled as gradients become final, each bucket all-reduced
// asynchronously (in bucket order on every rank, as collectives must match) while backward continues,
// waited for and copied back afterwards. Parameters whose hook did not fire (not in this step's graph on
// this rank) are filled in after backward with their accumulated gradient, or zeros, and the remaining
// buckets launched in order: the Reducer's find_unused_parameters path, without its extra pass over the
// graph (every rank launches the same buckets in the same order either way).

namespace mls::dist {

namespace {
// DDP's broadcast_bucket_size for the state broadcast (torch/nn/parallel/distributed.py).
constexpr size_t kBroadcastBucketBytes = 250 * 1024 * 1024;
}  // namespace

struct GradientSync::Impl {
  struct Bucket {
    std::vector<size_t> params;   // indices into Impl::params, in the order gradients are expected
    std::vector<int64_t> offsets;  // element offset of each in `buffer`
    at::Tensor buffer;             // flat, the parameters' dtype and device
    size_t pending = 0;            // gradients still missing in this backward
    c10::intrusive_ptr<c10d::Work> work;
  };

  ProcessGroup& group;
  GradientSyncOptions options;
  std::vector<at::Tensor> params;  // those that require grad, in the order given
  std::vector<at::Tensor> buffers;  // BatchNorm running statistics and the like
  std::vector<Bucket> buckets;      // all-reduce order
  std::vector<std::pair<size_t, size_t>> location;  // param -> (bucket, slot)
  std::vector<std::shared_ptr<torch::autograd::Node>> accumulators;  // kept alive: hooks live on them
  std::vector<uintptr_t> hook_keys;

  std::mutex mutex;  // hooks may run on autograd's device threads
  bool armed = false;
  size_t next_to_launch = 0;
  std::vector<bool> marked;
  std::exception_ptr hook_error;

  Impl(ProcessGroup& g, const GradientSyncOptions& o) : group(g), options(o) {}

  ~Impl() {
    for (size_t i = 0; i < accumulators.size(); ++i) accumulators[i]->del_post_hook(hook_keys[i]);
  }

  c10d::ProcessGroup& c10dGroup() { return *group.impl().group; }

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

  // DDP's bucketing: parameters in reverse order (gradients arrive roughly last layer first), a small first
  // bucket so the last layers' gradients go out at once, then buckets of ~bucket_cap_bytes; a bucket holds
  // one dtype and device.
  void assignBuckets() {
    Bucket current;
    int64_t current_bytes = 0;
    auto close = [&] {
      if (current.params.empty()) return;
      const auto& first = params[current.params.front()];
      int64_t elements = 0;
      for (size_t i : current.params) {
        current.offsets.push_back(elements);
        elements += params[i].numel();
      }
      current.buffer = torch::zeros({elements}, first.options().requires_grad(false));
      buckets.push_back(std::move(current));
      current = Bucket();
      current_bytes = 0;
    };
    for (size_t k = params.size(); k-- > 0;) {
      const auto& p = params[k];
      if (!current.params.empty()) {
        const auto& head = params[current.params.front()];
        if (head.scalar_type() != p.scalar_type() || head.device() != p.device()) close();
      }
      current.params.push_back(k);
      current_bytes += p.numel() * int64_t(p.element_size());
      const int64_t limit = buckets.empty() ? options.first_bucket_bytes : options.bucket_cap_bytes;
      if (current_bytes >= limit) close();
    }
    close();
    location.resize(params.size());
    for (size_t b = 0; b < buckets.size(); ++b)
      for (size_t s = 0; s < buckets[b].params.size(); ++s) location[buckets[b].params[s]] = {b, s};
  }

  at::Tensor view(size_t param) {
    const auto [b, s] = location[param];
    return buckets[b].buffer.narrow(0, buckets[b].offsets[s], params[param].numel());
  }

  // Copies params[index]'s gradient (zeros without one) into its bucket slot and launches the buckets that
  // are complete, in bucket order (collectives must be issued in the same order on every rank). Under mutex.
  void fill(size_t index) {
    if (marked[index]) return;
    marked[index] = true;
    const at::Tensor& grad = params[index].grad();
    auto slot = view(index);
    if (grad.defined()) {
      slot.copy_(grad.reshape({-1}));
    } else {
      slot.zero_();
    }
    --buckets[location[index].first].pending;
    while (next_to_launch < buckets.size() && buckets[next_to_launch].pending == 0) {
      Bucket& ready = buckets[next_to_launch++];
      ready.buffer.div_(group.worldSize());  // average; dividing first keeps fp16 sums in range
      std::vector<at::Tensor> tensors{ready.buffer};
      ready.work = c10dGroup().allreduce(tensors);
    }
  }

  // Called by autograd once params[index]'s gradient is accumulated for this backward.
  void gradientReady(size_t index) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!armed || hook_error) return;
    try {
      fill(index);
    } catch (...) {
      hook_error = std::current_exception();
    }
  }

  void arm() {
    std::lock_guard<std::mutex> lock(mutex);
    armed = true;
    hook_error = nullptr;
    next_to_launch = 0;
    marked.assign(params.size(), false);
    for (auto& bucket : buckets) {
      bucket.pending = bucket.params.size();
      bucket.work.reset();
    }
  }

  // After backward: every bucket must have been launched; wait for them and copy the averages back.
  void finish() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      armed = false;
    }
    if (hook_error) std::rethrow_exception(hook_error);
    {
      // Not in this step's graph here: the accumulated gradient (or zeros) takes part, so the buckets still
      // complete, in the same order as on the ranks where the parameter was used.
      torch::NoGradGuard no_grad;
      std::lock_guard<std::mutex> lock(mutex);
      for (size_t i = 0; i < params.size(); ++i) fill(i);
    }
    for (auto& bucket : buckets) group.impl().run(group, "gradient all-reduce", bucket.work);
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) {
      auto& grad = params[i].mutable_grad();
      if (!grad.defined()) grad = torch::empty_like(params[i]);
      grad.copy_(view(i).view_as(grad));
    }
  }
};

namespace {

struct GradientReadyHook : torch::autograd::FunctionPostHook {
  GradientReadyHook(GradientSync::Impl* impl, size_t index) : impl(impl), index(index) {}
  torch::autograd::variable_list operator()(const torch::autograd::variable_list& outputs,
                                            const torch::autograd::variable_list& /*inputs*/) override {
    impl->gradientReady(index);
    return outputs;
  }
  GradientSync::Impl* impl;
  size_t index;
};

}  // namespace

GradientSync::GradientSync(ProcessGroup& group, const std::vector<at::Tensor>& params,
                           const std::vector<at::Tensor>& buffers, const GradientSyncOptions& options)
    : impl_(std::make_unique<Impl>(group, options)) {
  std::vector<at::Tensor> frozen;
  for (const auto& p : params) {
    if (!p.requires_grad()) {
      frozen.push_back(p);  // frozen weights must agree too
      continue;
    }
    impl_->params.push_back(p);
  }
  impl_->buffers = buffers;

  std::vector<at::Tensor> state = impl_->params;
  state.insert(state.end(), frozen.begin(), frozen.end());
  state.insert(state.end(), impl_->buffers.begin(), impl_->buffers.end());
  impl_->broadcastFromRankZero(state, "initial parameter broadcast");

  if (!group.impl().group || impl_->params.empty()) return;
  impl_->assignBuckets();
  for (size_t i = 0; i < impl_->params.size(); ++i) {
    auto accumulator = torch::autograd::impl::grad_accumulator(impl_->params[i]);
    impl_->hook_keys.push_back(accumulator->add_post_hook(std::make_unique<GradientReadyHook>(impl_.get(), i)));
    impl_->accumulators.push_back(std::move(accumulator));
  }
}

GradientSync::~GradientSync() = default;

void GradientSync::beforeForward() {
  if (impl_->options.broadcast_buffers) syncBuffers();
}

void GradientSync::backward(const at::Tensor& loss, bool sync) {
  if (impl_->buckets.empty() || !sync) {
    // Not armed: the hooks return at once and gradients just accumulate locally.
    loss.backward();
    return;
  }
  impl_->group.markProgress();
  impl_->arm();
  try {
    loss.backward();
    impl_->finish();
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
  for (const auto& bucket : impl_->buckets) sizes.push_back(int64_t(bucket.buffer.nbytes()));
  return sizes;
}

}  // namespace mls::dist
