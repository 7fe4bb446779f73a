#include "ml/models/backbone.h"

#include <torch/torch.h>

#include <stdexcept>

#include "ml/models/resnet.h"
#include "ml/models/tiny_cnn.h"
#include "ml/models/torchscript_backbone.h"

namespace mls {

std::vector<torch::Tensor> Backbone::trainableParameters() const {
  std::vector<torch::Tensor> out;
  for (const auto& p : parameters(/*recurse=*/true))
    if (p.requires_grad()) out.push_back(p);
  return out;
}

bool Backbone::setActivationCheckpointing(bool on) {
  checkpointing_ = false;
  return !on;
}

std::shared_ptr<Backbone> makeBackbone(const BackboneOptions& options) {
  const std::string& name = options.name;
  if (name == "tiny") return std::make_shared<TinyCnn>();
  const std::string ts_prefix = "torchscript:";
  if (name.rfind(ts_prefix, 0) == 0) {
    const auto path = name.substr(ts_prefix.size());
    if (path.empty()) throw std::invalid_argument("backbone 'torchscript:' needs a file path after the colon");
    return std::make_shared<TorchScriptBackbone>(path, options.dry_run_size);
  }
  ResNetOptions ro;
  ro.depth = resnetDepthFromName(name);  // throws std::invalid_argument for anything else
  ro.frozen_bn = options.frozen_bn;
  ro.freeze_stem = options.freeze_stem;
  return std::make_shared<ResNet>(ro);
}

}  // namespace mls
