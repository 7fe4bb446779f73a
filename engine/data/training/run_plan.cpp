#include "data/training/run_plan.h"

#include <unistd.h>

#include <stdexcept>

#include "data/store/project_store.h"
#include "data/training/run_model_spec.h"
#include "data/training/training_recipe.h"
#include "ml/device.h"
#include "ml/losses.h"
#include "ml/models/multilabel_model.h"
#include "ml/planning/resource_planner.h"

namespace mls {

PlanDataset planDatasetFor(const TrainRequest& request, const PlanDataset& defaults) {
  PlanDataset d = defaults;
  if (request.project.empty()) return d;
  ProjectStore store(request.project, ProjectStore::Open::ReadOnly);
  const auto counts = store.counts();
  d.num_classes = static_cast<int>(counts.categories);
  d.train_images = request.labels == "single" ? counts.single_positives : counts.train;
  d.from_project = true;
  if (d.num_classes <= 0) throw std::invalid_argument("project '" + request.project + "' has no classes to plan for");
  return d;
}

PlanSettings planSettingsFor(const TrainRequest& r, const PlanDataset& dataset) {
  PlanSettings s;
  s.device = r.device == "auto" ? (cudaAvailable() ? "cuda" : "cpu") : r.device;
  s.batch = r.batch;
  s.grad_accum = r.grad_accum;
  s.image_size = r.image_size;
  s.amp = r.amp;
  s.amp_dtype = r.amp_dtype;
  s.checkpoint_backbone = r.checkpoint_backbone;
  s.channels_last = r.channels_last;
  const auto trainer = probeTrainerOptions(r, dataset.num_classes);  // the run's own recipe
  s.ema = trainer.ema_decay > 0;
  s.optimizer = trainer.optimizer;
  s.weight_decay = trainer.weight_decay;
  s.train_images = dataset.train_images;
  if (lossNeedsEstimator(parseLossKind(r.loss))) s.label_estimator_elements = dataset.train_images * dataset.num_classes;
  return s;
}

TrainerOptions probeTrainerOptions(const TrainRequest& r, int num_classes) {
  return trainingRecipe(r, ProjectFacts{num_classes, std::nullopt}).trainer;
}

std::shared_ptr<MultiLabelModel> planningModel(const TrainRequest& request, int num_classes) {
  auto spec = modelSpecFor(request, num_classes);
  spec.weights.clear();  // frozen_bn / freeze_stem stay as they would be with the weights
  return buildModel(spec);
}

void applyPlanSettings(TrainRequest& r, const PlanSettings& s) {
  r.batch = static_cast<int>(s.batch);
  r.grad_accum = static_cast<int>(s.grad_accum);
  r.amp = s.amp;
  if (s.amp) r.amp_dtype = s.amp_dtype;
  r.checkpoint_backbone = s.checkpoint_backbone;
  r.channels_last = s.channels_last;
}

TrainRequest fittedResume(const TrainRequest& stored, int64_t run_id, const PlanDataset& dataset, int64_t budget) {
  TrainRequest r = stored;
  r.resolveDefaults();
  const auto settings = planSettingsFor(r, dataset);
  ResourcePlanner planner(planningModel(r, dataset.num_classes));
  const auto fit = planner.fit(settings, budget, settings.batch * settings.grad_accum);
  if (fit.candidates.empty())
    throw std::invalid_argument("no configuration of this run reaches its effective batch of " +
                                std::to_string(settings.batch * settings.grad_accum) + " within " + formatBytes(budget));
  applyPlanSettings(r, fit.candidates.front().settings);
  r.resume = std::to_string(run_id);
  return r;
}

int64_t deviceMemoryBytes(const std::string& device) {
  if (device.rfind("cuda", 0) == 0) {
    const auto colon = device.find(':');
    const int index = colon == std::string::npos ? 0 : std::stoi(device.substr(colon + 1));
    for (const auto& d : cudaDevices())
      if (d.index == index) return static_cast<int64_t>(d.total_memory_gib * 1024.0 * 1024.0 * 1024.0);
    return 0;
  }
  return static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace mls
