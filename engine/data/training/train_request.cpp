#include "data/training/train_request.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "ml/device.h"
#include "ml/loss_kind.h"
#include "ml/name_table.h"

namespace mls {

namespace {

std::string shortNumber(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

}  // namespace

void checkTrainSetting(const std::string& flag, double v) {
  auto fail = [&](const std::string& rule) {
    throw std::invalid_argument(flag + " must be " + rule + " (got " + shortNumber(v) + ")");
  };
  // Written as !(ok) so NaN fails every rule.
  if (flag == "--lr" || flag == "--expected-positives") {
    if (!(v > 0 && std::isfinite(v))) fail("> 0");
  } else if (flag == "--image-size") {
    if (!(v >= 16 && v <= 2048)) fail("in [16, 2048]");
  } else if (flag == "--batch" || flag == "--epochs" || flag == "--grad-accum") {
    if (!(v >= 1)) fail(">= 1");
  } else if (flag == "--ema") {
    if (!(v >= 0 && v < 1)) fail("in [0, 1) (0 = off)");
  } else if (flag == "--linear-init" || flag == "--early-stop" || flag == "--workers") {
    if (!(v >= 0)) fail(">= 0");
  } else {
    throw std::logic_error("checkTrainSetting: unknown setting " + flag);
  }
}

void TrainRequest::validate() const {
  // 0 (or -1) means "the method's default"; anything else must be a valid value, never silently replaced.
  if (image_size != 0) checkTrainSetting("--image-size", image_size);
  if (batch != 0) checkTrainSetting("--batch", batch);
  if (epochs != 0) checkTrainSetting("--epochs", epochs);
  if (lr != 0) checkTrainSetting("--lr", lr);
  if (ema != -1) checkTrainSetting("--ema", ema);
  if (expected_positives != 0) checkTrainSetting("--expected-positives", expected_positives);
  if (early_stop != -1) checkTrainSetting("--early-stop", early_stop);
  if (workers != -1) checkTrainSetting("--workers", workers);
  checkTrainSetting("--grad-accum", grad_accum);
  checkTrainSetting("--linear-init", linear_init);
  if (amp_dtype != "fp16" && amp_dtype != "bf16") throw std::invalid_argument("--amp-dtype must be fp16 or bf16");
}

void TrainRequest::resolveDefaults() {
  validate();
  if (labels != "full" && labels != "single")
    throw std::invalid_argument("unknown label mode '" + labels + "' (expected full or single)");
  const bool tiny = backbone == "tiny";
  const bool q2l = method != Method::MLSPL;
  // Q2L paper recipe: 448², AdamW 1e-4, batch 64-128 (16 fits a 12 GB GPU with accumulation), 80 epochs.
  // MLSPL protocol: 448², Adam, lr from {1e-2..1e-5} and batch {8,16} chosen on val; 1e-5/8 is its best
  // end-to-end ResNet-50 setting. The tiny CPU backbone trains from scratch on the 128 px demo: higher lr.
  if (image_size <= 0) image_size = tiny ? 64 : 448;
  if (batch <= 0) batch = tiny ? 32 : (q2l ? 16 : 8);
  // Single positives need longer on the demo (README: ROLE 73.5 mAP at 25 epochs, 89.6 at 70).
  if (epochs <= 0) epochs = tiny ? (labels == "single" ? 70 : 40) : (q2l ? 80 : 10);
  if (lr <= 0) lr = tiny ? 1e-3 : (q2l ? 1e-4 : 1e-5);
  if (ema < 0) ema = q2l && !tiny ? 0.9997 : 0.0;
  if (early_stop < 0) early_stop = q2l && !tiny ? 8 : 0;
  if (!frozen_bn) frozen_bn = defaultFrozenBatchNorm();
  if (workers < 0) {
    // Loader threads: 2 keep up with CPU training. A GPU step of Q2L-R101-448 wants ~440 img/s and one
    // thread decodes and augments ~220 COCO-sized images/s (bench_loader), so with CUDA use more, leaving a
    // core for the training thread.
    const bool cuda = device.rfind("cuda", 0) == 0 || (device == "auto" && cudaAvailable());
    const int cores = static_cast<int>(std::thread::hardware_concurrency());
    workers = cuda ? std::clamp(cores - 1, 2, 8) : 2;
  }
}

namespace {

bool pretrainedLargeResNet(const TrainRequest& r) {
  return (r.backbone == "resnet50" || r.backbone == "resnet101") && !r.weights.empty();
}

}  // namespace

bool TrainRequest::defaultFrozenBatchNorm() const {
  // Q2L (and the hybrid, which trains the Q2L model with Q2L's recipe) keeps the official R101 backbone:
  // FrozenBatchNorm2d with the pretrained statistics, as DETR does for batches of a few images per GPU.
  // The MLSPL code fine-tunes a torchvision ResNet-50 in model.train() at batch 8: ordinary BatchNorm
  // whose running statistics follow the training data.
  return pretrainedLargeResNet(*this) && method != Method::MLSPL;
}

namespace {

std::string lossKey(const std::string& loss) {
  std::string key = loss;
  for (char& c : key) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return key;
}

}  // namespace

std::vector<std::string> lossesForMethod(Method method) {
  auto names = [](std::initializer_list<LossKind> kinds) {
    std::vector<std::string> out;
    for (const auto kind : kinds) out.push_back(lossName(kind));
    return out;
  };
  switch (method) {
    case Method::Q2L: return names({LossKind::ASL, LossKind::BCE, LossKind::Focal});
    case Method::MLSPL:
      return names({LossKind::BCE, LossKind::AN, LossKind::AN_LS, LossKind::WAN, LossKind::EPR, LossKind::ROLE});
    case Method::Hybrid: return names({LossKind::AN, LossKind::AN_LS, LossKind::WAN, LossKind::EPR, LossKind::ROLE});
  }
  return {};
}

bool isSinglePositiveLoss(const std::string& loss) {
  const std::string key = lossKey(loss);
  return key == "an" || key == "an-ls" || key == "wan" || key == "epr" || key == "role";
}

void TrainRequest::checkLossChoice() const {
  const auto losses = lossesForMethod(method);
  const std::string key = lossKey(loss);
  if (std::find(losses.begin(), losses.end(), key) == losses.end()) {
    std::string hint;
    if (method == Method::Q2L && isSinglePositiveLoss(key)) hint = "; --method hybrid trains the Q2L model with it";
    if (method == Method::Hybrid) hint = "; --method q2l trains with the full-label losses";
    throw std::invalid_argument("--method " + std::string(methodName(method)) + " does not train with --loss " + loss + " (it takes " +
                                choiceList(losses) + hint + ")");
  }
  if (isSinglePositiveLoss(key) && labels != "single")
    throw std::invalid_argument("--loss " + loss +
                                " is a single-positive loss: train it with --labels single (on full labels "
                                "use --loss bce or asl)");
}

std::string TrainRequest::toJson() const {
  nlohmann::json j = {{"method", methodName(method)},         {"loss", loss},         {"labels", labels},
                      {"backbone", backbone},     {"weights", weights},   {"image_size", image_size},
                      {"batch", batch},           {"epochs", epochs},     {"lr", lr},
                      {"device", device},         {"amp", amp},           {"ema", ema},
                      {"linear_init", linear_init}, {"expected_positives", expected_positives},
                      {"seed", seed},             {"grad_accum", grad_accum}, {"early_stop", early_stop},
                      {"workers", workers},       {"amp_dtype", amp_dtype}, {"checkpoint_backbone", checkpoint_backbone},
                      {"channels_last", channels_last}};
  if (frozen_bn) j["frozen_bn"] = *frozen_bn;
  if (world_size > 1) j["world_size"] = world_size;  // single-process configs stay as they were
  return j.dump();
}

TrainRequest TrainRequest::fromJson(const std::string& json) {
  const auto j = nlohmann::json::parse(json);
  TrainRequest r;
  r.method = parseMethod(j.value("method", std::string(methodName(r.method))));
  r.loss = j.value("loss", r.loss);
  r.labels = j.value("labels", r.labels);
  r.backbone = j.value("backbone", r.backbone);
  r.weights = j.value("weights", r.weights);
  r.image_size = j.value("image_size", r.image_size);
  r.batch = j.value("batch", r.batch);
  r.epochs = j.value("epochs", r.epochs);
  r.lr = j.value("lr", r.lr);
  r.device = j.value("device", r.device);
  r.amp = j.value("amp", r.amp);
  r.ema = j.value("ema", r.ema);
  r.linear_init = j.value("linear_init", r.linear_init);
  r.expected_positives = j.value("expected_positives", r.expected_positives);
  r.seed = j.value("seed", r.seed);
  r.grad_accum = j.value("grad_accum", r.grad_accum);
  r.early_stop = j.value("early_stop", r.early_stop);
  r.workers = j.value("workers", r.workers);
  r.amp_dtype = j.value("amp_dtype", r.amp_dtype);
  r.checkpoint_backbone = j.value("checkpoint_backbone", r.checkpoint_backbone);
  r.channels_last = j.value("channels_last", r.channels_last);
  // Runs stored before the field existed froze BatchNorm for every method on a pretrained ResNet-50/101:
  // their checkpoints hold FrozenBatchNorm2d buffers and load only into that model.
  r.frozen_bn = j.contains("frozen_bn") ? j.at("frozen_bn").get<bool>() : pretrainedLargeResNet(r);
  r.world_size = j.value("world_size", r.world_size);
  return r;
}

}  // namespace mls
