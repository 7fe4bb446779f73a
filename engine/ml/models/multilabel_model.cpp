#include "ml/models/multilabel_model.h"

#include <torch/torch.h>

#include <set>
#include <stdexcept>

#include "ml/models/backbone.h"
#include "ml/models/mlspl_classifier.h"
#include "ml/models/query2label.h"
#include "ml/models/state_dict_io.h"

namespace mls {

std::vector<torch::Tensor> MultiLabelModel::backboneParameters() { return backbone_->trainableParameters(); }

std::vector<torch::Tensor> MultiLabelModel::headParameters() {
  std::set<const void*> in_backbone;
  for (const auto& p : backbone_->parameters()) in_backbone.insert(p.unsafeGetTensorImpl());
  std::vector<torch::Tensor> out;
  for (const auto& p : parameters())
    if (p.requires_grad() && !in_backbone.count(p.unsafeGetTensorImpl())) out.push_back(p);
  return out;
}

int64_t MultiLabelModel::pooledDim() const { return backbone_->outChannels(); }

namespace {

void loadSpecWeights(MultiLabelModel& model, const std::string& path) {
  std::string format;
  const auto tensors = readStateDictFile(path, &format);
  bool whole_model = false;
  for (const auto& kv : tensors) whole_model = whole_model || kv.first.rfind("backbone.", 0) == 0;
  auto report = loadStateDict(model, tensors, whole_model ? "" : "backbone");
  report.format = format;
  if (report.loaded.empty())
    throw std::runtime_error("no tensor in weights file '" + path + "' matches the model's names (" +
                             report.summary() + ")");
  model.setWeightsSummary(std::string(whole_model ? "model" : "backbone") + " weights from '" + path +
                          "': " + report.summary());
}

}  // namespace

std::shared_ptr<MultiLabelModel> buildModel(const ModelSpec& spec) {
  if (spec.num_classes <= 0) throw std::invalid_argument("model needs at least one class");
  if (spec.image_size <= 0) throw std::invalid_argument("model needs a positive image size");
  BackboneOptions bo;
  bo.name = spec.backbone;
  bo.frozen_bn = spec.frozen_bn;
  bo.freeze_stem = spec.freeze_stem;
  bo.dry_run_size = spec.image_size;

  std::shared_ptr<MultiLabelModel> model;
  if (spec.method == Method::MLSPL) {
    model = std::make_shared<MlsplClassifier>(makeBackbone(bo), spec.num_classes);
  } else {
    const auto config =
        spec.small_q2l ? Q2LConfig::smallCpu(spec.num_classes) : Q2LConfig::paperR101_448(spec.num_classes);
    model = std::make_shared<Query2Label>(makeBackbone(bo), config);
  }
  if (!spec.weights.empty()) loadSpecWeights(*model, spec.weights);
  return model;
}

}  // namespace mls
