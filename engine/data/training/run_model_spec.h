// The model a TrainRequest trains, for the training session and for everything that later rebuilds the
// run's model from its stored config (eval, predict, Inspect): one rule, so the checkpoint always fits.
#pragma once
#include "data/training/train_request.h"
#include "ml/models/multilabel_model.h"

namespace mls {

ModelSpec modelSpecFor(const TrainRequest& request, int num_classes);

}  // namespace mls
