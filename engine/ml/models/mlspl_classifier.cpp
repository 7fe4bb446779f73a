#include "ml/models/mlspl_classifier.h"

#include <torch/torch.h>

#include <stdexcept>

#include "ml/models/backbone.h"

namespace mls {

MlsplClassifier::MlsplClassifier(std::shared_ptr<Backbone> backbone, int64_t num_classes)
    : num_classes_(num_classes) {
  if (!backbone) throw std::invalid_argument("MlsplClassifier needs a backbone");
  if (num_classes <= 0) throw std::invalid_argument("MlsplClassifier needs at least one class");
  backbone_ = register_module("backbone", std::move(backbone));
  // torch's default Linear init, as the official code gets from replacing torchvision's fc.
  fc_ = register_module("fc", torch::nn::Linear(backbone_->outChannels(), num_classes));
}

ModelOutput MlsplClassifier::forward(const torch::Tensor& images, bool /*want_attention*/) {
  return {headFromPooled(pooledFeatures(images)), torch::Tensor()};
}

torch::Tensor MlsplClassifier::pooledFeatures(const torch::Tensor& images) {
  return backbone_->forward(images).mean({2, 3});
}

torch::Tensor MlsplClassifier::headFromPooled(const torch::Tensor& pooled) { return fc_->forward(pooled); }

}  // namespace mls
