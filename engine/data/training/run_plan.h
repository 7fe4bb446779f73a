// A TrainRequest as the resource planner sees it: the model the run would build (without loading weights),
// the plan's settings, the trainer options the probe runs with, and back: a planned configuration applied
// to a request (`plan --fit`, the Train form's "Fit to this device", resuming after out-of-memory).
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "data/training/train_request.h"
#include "ml/planning/plan_types.h"
#include "ml/training/training_types.h"

namespace mls {

class MultiLabelModel;
class ResourcePlanner;

// What planning needs from the project: classes and how many images one epoch trains on.
struct PlanDataset {
  int num_classes = 80;        // COCO when there is no project to read
  int64_t train_images = 0;    // 0 = unknown (no epoch time)
  bool from_project = false;
};

// Reads the project read-only when request.project names one (throws what ProjectStore throws); otherwise
// the given defaults.
PlanDataset planDatasetFor(const TrainRequest& request, const PlanDataset& defaults = {});

// request must have its defaults resolved (TrainRequest::resolveDefaults).
PlanSettings planSettingsFor(const TrainRequest& request, const PlanDataset& dataset);
// The trainer options of the run's recipe (training_recipe.h), for the probe.
TrainerOptions probeTrainerOptions(const TrainRequest& request, int num_classes);
// The run's model with the run's frozen/trainable layout but untrained weights (the weights file is not read:
// a plan made on a laptop need not have it).
std::shared_ptr<MultiLabelModel> planningModel(const TrainRequest& request, int num_classes);

// Batch, accumulation, mixed precision, checkpointing and channels-last of `s` into the request.
void applyPlanSettings(TrainRequest& request, const PlanSettings& s);

// A run that ran out of memory, resumed with the planner's fastest configuration at the same effective batch
// that fits `budget_bytes` (request.resume set to run_id). Throws std::invalid_argument when nothing fits.
TrainRequest fittedResume(const TrainRequest& stored, int64_t run_id, const PlanDataset& dataset, int64_t budget_bytes);

// The budget when none is given: a CUDA device's memory, or the machine's physical memory for the CPU.
// 0 when unknown (CUDA planned on a machine without that device).
int64_t deviceMemoryBytes(const std::string& device);

}  // namespace mls
