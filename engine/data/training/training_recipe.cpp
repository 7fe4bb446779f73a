#include "data/training/training_recipe.h"

#include <stdexcept>

#include "data/store/project_store.h"
#include "ml/losses.h"
#include "ml/training/linear_init_settings.h"

namespace mls {

namespace {

constexpr double kCocoExpectedPositives = 2.9;  // COCO's value in the MLSPL paper

bool lossUsesExpectedPositives(LossKind kind) { return kind == LossKind::EPR || kind == LossKind::ROLE; }

LossConfig lossFor(const TrainRequest& r, const ProjectFacts& facts) {
  LossConfig cfg;
  const auto kind = parseLossKind(r.loss);
  // Q2L's COCO command: ASL with gamma- = 2, gamma+ = 0, clip 0, detached focusing weight.
  if (kind == LossKind::ASL && r.method != Method::MLSPL) cfg = LossConfig::q2lCoco();
  cfg.kind = kind;
  cfg.expected_positives = expectedPositives(r, facts);
  return cfg;
}

AugmentationOptions augmentationFor(const TrainRequest& r) {
  // The tiny CPU preset is for the synthetic demo, whose labels survive flips and quarter turns.
  if (r.backbone == "tiny") return AugmentationOptions::syntheticShapes();
  if (r.method == Method::MLSPL) return AugmentationOptions::singlePositive();
  // Real backbones get the Q2L policy (Cutout + RandAugment).
  return AugmentationOptions::query2label();
}

TrainerOptions trainerOptionsFor(const TrainRequest& r, const ProjectFacts& facts) {
  TrainerOptions opt;
  const bool mlspl = r.method == Method::MLSPL;
  opt.optimizer = mlspl ? "adam" : "adamw";       // MLSPL code: Adam; Q2L: AdamW (wd 1e-2)
  opt.weight_decay = mlspl ? 0.0 : 1e-2;
  opt.schedule = mlspl ? "constant" : "onecycle";  // MLSPL: constant lr; Q2L: OneCycle
  opt.lr = r.lr;
  opt.epochs = r.epochs;
  opt.grad_accum = r.grad_accum;
  opt.ema_decay = r.ema;
  opt.amp = r.amp;
  opt.amp_dtype = r.amp_dtype;
  opt.checkpoint_backbone = r.checkpoint_backbone;
  opt.channels_last = r.channels_last;
  opt.profile_steps = r.profile;
  opt.early_stop_patience = r.early_stop;
  opt.device = r.device;
  opt.seed = r.seed;
  opt.loss = lossFor(r, facts);
  return opt;
}

}  // namespace

double expectedPositives(const TrainRequest& r, const ProjectFacts& facts) {
  if (r.expected_positives > 0) return r.expected_positives;
  if (!lossUsesExpectedPositives(parseLossKind(r.loss))) return kCocoExpectedPositives;
  return facts.mean_train_positives.value_or(kCocoExpectedPositives);
}

ProjectFacts readProjectFacts(ProjectStore& store, const TrainRequest& r, int num_classes) {
  ProjectFacts facts;
  facts.num_classes = num_classes;
  // Only EPR and ROLE use the mean; reading every train label of a large project is not free.
  if (r.expected_positives > 0 || !lossUsesExpectedPositives(parseLossKind(r.loss))) return facts;
  const auto labels = store.labelsBySplit(Split::Train);
  if (labels.empty()) return facts;
  size_t total = 0;
  for (const auto& [id, cats] : labels) total += cats.size();
  facts.mean_train_positives = static_cast<double>(total) / static_cast<double>(labels.size());
  return facts;
}

TrainingRecipe trainingRecipe(const TrainRequest& r, const ProjectFacts& facts) {
  TrainingRecipe recipe;
  recipe.model = modelSpecFor(r, facts.num_classes);
  recipe.trainer = trainerOptionsFor(r, facts);
  recipe.train_augmentation = augmentationFor(r);
  if (r.linear_init > 0) {
    if (r.method != Method::MLSPL) throw std::invalid_argument("--linear-init applies to --method mlspl only");
    // Not derived from the fine-tuning lr (the former 100x matched ROLE's 1e-3 only for MLSPL's 1e-5): the
    // authors' code fixes the linear phase's lr and batch per loss and searches only the fine-tuning ones.
    const auto linear = linearInitSettings(recipe.trainer.loss.kind);
    recipe.linear_init = {r.linear_init, linear.lr, linear.batch};
  }
  return recipe;
}

}  // namespace mls
