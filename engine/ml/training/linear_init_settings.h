// The linear phase of MLSPL "LinearInit" (Cole et al., CVPR 2021) as the authors' code runs it
// (elijahcole/single-positive-multi-label, train.py): a linear classifier on frozen, pre-extracted
// features with fixed hyperparameters per loss (`lookup['linear_init_params']`, "the best learning rate and
// batch size for linear_fixed_features phase of linear_init"; only the fine-tuning phase is searched),
// Adam, ROLE's estimator at lr_mult 10, and the best validation epoch's classifier and estimator handed to
// fine-tuning ("Reverting model to best weights", then `estimated_labels=estimated_labels_init`).
#pragma once
#include "ml/losses.h"

namespace mls {

struct LinearInitSettings {
  double lr = 1e-4;
  int batch = 8;
};

// COCO's entries of that table: ROLE lr 1e-3, batch 16; AN-LS lr 1e-4, batch 8 (VOC and NUS-WIDE use the same
// learning rates; CUB's ROLE batch is 8, NUS-WIDE's AN-LS batch 16). The table lists only AN-LS and ROLE, the
// losses the paper reports LinearInit for; the other losses get AN-LS's setting (our choice: the authors
// give none).
LinearInitSettings linearInitSettings(LossKind loss);

}  // namespace mls
