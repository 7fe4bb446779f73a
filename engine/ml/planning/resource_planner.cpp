#include "ml/planning/resource_planner.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "ml/models/multilabel_model.h"

namespace mls {
namespace {

constexpr int64_t kMiB = 1024 * 1024;

// Backward holds, next to the saved activations, the gradient arriving at the current activation (LibTorch
// frees each as soon as its consumer ran): about one map of the largest size (bench_ml_planner).
constexpr double kBackwardMaps = 1.0;

// CPU defaults (uncalibrated): float32 throughput of oneDNN's kernels per thread and memory bandwidth per
// thread for element-wise kernels and the optimizer, fitted (minimax relative error) to bench_ml_planner's 12
// float32 configurations on an AVX-512 server core (AMD EPYC), and the cost of one kernel. Another CPU is
// calibrated with --probe.
constexpr double kCpuGflopsPerThread = 95.0;
constexpr double kCpuBandwidthPerThread = 14e9;
constexpr double kCpuKernelSeconds = 5e-6;
// CUDA defaults (uncalibrated; a mid-range data-centre card): float32 throughput reached by cuDNN on ResNet
// layers, x3 with tensor cores under mixed precision, HBM bandwidth, launch overhead.
constexpr double kCudaGflopsFp32 = 14000.0;
constexpr double kCudaHalfSpeedup = 3.0;
constexpr double kCudaBandwidth = 900e9;
constexpr double kCudaKernelSeconds = 8e-6;
// The CUDA context (cuBLAS/cuDNN handles, kernels) takes card memory outside the caching allocator, and the
// allocator rounds blocks (512 B, 2 MiB segments) and fragments: plausible figures, calibrated by the probe.
constexpr int64_t kCudaContextBytes = 450 * kMiB;
constexpr double kCudaAllocatorSlack = 0.08;

int threads() { return std::max(1, at::get_num_threads()); }

double bandwidth(const PlanSettings& s) { return s.onCuda() ? kCudaBandwidth : kCpuBandwidthPerThread * threads(); }

double kernelSeconds(const PlanSettings& s) { return s.onCuda() ? kCudaKernelSeconds : kCpuKernelSeconds; }

// Optimizer step (foreach Adam/AdamW: ~12 passes over the trainable weights' float32 state) and EMA update
// (3 passes over its copy).
double optimizerSeconds(const ModelCost& c, const PlanSettings& s) {
  const double bytes = 12.0 * static_cast<double>(c.trainable_bytes) + (s.ema ? 3.0 * static_cast<double>(c.ema_bytes) : 0.0);
  return bytes / bandwidth(s) + static_cast<double>(c.trainable_tensors) * 0.2e-6 * (s.onCuda() ? 0.0 : 1.0);
}

std::string fixed1(double v) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(v < 10 ? 1 : 0);
  o << v;
  return o.str();
}

}  // namespace

int64_t MemoryItems::devicePeak(bool on_cuda) const {
  return weights + gradients + optimizer_state + ema + label_estimator + activations + transient + runtime +
         (on_cuda ? 0 : loader);
}

std::string formatBytes(int64_t bytes) {
  const double b = static_cast<double>(bytes);
  std::ostringstream o;
  o.setf(std::ios::fixed);
  if (std::abs(b) >= 1024.0 * kMiB) o.precision(2), o << b / (1024.0 * kMiB) << " GiB";
  else if (std::abs(b) >= kMiB) o.precision(std::abs(b) >= 100.0 * kMiB ? 0 : 1), o << b / kMiB << " MiB";
  else o.precision(0), o << b / 1024.0 << " KiB";
  return o.str();
}

int64_t parseMemorySize(const std::string& text) {
  std::string t;
  for (char ch : text)
    if (ch != ' ') t += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(t, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  const std::string unit = t.substr(used);
  double scale = 0;
  if (unit.empty() || unit == "g" || unit == "gib" || unit == "gb") scale = 1024.0 * kMiB;
  else if (unit == "m" || unit == "mib" || unit == "mb") scale = kMiB;
  else if (unit == "t" || unit == "tib" || unit == "tb") scale = 1024.0 * 1024.0 * kMiB;
  if (used == 0 || scale == 0 || !(value > 0) || !std::isfinite(value))
    throw std::invalid_argument("--memory must be a positive size such as 12GiB or 800MiB (got '" + text + "')");
  return static_cast<int64_t>(value * scale);
}

double defaultGflops(const PlanSettings& s) {
  if (!s.onCuda()) return kCpuGflopsPerThread * threads();
  return kCudaGflopsFp32 * (s.halfPrecision() ? kCudaHalfSpeedup : 1.0);
}

CostQuery costQueryFor(const PlanSettings& s) {
  CostQuery q;
  q.image_size = s.image_size;
  q.half = s.halfPrecision();
  q.cuda = s.onCuda();
  q.checkpoint_backbone = s.checkpoint_backbone;
  q.channels_last = s.channels_last;
  return q;
}

std::string trainFlagsFor(const PlanSettings& s) {
  std::ostringstream o;
  o << "--batch " << s.batch << " --grad-accum " << s.grad_accum;
  if (s.amp) o << " --amp-dtype " << s.amp_dtype;
  if (s.checkpoint_backbone) o << " --checkpoint-backbone";
  if (s.channels_last) o << " --channels-last";
  return o.str();
}

ResourcePlan planFromCost(const ModelCost& c, const PlanSettings& s, const Calibration* cal) {
  if (s.batch < 1) throw std::invalid_argument("planning needs a batch of at least 1");
  if (s.grad_accum < 1) throw std::invalid_argument("planning needs --grad-accum of at least 1");
  ResourcePlan plan;
  plan.settings = s;
  const bool cuda = s.onCuda();
  const bool calibrated = cal && cal->valid;
  const double scale = calibrated ? cal->activation_scale : 1.0;
  auto& m = plan.memory;
  m.weights = c.weight_bytes;
  m.optimizer_state = 2 * c.trainable_bytes;
  m.ema = s.ema ? c.ema_bytes : 0;
  m.label_estimator = s.label_estimator_elements * 4 * 4;  // logits, gradient, two Adam moments

  const double B = static_cast<double>(s.batch);
  // Backward walks the parts from the output end: a part's weight gradients are allocated before its
  // activations are freed, and while it is inside a part it holds about one map of that part (the incoming
  // gradient) and, with checkpointing, the part's recomputed segment. The worst part decides the peak.
  double held_before = 0, best = -1, best_act = 0, best_grad = 0, backward_transient = 0;
  for (size_t k = 0; k < c.parts.size(); ++k) {
    const auto& part = c.parts[k];
    held_before += static_cast<double>(part.activation_bytes_per_image) * scale * B;
    double grads_after = 0;
    for (size_t j = k; j < c.parts.size(); ++j) grads_after += static_cast<double>(c.parts[j].gradient_bytes);
    const double transient = B * scale *
                             (kBackwardMaps * static_cast<double>(part.largest_map_bytes_per_image) +
                              static_cast<double>(part.segment_bytes_per_image));
    if (held_before + grads_after + transient > best + backward_transient)
      best = held_before + grads_after, best_act = held_before, best_grad = grads_after, backward_transient = transient;
  }
  const double per_image_transient =
      (kBackwardMaps * static_cast<double>(c.largest_map_bytes_per_image) + static_cast<double>(c.segment_bytes_per_image)) * scale;
  if (cuda) {
    // cuDNN's convolution workspace (default algorithms, no benchmark mode): up to about one activation map
    // of the batch, at least 64 MiB, at most 1 GiB.
    backward_transient += std::clamp(B * static_cast<double>(c.largest_map_bytes_per_image), 64.0 * kMiB, 1024.0 * kMiB);
  }
  const double backward_peak = best + static_cast<double>(c.activation_bytes_fixed) + backward_transient;
  // The optimizer step runs after backward freed the activations, with every gradient and foreach Adam's
  // sqrt(v) list (and a copy of the gradients for Adam's L2 weight decay).
  const bool adam_l2 = s.optimizer == "adam" && s.weight_decay > 0;
  const double optimizer_peak = static_cast<double>(c.trainable_bytes) * (adam_l2 ? 3.0 : 2.0);
  if (backward_peak >= optimizer_peak) {
    m.activations = static_cast<int64_t>(best_act) + c.activation_bytes_fixed;
    m.gradients = static_cast<int64_t>(best_grad);
    m.transient = static_cast<int64_t>(backward_transient);
  } else {
    m.activations = 0;
    m.gradients = c.trainable_bytes;
    m.transient = static_cast<int64_t>(optimizer_peak) - c.trainable_bytes;
    plan.notes.push_back("the peak is the optimizer step (activations already freed): a larger batch costs little");
  }
  const double per_image_act = static_cast<double>(c.activation_bytes_per_image) * scale;
  m.loader = static_cast<int64_t>(s.loader_prefetch) * s.batch * 3 * s.image_size * s.image_size * 4;
  if (cuda) m.runtime = kCudaContextBytes + static_cast<int64_t>(kCudaAllocatorSlack * static_cast<double>(m.activations + m.transient));
  if (calibrated) m.runtime += cal->fixed_offset;
  plan.peak_bytes = m.devicePeak(cuda);
  plan.per_image_bytes = static_cast<int64_t>(per_image_act + per_image_transient + (cuda ? 0 : 4.0 * 3 * s.image_size * s.image_size * s.loader_prefetch));

  // Time.
  auto& t = plan.time;
  t.forward_gflop = B * c.forward_flop_per_image * 1e-9;
  t.backward_gflop = B * c.backward_flop_per_image * 1e-9;
  const double opt_seconds = optimizerSeconds(c, s) / static_cast<double>(s.grad_accum);
  t.optimizer_seconds = opt_seconds;
  if (calibrated && cal->gflops_per_second > 0) {
    // The probe's throughput already includes the element-wise kernels and per-kernel overheads.
    t.gflops_per_second = cal->gflops_per_second;
    t.compute_seconds = (t.forward_gflop + t.backward_gflop) / t.gflops_per_second;
    t.overhead_seconds = std::max(0.0, cal->fixed_seconds - optimizerSeconds(c, s));
  } else {
    t.gflops_per_second = defaultGflops(s);
    const double speed = (s.channels_last && s.halfPrecision()) ? 1.2 : 1.0;  // NHWC tensor-core kernels
    t.compute_seconds = (t.forward_gflop + t.backward_gflop) / (t.gflops_per_second * speed);
    t.elementwise_seconds = B * c.elementwise_bytes_per_image / bandwidth(s);
    t.overhead_seconds = static_cast<double>(c.kernels_per_step) * kernelSeconds(s);
  }
  t.step_seconds = t.compute_seconds + t.elementwise_seconds + t.overhead_seconds + t.optimizer_seconds;
  t.step_seconds = std::max(t.step_seconds, 1e-6);
  if (s.train_images > 0) t.epoch_seconds = std::ceil(static_cast<double>(s.train_images) / B) * t.step_seconds;
  plan.calibrated = calibrated;

  if (!cuda && s.amp) plan.notes.push_back("mixed precision needs CUDA: planned in float32, as the trainer runs on the CPU");
  if (calibrated) {
    plan.notes.push_back("calibrated: " + cal->summary);
  } else {
    plan.notes.push_back(std::string("uncalibrated: activations from the layer rules; time assumes ") +
                         fixed1(t.gflops_per_second) + " GFLOP/s (" +
                         (cuda ? std::string("a typical CUDA card") : std::to_string(threads()) + " CPU threads") +
                         "); run with --probe on the training machine to calibrate");
  }
  if (cuda && !calibrated)
    plan.notes.push_back("CUDA figures not measured here: cuDNN workspace, the " + formatBytes(kCudaContextBytes) +
                         " context and allocator slack are estimates");
  if (cuda) plan.notes.push_back("loader: " + formatBytes(m.loader) + " of pinned host memory (not on the card)");
  for (const auto& n : c.notes) plan.notes.push_back(n);
  return plan;
}

ResourcePlanner::ResourcePlanner(std::shared_ptr<MultiLabelModel> model) : model_(std::move(model)) {
  if (!model_) throw std::invalid_argument("the planner needs a model");
}

ResourcePlanner::~ResourcePlanner() = default;

const ModelCost& ResourcePlanner::cost(const PlanSettings& s) const {
  const auto q = costQueryFor(s);
  const auto key = std::make_tuple(q.image_size, q.half, q.cuda, q.checkpoint_backbone, q.channels_last);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = costs_.find(key);
  if (it == costs_.end()) it = costs_.emplace(key, modelCost(*model_, q)).first;
  return it->second;
}

ResourcePlan ResourcePlanner::plan(const PlanSettings& settings, const Calibration* calibration) const {
  return planFromCost(cost(settings), settings, calibration);
}

FitResult ResourcePlanner::fit(const PlanSettings& base, int64_t budget, int64_t target_batch,
                               const Calibration* calibration) const {
  if (budget <= 0) throw std::invalid_argument("fitting needs a memory budget (--memory)");
  if (target_batch < 1) throw std::invalid_argument("fitting needs a target batch of at least 1");
  FitResult result;
  result.budget_bytes = budget;
  result.target_batch = target_batch;
  std::vector<std::pair<bool, std::string>> precisions = {{false, base.amp_dtype}};
  if (base.onCuda()) precisions = {{false, "fp16"}, {true, "bf16"}, {true, "fp16"}};
  PlanSettings leanest;
  int64_t leanest_per_image = -1;
  for (const auto& [amp, dtype] : precisions) {
    for (bool checkpoint : {false, true}) {
      for (bool channels_last : {false, true}) {
        PlanSettings s = base;
        s.amp = amp;
        s.amp_dtype = dtype;
        s.checkpoint_backbone = checkpoint;
        s.channels_last = channels_last;
        // Largest batch dividing the target that fits; the rest goes into accumulation.
        for (int64_t b = target_batch; b >= 1; --b) {
          if (target_batch % b != 0) continue;
          s.batch = b;
          s.grad_accum = target_batch / b;
          const auto p = plan(s, calibration);
          if (p.peak_bytes > budget) continue;
          result.candidates.push_back({s, p, trainFlagsFor(s)});
          break;
        }
        s.batch = 1;
        s.grad_accum = 1;
        const auto one = plan(s, calibration);
        if (leanest_per_image < 0 || one.per_image_bytes < leanest_per_image ||
            (one.per_image_bytes == leanest_per_image && !s.channels_last)) {
          leanest = s;
          leanest_per_image = one.per_image_bytes;
        }
      }
    }
  }
  auto seconds = [](const FitCandidate& c) {
    return c.plan.time.epoch_seconds > 0 ? c.plan.time.epoch_seconds
                                         : c.plan.time.step_seconds * static_cast<double>(c.settings.grad_accum);
  };
  std::stable_sort(result.candidates.begin(), result.candidates.end(),
                   [&](const FitCandidate& a, const FitCandidate& b) { return seconds(a) < seconds(b); });

  // Largest batch with the leanest options: peak grows linearly with the batch, so double then bisect.
  auto fits = [&](int64_t b) {
    PlanSettings s = leanest;
    s.batch = b;
    return plan(s, calibration).peak_bytes <= budget;
  };
  if (fits(1)) {
    int64_t lo = 1, hi = 2;
    while (hi < (int64_t{1} << 20) && fits(hi)) lo = hi, hi *= 2;
    while (hi - lo > 1) {
      const int64_t mid = (lo + hi) / 2;
      (fits(mid) ? lo : hi) = mid;
    }
    result.largest_batch = lo;
    PlanSettings s = leanest;
    s.batch = lo;
    s.grad_accum = 1;
    result.largest_batch_flags = trainFlagsFor(s);
  }
  return result;
}

}  // namespace mls
