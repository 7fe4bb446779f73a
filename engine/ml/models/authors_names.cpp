#include "ml/models/authors_names.h"

#include <torch/torch.h>

#include <set>
#include <stdexcept>

#include "ml/models/backbone.h"
#include "ml/models/mlspl_classifier.h"
#include "ml/models/positional_encoding.h"
#include "ml/models/query2label.h"

namespace mls {
namespace {

bool startsWith(const std::string& s, const std::string& head) { return s.rfind(head, 0) == 0; }
bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool isTorchvisionResNet(const std::string& backbone) {
  return backbone == "resnet18" || backbone == "resnet34" || backbone == "resnet50" || backbone == "resnet101";
}

// torchvision's ResNet children are conv1, bn1, relu, maxpool, layer1..4, avgpool, fc; the MLSPL code keeps
// all but fc in a Sequential (models.py: Sequential(*list(resnet50().children())[:-1])), so the index is
// the position in that list.
std::string mlsplBackboneName(const std::string& native) {
  static const std::pair<const char*, const char*> kChildren[] = {
      {"conv1.", "0."}, {"bn1.", "1."}, {"layer1.", "4."}, {"layer2.", "5."}, {"layer3.", "6."}, {"layer4.", "7."}};
  for (const auto& child : kChildren)
    if (startsWith(native, child.first)) return child.second + native.substr(std::char_traits<char>::length(child.first));
  return native;
}

// The feature-map size Q2L's positional-encoding buffer was made for: the authors build it once for
// img_size / 32 (position_encoding.py build_position_encoding), here it is the backbone's actual output size.
std::pair<int64_t, int64_t> featureSize(Backbone& backbone, int image_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = backbone.is_training();
  backbone.eval();
  const auto device = backbone.parameters().empty() ? torch::Device(torch::kCPU) : backbone.parameters()[0].device();
  const auto map = backbone.forward(torch::zeros({1, 3, image_size, image_size}, torch::TensorOptions(device)));
  backbone.train(was_training);
  return {map.size(2), map.size(3)};
}

AuthorsStateDict query2LabelNames(Query2Label& model, const NamedTensors& native, const std::string& backbone_name,
                                  int image_size) {
  AuthorsStateDict out;
  out.module = "Qeruy2Label";
  const bool resnet = isTorchvisionResNet(backbone_name);
  bool has_input_proj = false;
  for (const auto& kv : native) {
    if (startsWith(kv.first, "backbone.")) {
      // The authors' backbone is always FrozenBatchNorm2d (backbone.py), which has no batch counter.
      if (endsWith(kv.first, ".num_batches_tracked")) continue;
      // Joiner(Backbone, PositionEmbeddingSine): [0] holds the ResNet inside an IntermediateLayerGetter "body".
      out.tensors.emplace_back("backbone.0.body." + kv.first.substr(9), kv.second);
    } else {
      has_input_proj = has_input_proj || startsWith(kv.first, "input_proj.");
      out.tensors.emplace_back(kv.first, kv.second);  // transformer, query_embed, fc: already the authors' names
    }
  }
  // PositionEmbeddingSine keeps its encoding as a persistent buffer `pe` (1, d, H, W), so strict loading needs it.
  const int64_t d = model.queryEmbed()->weight.size(1);
  const auto hw = featureSize(model.backbone(), image_size);
  out.tensors.emplace_back("backbone.1.pe", sinePositionEncoding2d(hw.first, hw.second, d).contiguous());

  // main_mlc.py's options; keep_input_proj because build_q2l replaces input_proj by nn.Identity without it.
  const auto& c = model.config();
  out.arguments = {{"backbone", backbone_name},
                   {"num_class", std::to_string(c.num_classes)},
                   {"img_size", std::to_string(image_size)},
                   {"hidden_dim", std::to_string(c.transformer.d_model)},
                   {"nheads", std::to_string(c.transformer.num_heads)},
                   {"enc_layers", std::to_string(c.transformer.num_encoder_layers)},
                   {"dec_layers", std::to_string(c.transformer.num_decoder_layers)},
                   {"dim_feedforward", std::to_string(c.transformer.dim_feedforward)},
                   {"dropout", c10::str(c.transformer.dropout)},
                   {"position_embedding", "sine"},
                   {"pre_norm", "false"},
                   {"keep_input_proj", has_input_proj ? "true" : "false"},
                   {"keep_first_self_attn_dec", c.transformer.query_self_attention ? "true" : "false"},
                   {"keep_other_self_attn_dec", c.transformer.query_self_attention ? "true" : "false"}};
  if (!resnet) {
    out.exact = false;
    out.notes.push_back("the '" + backbone_name + "' backbone has no counterpart in the authors' code: its tensors "
                        "keep this project's names under backbone.0.body.; the transformer, query_embed and fc map exactly");
  }
  if (resnet && (hw.first * 32 != image_size || hw.second * 32 != image_size))
    out.notes.push_back("backbone.1.pe is sized for the " + std::to_string(hw.first) + "x" + std::to_string(hw.second) +
                        " feature map at " + std::to_string(image_size) +
                        " px; the authors' code expects an image size that is a multiple of 32");
  return out;
}

AuthorsStateDict mlsplNames(const MlsplClassifier& model, const NamedTensors& native, const std::string& backbone_name) {
  AuthorsStateDict out;
  out.module = "ImageClassifier";
  const bool resnet = isTorchvisionResNet(backbone_name);
  std::set<std::string> keys;
  for (const auto& kv : native) keys.insert(kv.first);
  bool frozen_norm = false;
  for (const auto& kv : native) {
    if (startsWith(kv.first, "backbone.")) {
      const auto rest = kv.first.substr(9);
      const auto name = "feature_extractor." + (resnet ? mlsplBackboneName(rest) : rest);
      out.tensors.emplace_back(name, kv.second);
      // The authors train torchvision's BatchNorm2d, whose state has a batch counter; a FrozenBatchNorm2d
      // here (pretrained ResNet-50/101) has none, so add it for strict loading.
      const std::string var = ".running_var";
      if (endsWith(kv.first, var)) {
        const auto counter = kv.first.substr(0, kv.first.size() - var.size()) + ".num_batches_tracked";
        if (!keys.count(counter)) {
          frozen_norm = true;
          out.tensors.emplace_back(name.substr(0, name.size() - var.size()) + ".num_batches_tracked",
                                   torch::zeros({}, torch::kLong));
        }
      }
    } else if (startsWith(kv.first, "fc.")) {
      out.tensors.emplace_back("linear_classifier." + kv.first.substr(3), kv.second);
    } else {
      out.tensors.emplace_back(kv.first, kv.second);
    }
  }
  // train.py's P entries; models.py builds only resnet50, the same Sequential works for every torchvision ResNet.
  out.arguments = {{"arch", "resnet50"},
                   {"feature_extractor_arch", backbone_name},
                   {"num_classes", std::to_string(model.numClasses())},
                   {"feat_dim", std::to_string(model.pooledDim())}};
  if (backbone_name != "resnet50" && resnet)
    out.notes.push_back("models.py hard-codes torchvision's resnet50: build the feature extractor from " + backbone_name +
                        " the same way (Sequential of its children without fc) and set P['feat_dim'] = " +
                        std::to_string(model.pooledDim()));
  if (frozen_norm)
    out.notes.push_back("BatchNorm was frozen in this run (pretrained backbone); its num_batches_tracked are written as 0");
  if (!resnet) {
    out.exact = false;
    out.notes.push_back("the '" + backbone_name + "' backbone has no counterpart in the authors' code: its tensors "
                        "keep this project's names under feature_extractor.; linear_classifier maps exactly");
  }
  return out;
}

}  // namespace

NamedTensors moduleStateDict(const torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& p : module.named_parameters(/*recurse=*/true))
    out.emplace_back(p.key(), p.value().detach().cpu().contiguous());
  for (const auto& b : module.named_buffers(/*recurse=*/true))
    out.emplace_back(b.key(), b.value().detach().cpu().contiguous());
  return out;
}

AuthorsStateDict toAuthorsNames(MultiLabelModel& model, const std::string& backbone_name, int image_size) {
  const auto native = moduleStateDict(model);
  if (auto* q2l = dynamic_cast<Query2Label*>(&model)) return query2LabelNames(*q2l, native, backbone_name, image_size);
  if (auto* mlspl = dynamic_cast<MlsplClassifier*>(&model)) return mlsplNames(*mlspl, native, backbone_name);
  throw std::invalid_argument("no mapping to the authors' names for this model type");
}

}  // namespace mls
