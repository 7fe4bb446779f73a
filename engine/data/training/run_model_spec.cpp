#include "data/training/run_model_spec.h"

namespace mls {

ModelSpec modelSpecFor(const TrainRequest& r, int num_classes) {
  ModelSpec spec;
  spec.method = r.method;
  spec.backbone = r.backbone;
  spec.weights = r.weights;
  spec.num_classes = num_classes;
  spec.image_size = r.image_size;
  spec.small_q2l = r.backbone == "tiny" || r.backbone == "resnet18";
  // Official Q2L R101 setup with pretrained weights: frozen BatchNorm, conv1 + layer1 frozen. The BatchNorm
  // choice is the run's own (TrainRequest::frozen_bn), so stored runs rebuild the model they trained.
  const bool big = r.backbone == "resnet50" || r.backbone == "resnet101";
  spec.frozen_bn = r.frozen_bn.value_or(r.defaultFrozenBatchNorm());
  spec.freeze_stem = big && !r.weights.empty() && r.method != Method::MLSPL;
  return spec;
}

}  // namespace mls
