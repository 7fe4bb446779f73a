// The training recipe of a run in one place: what a (resolved) TrainRequest and a few facts about the project
// turn into — the model to build, the trainer's options (optimizer, schedule, loss, ...), the training
// augmentation and the MLSPL LinearInit phase. Each method follows its authors' code: Query2Label
// (SlongLiu/query2labels) or single positives (elijahcole/single-positive-multi-label).
#pragma once
#include <optional>

#include "data/pipeline/augmentation_options.h"
#include "data/training/run_model_spec.h"
#include "data/training/train_request.h"
#include "ml/training/training_types.h"

namespace mls {

class ProjectStore;

// What the recipe needs to know about the project beyond the request.
struct ProjectFacts {
  int num_classes = 0;
  // Mean positives per train image of the full labels; nullopt when the project has none (or they were not
  // read because the loss does not use them).
  std::optional<double> mean_train_positives;
};

// MLSPL "LinearInit": epochs of a linear head on cached frozen-backbone features before end-to-end training,
// at the learning rate and batch size the MLSPL code fixes per loss (ml/training/linear_init_settings.h).
struct LinearInitPhase {
  int epochs = 0;  // 0 = no linear phase
  double lr = 0;
  int batch = 0;
};

struct TrainingRecipe {
  ModelSpec model;
  TrainerOptions trainer;                // without checkpoint_dir, which belongs to the run record
  AugmentationOptions train_augmentation;
  LinearInitPhase linear_init;
};

// Reads the facts the request's recipe needs (the full labels only for a loss that uses k).
ProjectFacts readProjectFacts(ProjectStore& store, const TrainRequest& request, int num_classes);

// The recipe of a request after resolveDefaults(). Throws std::invalid_argument for a combination no method
// trains (--linear-init without --method mlspl).
TrainingRecipe trainingRecipe(const TrainRequest& request, const ProjectFacts& facts);

// k for EPR and ROLE: the request's value, else the project's mean positives per train image, else COCO's 2.9.
double expectedPositives(const TrainRequest& request, const ProjectFacts& facts);

}  // namespace mls
