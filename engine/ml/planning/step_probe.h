// The planner's probe: a few real training steps (the Trainer's own, on random images) at two small batches
// on the chosen device, measuring the peak tensor memory of a steady-state step (the counting allocator on
// the CPU, the caching allocator's peak statistics on CUDA) and its time. Two batches separate what grows
// with the batch from what does not; the ratios to the prediction calibrate the plan for this machine.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ml/planning/plan_types.h"
#include "ml/training/training_types.h"

namespace mls {

class MultiLabelModel;
class ResourcePlanner;

struct ProbeMeasurement {
  int64_t batch = 0;
  int64_t peak_bytes = 0;     // the steady-state step's peak (weights, optimizer state, EMA included)
  double step_seconds = 0;    // the fastest timed step
};

struct ProbeRequest {
  TrainerOptions trainer;     // device, optimizer, EMA, AMP, checkpointing, channels-last, loss
  int64_t image_size = 64;
  int64_t num_classes = 80;
  std::vector<int64_t> batches;  // usually two, e.g. {2, 4}
  int steps = 3;              // per batch: the first allocates the optimizer state and is not timed
};

// make_model builds a fresh model (no weights needed) on the CPU; on the CPU it is built under the counting
// allocator so its weights are measured too. Throws TrainingError (e.g. out of memory) or
// std::invalid_argument (CUDA probe in a build without CUDA statistics).
std::vector<ProbeMeasurement> probeSteps(const std::function<std::shared_ptr<MultiLabelModel>()>& make_model,
                                         const ProbeRequest& request);

// The two probe batches for `s`: large enough that activations dominate the step's peak (else the slope says
// nothing), small enough that the probe costs at most ~budget_gflop of compute on this device.
std::vector<int64_t> probeBatches(const ResourcePlanner& planner, const PlanSettings& s, double budget_gflop);

// Calibration from the measurements: the per-image memory scale (slope measured / slope predicted), the
// fixed offset, the effective throughput and the per-step fixed time.
Calibration calibrationFrom(const ResourcePlanner& planner, const PlanSettings& s,
                            const std::vector<ProbeMeasurement>& measured, const std::string& device_name);

}  // namespace mls
