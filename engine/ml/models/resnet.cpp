#include "ml/models/resnet.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "ml/autocast_guard.h"
#include "ml/models/activation_checkpoint.h"
#include "ml/models/frozen_batch_norm.h"

namespace mls {
namespace {

torch::nn::AnyModule makeNorm(int64_t channels, bool frozen) {
  if (frozen) return torch::nn::AnyModule(FrozenBatchNorm2d(channels));
  return torch::nn::AnyModule(torch::nn::BatchNorm2d(channels));
}

// Every ResNet convolution pads by kernel / 2 (convNorm relies on it).
torch::nn::Conv2d convNoBias(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false));
}

// conv followed by its norm. A frozen norm is a fixed per-channel affine map y = s*x + b, so the pair is
// one convolution with weights W*s and bias b: the norm then costs no pass over the activations in
// forward or backward (the official code spends two elementwise kernels on it, plus one in backward).
// Gradients reach W through the (tiny) product W*s. Not folded when training trainable weights in
// float32: backward would keep a float32 copy W*s of every such weight (+160 MiB for ResNet-101); under
// autocast it keeps the half-precision cast of W*s instead of that of W, the same size.
torch::Tensor convNorm(torch::nn::Conv2dImpl& conv, torch::nn::AnyModule& norm, const torch::Tensor& x, bool fold) {
  auto* frozen = fold ? norm.ptr()->as<FrozenBatchNorm2dImpl>() : nullptr;
  const auto& w = conv.weight;
  // Not GradMode: a checkpointed segment runs forward without grad and recomputes with it, and both
  // passes must compute the same function.
  const bool keeps_copy = w.requires_grad() && !currentCudaAutocast().enabled;
  if (!frozen || keeps_copy) return norm.forward(conv.forward(x));
  const auto [scale, shift] = frozen->scaleAndShift();
  const int64_t pad = w.size(-1) / 2;
  return at::conv2d(x, w * scale.view({-1, 1, 1, 1}), shift, conv.options.stride(), {pad, pad}, {1, 1}, 1);
}

}  // namespace

int resnetDepthFromName(const std::string& name) {
  if (name == "resnet18") return 18;
  if (name == "resnet34") return 34;
  if (name == "resnet50") return 50;
  if (name == "resnet101") return 101;
  throw std::invalid_argument("unknown backbone '" + name +
                              "' (expected tiny, resnet18, resnet34, resnet50, resnet101 or torchscript:PATH)");
}

ResNetBlock::ResNetBlock(bool bottleneck, int64_t in_channels, int64_t planes, int64_t stride, bool frozen_bn,
                         bool fold_frozen_bn)
    : bottleneck_(bottleneck), fold_(fold_frozen_bn) {
  const int64_t out_channels = planes * expansion(bottleneck);
  if (bottleneck) {
    conv1_ = register_module("conv1", convNoBias(in_channels, planes, 1, 1));
    bn1_ = makeNorm(planes, frozen_bn);
    register_module("bn1", bn1_.ptr());
    conv2_ = register_module("conv2", convNoBias(planes, planes, 3, stride));
    bn2_ = makeNorm(planes, frozen_bn);
    register_module("bn2", bn2_.ptr());
    conv3_ = register_module("conv3", convNoBias(planes, out_channels, 1, 1));
    bn3_ = makeNorm(out_channels, frozen_bn);
    register_module("bn3", bn3_.ptr());
  } else {
    conv1_ = register_module("conv1", convNoBias(in_channels, planes, 3, stride));
    bn1_ = makeNorm(planes, frozen_bn);
    register_module("bn1", bn1_.ptr());
    conv2_ = register_module("conv2", convNoBias(planes, planes, 3, 1));
    bn2_ = makeNorm(planes, frozen_bn);
    register_module("bn2", bn2_.ptr());
  }
  if (stride != 1 || in_channels != out_channels) {
    downsample_ = torch::nn::Sequential();
    downsample_->push_back(convNoBias(in_channels, out_channels, 1, stride));
    downsample_->push_back(makeNorm(out_channels, frozen_bn));
    register_module("downsample", downsample_);
  }
}

// In-place ReLU and residual add where torchvision has them: the norm's backward never needs its own
// output, so overwriting it saves an allocation (and, on the CPU, fresh pages) per activation.
torch::Tensor ResNetBlock::forward(const torch::Tensor& x) {
  auto out = convNorm(*conv1_, bn1_, x, fold_).relu_();
  if (bottleneck_) {
    out = convNorm(*conv2_, bn2_, out, fold_).relu_();
    out = convNorm(*conv3_, bn3_, out, fold_);
  } else {
    out = convNorm(*conv2_, bn2_, out, fold_);
  }
  if (downsample_) {
    auto& norm = *(downsample_->begin() + 1);
    out += convNorm(*downsample_->ptr<torch::nn::Conv2dImpl>(0), norm, x, fold_);
  } else {
    out += x;
  }
  return out.relu_();
}

ResNet::ResNet(const ResNetOptions& options) : options_(options) {
  int blocks[4];
  switch (options.depth) {
    case 18: blocks[0] = 2, blocks[1] = 2, blocks[2] = 2, blocks[3] = 2; break;
    case 34: blocks[0] = 3, blocks[1] = 4, blocks[2] = 6, blocks[3] = 3; break;
    case 50: blocks[0] = 3, blocks[1] = 4, blocks[2] = 6, blocks[3] = 3; break;
    case 101: blocks[0] = 3, blocks[1] = 4, blocks[2] = 23, blocks[3] = 3; break;
    default: throw std::invalid_argument("unsupported ResNet depth " + std::to_string(options.depth));
  }
  bottleneck_ = options.depth >= 50;

  conv1_ = register_module("conv1", convNoBias(3, 64, 7, 2));
  bn1_ = makeNorm(64, options.frozen_bn);
  register_module("bn1", bn1_.ptr());
  layer1_ = register_module("layer1", makeLayer(64, blocks[0], 1));
  layer2_ = register_module("layer2", makeLayer(128, blocks[1], 2));
  layer3_ = register_module("layer3", makeLayer(256, blocks[2], 2));
  layer4_ = register_module("layer4", makeLayer(512, blocks[3], 2));
  out_channels_ = in_channels_;
  if (options.with_fc) fc_ = register_module("fc", torch::nn::Linear(out_channels_, options.fc_classes));

  // torchvision's initialisation: He-normal (fan_out) convolutions; norms start at identity.
  for (auto& item : named_parameters(/*recurse=*/true)) {
    if (item.value().dim() == 4) torch::nn::init::kaiming_normal_(item.value(), 0.0, torch::kFanOut, torch::kReLU);
  }

  if (options.freeze_stem) {
    // Q2L's BackboneBase trains only parameters whose names contain layer2/3/4.
    for (auto* module : {static_cast<torch::nn::Module*>(conv1_.get()), bn1_.ptr().get(),
                         static_cast<torch::nn::Module*>(layer1_.get())})
      for (auto& p : module->parameters(/*recurse=*/true)) p.set_requires_grad(false);
  }
}

torch::nn::Sequential ResNet::makeLayer(int64_t planes, int blocks, int64_t stride) {
  torch::nn::Sequential layer;
  for (int i = 0; i < blocks; ++i) {
    layer->push_back(std::make_shared<ResNetBlock>(bottleneck_, in_channels_, planes, i == 0 ? stride : 1,
                                                   options_.frozen_bn, options_.fold_frozen_bn));
    in_channels_ = planes * ResNetBlock::expansion(bottleneck_);
  }
  return layer;
}

torch::Tensor ResNet::forward(const torch::Tensor& images) {
  auto x = convNorm(*conv1_, bn1_, images, options_.fold_frozen_bn).relu_();
  x = torch::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  x = runLayer(layer1_, x);
  x = runLayer(layer2_, x);
  x = runLayer(layer3_, x);
  return runLayer(layer4_, x);
}

torch::Tensor ResNet::classify(const torch::Tensor& images) {
  if (!fc_) throw std::logic_error("ResNet::classify needs ResNetOptions::with_fc");
  return fc_->forward(forward(images).mean({2, 3}));
}

bool ResNet::setActivationCheckpointing(bool on) {
  checkpointing_ = on;
  return true;
}

// With checkpointing, a stage of n residual blocks runs as segments of ceil(sqrt(n)) blocks (Chen et al.,
// "Training deep nets with sublinear memory cost"): only segment inputs stay in memory, and backward
// recomputes one segment at a time. Per-block segments would keep every block input, which for
// bottleneck blocks with frozen BN is already two thirds of the activations.
torch::Tensor ResNet::runLayer(torch::nn::Sequential& layer, torch::Tensor x) {
  if (!checkpointing_ || !is_training()) return layer->forward(x);
  std::vector<std::shared_ptr<ResNetBlock>> blocks;
  for (const auto& child : layer->children()) blocks.push_back(std::dynamic_pointer_cast<ResNetBlock>(child));
  const auto per_segment = static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(blocks.size()))));
  for (size_t first = 0; first < blocks.size(); first += per_segment) {
    const std::vector<std::shared_ptr<ResNetBlock>> segment(blocks.begin() + first,
                                                            blocks.begin() + std::min(blocks.size(), first + per_segment));
    std::vector<torch::nn::Module*> modules;
    for (const auto& b : segment) modules.push_back(b.get());
    x = checkpointSegment(modules,
                          [segment](const torch::Tensor& t) {
                            auto y = t;
                            for (const auto& b : segment) y = b->forward(y);
                            return y;
                          },
                          x);
  }
  return x;
}

}  // namespace mls
