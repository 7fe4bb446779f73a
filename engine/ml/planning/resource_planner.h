// The resource planner: peak memory (itemised) and step / epoch time of a training configuration before it
// runs, and the configurations that fit a memory budget. Memory = weights + gradients + Adam's two moments
// + the EMA copy + ROLE's estimator + activations kept for backward (model_cost.h) + the largest transient
// (backward buffers, a recomputed checkpoint segment, optimizer temporaries, cuDNN workspace) + the loader's
// prefetched batches. Time = FLOPs per layer / throughput + element-wise traffic / bandwidth + per-kernel
// overhead, with the throughput measured by a probe (step_probe.h) or a stated default for the device.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "ml/planning/model_cost.h"
#include "ml/planning/plan_types.h"

namespace mls {

class MultiLabelModel;

// The arithmetic alone: a plan from the model's per-image costs (what the tests check directly).
ResourcePlan planFromCost(const ModelCost& cost, const PlanSettings& settings, const Calibration* calibration = nullptr);

// The query model_cost needs for these settings.
CostQuery costQueryFor(const PlanSettings& settings);

// The train flags that select the memory/speed options of `s` ("--batch 16 --grad-accum 4 --amp-dtype bf16
// --checkpoint-backbone --channels-last").
std::string trainFlagsFor(const PlanSettings& s);

// Default throughput when no probe has run: float32 GFLOP/s of the CPU's threads, or of a CUDA card
// (half precision x3 on tensor cores). Stated in the plan's notes.
double defaultGflops(const PlanSettings& s);

class ResourcePlanner {
 public:
  // model: built as the run would build it (weights need not be loaded; only shapes and which parameters
  // train matter).
  explicit ResourcePlanner(std::shared_ptr<MultiLabelModel> model);
  ~ResourcePlanner();

  ResourcePlan plan(const PlanSettings& settings, const Calibration* calibration = nullptr) const;
  // Configurations reaching target_batch (batch x grad_accum) within budget_bytes: mixed precision (CUDA:
  // off / bf16 / fp16), backbone checkpointing, channels-last, and the largest batch dividing the target
  // that fits with each; cheapest time first. Also the largest batch that fits with the option set that
  // needs the least memory per image.
  FitResult fit(const PlanSettings& base, int64_t budget_bytes, int64_t target_batch,
                const Calibration* calibration = nullptr) const;
  const ModelCost& cost(const PlanSettings& settings) const;
  MultiLabelModel& model() { return *model_; }

 private:
  std::shared_ptr<MultiLabelModel> model_;
  mutable std::mutex mutex_;
  mutable std::map<std::tuple<int64_t, bool, bool, bool, bool>, ModelCost> costs_;
};

}  // namespace mls
