// Per-class evaluation of a finished run: its stored scores (the best weights' predictions, written at the
// end of training) against a split's ground truth. AP is scikit-learn's average_precision_score
// (ml/metrics), the project's default mAP convention; curves follow precision_recall_curve.
#pragma once
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "data/eval/precision_recall.h"
#include "data/store/project_types.h"

namespace mls {

class ProjectStore;

struct ClassEvaluation {
  int64_t category_id = 0;
  std::string name;
  int idx = 0;
  int64_t positives = 0;   // evaluated images with this label in the ground truth
  int64_t predicted = 0;   // evaluated images scoring >= the threshold
  double ap = std::numeric_limits<double>::quiet_NaN();  // percent; NaN without positives (undefined)
  PrCurve curve;
};

struct RunEvaluation {
  int64_t run_id = 0;
  Split split = Split::Val;
  double threshold = 0.5;
  int64_t images = 0;                 // split images with stored scores: the evaluated set
  int64_t images_without_scores = 0;  // split images the run stored no scores for (left out)
  double map = std::numeric_limits<double>::quiet_NaN();  // percent, mean AP over classes with positives
  // The same scores in the MLSPL and Q2L papers' conventions (ml/metrics_conventions.h), percent.
  double map_mlspl = std::numeric_limits<double>::quiet_NaN();
  double map_q2l_voc = std::numeric_limits<double>::quiet_NaN();
  int classes_evaluated = 0, classes_skipped = 0;
  std::vector<ClassEvaluation> classes;  // by category idx
};

// Every image of the split counts, labelled or not (an image without labels is a negative for every class),
// as in training's validation. Throws UnknownIdError for an unknown run and std::runtime_error when the
// stored scores do not match the project's categories.
RunEvaluation evaluateRun(ProjectStore& store, int64_t run_id, Split split = Split::Val, double threshold = 0.5);

}  // namespace mls
