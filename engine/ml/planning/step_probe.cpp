#include "ml/planning/step_probe.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "ml/device.h"
#include "ml/losses.h"
#include "ml/models/multilabel_model.h"
#include "ml/planning/counting_cpu_allocator.h"
#include "ml/planning/resource_planner.h"
#include "ml/tensor_batch_source.h"
#include "ml/training/trainer.h"

#ifdef MLS_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace mls {
namespace {

using Clock = std::chrono::steady_clock;

// Peak tensor memory since the last reset, on the CPU (counting allocator) or a CUDA device (the caching
// allocator's reserved bytes: what the card really gives up, rounding and cached blocks included).
class PeakMeter {
 public:
  explicit PeakMeter(const c10::Device& device) : device_(device) {
    if (device_.is_cuda()) {
#ifndef MLS_WITH_CUDA
      throw std::invalid_argument("this build cannot read CUDA memory statistics (built without c10_cuda)");
#endif
    }
  }
  void reset() {
    if (!device_.is_cuda()) return counter().resetPeak();
#ifdef MLS_WITH_CUDA
    c10::cuda::CUDACachingAllocator::resetPeakStats(device_.index());
#endif
  }
  int64_t peak() const {
    if (!device_.is_cuda()) return counter().peak();
#ifdef MLS_WITH_CUDA
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device_.index());
    return stats.reserved_bytes[static_cast<size_t>(c10::cuda::CUDACachingAllocator::StatType::AGGREGATE)].peak;
#else
    return 0;
#endif
  }
  static CountingCpuAllocator& counter() {
    static CountingCpuAllocator c(c10::GetDefaultCPUAllocator());
    return c;
  }

 private:
  c10::Device device_;
};

// Records each steady-state step's peak and duration (onStep comes after the optimizer step).
class ProbeObserver : public TrainObserver {
 public:
  explicit ProbeObserver(PeakMeter& meter) : meter_(meter) {}
  void onStep(const StepInfo&) override {
    const auto now = Clock::now();
    if (steps_ > 0) {  // the first step allocates the optimizer state and warms up kernels: not timed
      peak_ = std::max(peak_, meter_.peak());
      const double s = std::chrono::duration<double>(now - last_).count();
      fastest_ = fastest_ > 0 ? std::min(fastest_, s) : s;
    }
    ++steps_;
    meter_.reset();
    last_ = Clock::now();
  }
  int64_t peak() const { return peak_; }
  double fastest() const { return fastest_; }

 private:
  PeakMeter& meter_;
  int steps_ = 0;
  int64_t peak_ = 0;
  double fastest_ = 0;
  Clock::time_point last_ = Clock::now();
};

}  // namespace

std::vector<ProbeMeasurement> probeSteps(const std::function<std::shared_ptr<MultiLabelModel>()>& make_model,
                                         const ProbeRequest& request) {
  if (request.batches.empty()) throw std::invalid_argument("the probe needs at least one batch size");
  if (request.steps < 2) throw std::invalid_argument("the probe needs at least two steps per batch");
  const c10::Device device = resolveDevice(request.trainer.device);
  PeakMeter meter(device);
  std::vector<ProbeMeasurement> out;
  for (const int64_t batch : request.batches) {
    // Random images and labels, made before the meter starts: a real loader's batches are counted apart.
    torch::manual_seed(1);
    const int64_t n = batch * request.steps;
    auto images = torch::randn({n, 3, request.image_size, request.image_size});
    auto targets = (torch::rand({n, request.num_classes}) < 0.05).to(torch::kFloat);
    targets.select(1, 0).fill_(1);  // every image has an observed positive (single-positive losses)
    ProbeObserver observer(meter);
    std::optional<CpuAllocatorScope> scope;
    if (!device.is_cuda()) scope.emplace(PeakMeter::counter());
    {
      auto model = make_model();
      TrainerOptions o = request.trainer;
      o.epochs = 1;
      o.checkpoint_dir.clear();
      o.early_stop_patience = 0;
      o.profile_steps = false;
      Trainer trainer(model, o, &observer);
      if (lossNeedsEstimator(o.loss.kind)) trainer.setObservedLabels(targets);
      TensorBatchSource source(images, targets, batch, /*shuffle=*/false, 1);
      meter.reset();
      trainer.fit(source, nullptr);
    }
    out.push_back({batch, observer.peak(), observer.fastest()});
  }
  return out;
}

std::vector<int64_t> probeBatches(const ResourcePlanner& planner, const PlanSettings& s, double budget_gflop) {
  PlanSettings one = s;
  one.batch = 1;
  one.grad_accum = 1;
  const auto& c = planner.cost(one);
  const double per_image_gflop = (c.forward_flop_per_image + c.backward_flop_per_image) * 1e-9;
  // Activations outweigh the optimizer's temporaries from this batch on.
  const double per_image = std::max<double>(1.0, static_cast<double>(planFromCost(c, one).per_image_bytes));
  int64_t b = static_cast<int64_t>(std::ceil(static_cast<double>(c.trainable_bytes) / per_image));
  // Three timed runs of steps at b and 2b (9 steps of 3b images in all) within the compute budget.
  const int64_t affordable = static_cast<int64_t>(budget_gflop / std::max(1e-9, per_image_gflop * 9.0));
  b = std::clamp<int64_t>(b, 1, std::max<int64_t>(1, affordable));
  b = std::min<int64_t>(b, std::max<int64_t>(1, s.batch / 2));
  return {b, 2 * b};
}

Calibration calibrationFrom(const ResourcePlanner& planner, const PlanSettings& s,
                            const std::vector<ProbeMeasurement>& measured, const std::string& device_name) {
  Calibration cal;
  if (measured.size() < 2) return cal;
  const auto& a = measured.front();
  const auto& b = measured.back();
  if (b.batch <= a.batch) return cal;
  auto predicted = [&](int64_t batch, const Calibration* with) {
    PlanSettings p = s;
    p.batch = batch;
    p.grad_accum = 1;
    p.loader_prefetch = 0;  // the probe's batches come from memory, not the image loader
    return planFromCost(planner.cost(p), p, with);
  };
  const auto pa = predicted(a.batch, nullptr), pb = predicted(b.batch, nullptr);
  const double db = static_cast<double>(b.batch - a.batch);
  const double slope_measured = static_cast<double>(b.peak_bytes - a.peak_bytes) / db;
  const double slope_predicted = static_cast<double>(pb.peak_bytes - pa.peak_bytes) / db;
  cal.valid = true;
  cal.device = device_name;
  cal.activation_scale = (slope_measured > 0 && slope_predicted > 0) ? std::clamp(slope_measured / slope_predicted, 0.25, 4.0) : 1.0;
  Calibration scaled = cal;
  scaled.fixed_offset = 0;
  scaled.gflops_per_second = 0;
  cal.fixed_offset = b.peak_bytes - predicted(b.batch, &scaled).peak_bytes;

  const auto& cost = planner.cost(s);
  const double flop_per_image = (cost.forward_flop_per_image + cost.backward_flop_per_image) * 1e-9;
  const double seconds_per_image = (b.step_seconds - a.step_seconds) / db;
  if (seconds_per_image > 0) {
    cal.gflops_per_second = flop_per_image / seconds_per_image;
    cal.fixed_seconds = std::max(0.0, a.step_seconds - static_cast<double>(a.batch) * seconds_per_image);
  } else {  // timing noise on a tiny step: all of it per image
    cal.gflops_per_second = flop_per_image * static_cast<double>(b.batch) / std::max(1e-9, b.step_seconds);
    cal.fixed_seconds = 0;
  }
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(2);
  o << "probe on " << device_name << " at batch " << a.batch << " and " << b.batch << ": peak " << formatBytes(a.peak_bytes)
    << " / " << formatBytes(b.peak_bytes) << " (memory per image x" << cal.activation_scale << " of the rules), "
    << std::setprecision(1) << cal.gflops_per_second << " GFLOP/s + " << std::setprecision(3) << cal.fixed_seconds
    << " s per step";
  cal.summary = o.str();
  return cal;
}

}  // namespace mls
