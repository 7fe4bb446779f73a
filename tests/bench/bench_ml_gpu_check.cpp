// Device checks for scripts/gpu-check (README, Benchmarks, GPU): does the engine compute the same numbers
// on the device, and does it learn there?
//   1. parity: every loss (value and gradient) and a Query2Label forward/backward, float32 on the device
//      against a float64 CPU reference computed from the same inputs and weights (TF32 switched off for
//      the comparison so float32 means float32). With --device cpu both sides run on the CPU, so the check
//      becomes float32-vs-float64 on one machine.
//      Then the memory/speed options against their plain counterparts on the device: a checkpointed
//      ResNet backbone's gradients (float32, and under bf16 autocast on CUDA, where the recomputation must
//      restore the autocast state), and the multi-tensor AdamW step against torch's per-parameter loop.
//   2. learning: the Trainer (Q2L, ASL as the COCO command, AdamW + OneCycle, EMA; AMP fp16 with loss
//      scaling on CUDA) on generated blob images must reach a stated validation mAP and loss drop; again
//      with checkpointing + channels-last + gradient accumulation (+ AMP bf16 on CUDA).
// Usage: bench_ml_gpu_check [--device cpu|cuda] [--quick] [--threads N]
//   --quick skips the ResNet-101 parity model (the CPU mode of scripts/gpu-check uses it).
// Prints PASS/FAIL lines and one JSON line per check ({"bench":"gpu_check",...}); exit code 1 on a FAIL.
#include <torch/cuda.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ml/autocast_guard.h"
#include "ml/batch_source.h"
#include "ml/device.h"
#include "ml/losses.h"
#include "ml/models/backbone.h"
#include "ml/models/query2label.h"
#include "ml/models/resnet.h"
#include "ml/models/tiny_cnn.h"
#include "ml/tensor_batch_source.h"
#include "ml/training/grouped_optimizer.h"
#include "ml/training/module_state.h"
#include "ml/training/trainer.h"

namespace {

using Clock = std::chrono::steady_clock;

// Stated tolerances (relative). float32 carries ~7 digits; these leave room for reordered reductions
// (cuDNN / cuBLAS / atomics) and the ~20 layers of a network, and still catch any real formula or
// device bug, which shows up at 1e-2 or worse.
constexpr double kLossValueTol = 1e-5;
constexpr double kLossGradTol = 1e-5;
constexpr double kModelLogitTol = 1e-4;
// Gradients: float32 rounding flips a few ReLU inputs that sit near zero, and each flip changes the
// gradient there by O(1); in a deep net these sparse differences add up (random-init R101 on the CPU:
// 3e-3 worst tensor, 6e-4 overall; the tiny Q2L: 2e-6). A wrong formula or a device bug gives O(1).
constexpr double kModelGradTol = 1e-2;        // worst single tensor
constexpr double kModelGlobalGradTol = 2e-3;  // all gradients as one vector
// Learning bar: blob classes are easy; chance mAP is the positive rate (~35 %).
constexpr double kTrainMapBar = 90.0;
constexpr double kTrainLossDropBar = 0.5;  // last epoch's mean loss <= this x the first epoch's

int g_failures = 0;

void report(const std::string& check, const std::string& name, bool pass, const std::string& text,
            const std::string& json_fields) {
  if (!pass) ++g_failures;
  std::cout << (pass ? "PASS " : "FAIL ") << check << " " << name << ": " << text << "\n";
  std::cout << "{\"bench\":\"gpu_check\",\"check\":\"" << check << "\",\"name\":\"" << name
            << "\",\"pass\":" << (pass ? "true" : "false") << json_fields << "}" << std::endl;
}

std::string num(double v, int precision = 3) {
  std::ostringstream s;
  s.precision(precision);
  s << std::scientific << v;
  return s.str();
}

// max|a - ref| / max(max|ref|, floor): one number per tensor, scale-free.
double relMaxError(const torch::Tensor& a, const torch::Tensor& ref, double floor = 1e-12) {
  const auto r = ref.to(torch::kCPU, torch::kDouble);
  const auto d = (a.to(torch::kCPU, torch::kDouble) - r).abs().max().item<double>();
  return d / std::max(r.abs().max().item<double>(), floor);
}

// Turns TF32 off for the lifetime of the guard: parity compares float32 with float64, and TF32 (cuDNN's
// default for convolutions) keeps only 10 mantissa bits.
class StrictFloat32Guard {
 public:
  StrictFloat32Guard() : cudnn_(at::globalContext().allowTF32CuDNN()), cublas_(at::globalContext().allowTF32CuBLAS()) {
    at::globalContext().setAllowTF32CuDNN(false);
    at::globalContext().setAllowTF32CuBLAS(false);
  }
  ~StrictFloat32Guard() {
    at::globalContext().setAllowTF32CuDNN(cudnn_);
    at::globalContext().setAllowTF32CuBLAS(cublas_);
  }

 private:
  bool cudnn_, cublas_;
};

// ---- 1a. losses -------------------------------------------------------------------------------------

struct LossCase {
  std::string name;
  mls::LossConfig config;
  bool full_labels;  // 0/1 targets (BCE, focal, ASL) or single positives with some observed negatives
};

std::vector<LossCase> lossCases() {
  std::vector<LossCase> cases;
  auto add = [&](const std::string& name, mls::LossKind kind, bool full) {
    mls::LossConfig c;
    c.kind = kind;
    cases.push_back({name, c, full});
  };
  add("bce", mls::LossKind::BCE, true);
  add("focal", mls::LossKind::Focal, true);
  add("asl-paper", mls::LossKind::ASL, true);  // gamma- 4, clip 0.05, eps 1e-8
  cases.push_back({"asl-q2l-coco", mls::LossConfig::q2lCoco(), true});
  add("an", mls::LossKind::AN, false);
  add("an-ls", mls::LossKind::AN_LS, false);
  add("wan", mls::LossKind::WAN, false);
  add("epr", mls::LossKind::EPR, false);
  add("role", mls::LossKind::ROLE, false);
  return cases;
}

void checkLosses(const c10::Device& device) {
  StrictFloat32Guard strict;
  torch::manual_seed(7);
  const int64_t b = 32, k = 20;
  const auto f64 = torch::TensorOptions().dtype(torch::kDouble);
  // Logits up to about +-12: confident predictions are where float32 formulas lose digits.
  const auto logits = torch::randn({b, k}, f64) * 4.0;
  const auto estimator = torch::randn({b, k}, f64) * 2.0;
  const auto full = (torch::rand({b, k}, f64) < 0.3).to(torch::kDouble);
  auto single = torch::zeros({b, k}, f64);
  single.scatter_(1, torch::randint(k, {b, 1}, torch::kLong), 1.0);
  single.masked_fill_((torch::rand({b, k}, f64) < 0.1) & (single == 0), -1.0);  // a few observed negatives

  for (const auto& c : lossCases()) {
    const auto& targets = c.full_labels ? full : single;
    const bool with_estimator = mls::lossNeedsEstimator(c.config.kind);
    auto run = [&](torch::ScalarType dtype, const c10::Device& dev) {
      auto x = logits.to(dev, dtype).detach().requires_grad_(true);
      auto e = estimator.to(dev, dtype).detach().requires_grad_(true);
      auto loss = mls::multiLabelLoss(c.config, x, targets.to(dev, dtype), with_estimator ? e : torch::Tensor());
      loss.backward();
      return std::make_tuple(loss.detach(), x.grad(), with_estimator ? e.grad() : torch::Tensor());
    };
    const auto [ref_value, ref_grad, ref_egrad] = run(torch::kDouble, torch::Device(torch::kCPU));
    const auto [value, grad, egrad] = run(torch::kFloat, device);
    const double value_err = relMaxError(value, ref_value);
    double grad_err = relMaxError(grad, ref_grad);
    if (with_estimator) grad_err = std::max(grad_err, relMaxError(egrad, ref_egrad));
    const bool pass = value_err <= kLossValueTol && grad_err <= kLossGradTol && std::isfinite(value_err + grad_err);
    report("loss_parity", c.name, pass,
           "value " + num(value_err) + " (tol " + num(kLossValueTol, 0) + "), grad " + num(grad_err) + " (tol " +
               num(kLossGradTol, 0) + ")",
           ",\"value_err\":" + num(value_err) + ",\"grad_err\":" + num(grad_err) +
               ",\"value_tol\":" + num(kLossValueTol) + ",\"grad_tol\":" + num(kLossGradTol));
  }
}

// ---- 1b. Query2Label forward / backward -------------------------------------------------------------

struct ParityModel {
  std::string name;
  std::function<std::shared_ptr<mls::MultiLabelModel>()> build;
  int64_t batch, image_size;
};

std::shared_ptr<mls::MultiLabelModel> smallQ2L() {
  auto c = mls::Q2LConfig::smallCpu(20);
  c.transformer.dropout = 0;  // dropout masks differ between devices; everything else must match
  return std::make_shared<mls::Query2Label>(std::make_shared<mls::TinyCnn>(), c);
}

std::shared_ptr<mls::MultiLabelModel> paperQ2L() {
  mls::BackboneOptions bo;
  bo.name = "resnet101";
  bo.frozen_bn = true;  // the official R101 setup
  bo.freeze_stem = true;
  auto c = mls::Q2LConfig::paperR101_448(80);
  c.transformer.dropout = 0;
  return std::make_shared<mls::Query2Label>(mls::makeBackbone(bo), c);
}

void checkModel(const ParityModel& m, const c10::Device& device) {
  StrictFloat32Guard strict;
  const auto start = Clock::now();
  // Same seed, same CPU initialisation: identical weights in both copies.
  torch::manual_seed(11);
  auto ref = m.build();
  torch::manual_seed(11);
  auto cand = m.build();
  ref->to(torch::kDouble);
  cand->to(device);
  ref->train();  // BatchNorm on batch statistics, as in training
  cand->train();

  torch::manual_seed(12);
  const auto images = torch::randn({m.batch, 3, m.image_size, m.image_size}, torch::kDouble);
  const auto targets = (torch::rand({m.batch, ref->numClasses()}) < 0.2).to(torch::kDouble);
  const auto loss_cfg = mls::LossConfig::q2lCoco();

  auto ref_out = ref->forward(images, /*want_attention=*/true);
  mls::multiLabelLoss(loss_cfg, ref_out.logits, targets).backward();
  auto out = cand->forward(images.to(device, torch::kFloat), true);
  mls::multiLabelLoss(loss_cfg, out.logits, targets.to(device, torch::kFloat)).backward();

  const double logit_err = relMaxError(out.logits, ref_out.logits);
  const double attention_err = relMaxError(out.attention, ref_out.attention);
  // Per-tensor relative gradient error; a tensor whose gradient is tiny next to the whole model's is
  // measured against 1e-3 of the global norm instead of its own.
  const auto ref_params = ref->named_parameters();
  const auto params = cand->named_parameters();  // same registration order as ref_params
  double global = 0;
  for (const auto& p : ref_params)
    if (p.value().grad().defined()) global += p.value().grad().pow(2).sum().item<double>();
  global = std::sqrt(global);
  double grad_err = 0, diff_sq = 0;
  std::string worst;
  int64_t compared = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    const auto g_ref = ref_params[i].value().grad();
    if (!g_ref.defined()) continue;
    ++compared;
    const auto g = params[i].value().grad();
    const double diff = g.defined() ? (g.to(torch::kCPU, torch::kDouble) - g_ref).norm().item<double>() : INFINITY;
    diff_sq += diff * diff;
    const double err = diff / std::max(g_ref.norm().item<double>(), 1e-3 * global);
    if (err > grad_err) grad_err = err, worst = params[i].key();
  }
  const double global_err = std::sqrt(diff_sq) / std::max(global, 1e-300);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const bool pass = logit_err <= kModelLogitTol && attention_err <= kModelLogitTol && grad_err <= kModelGradTol &&
                    global_err <= kModelGlobalGradTol && compared > 0 &&
                    std::isfinite(logit_err + grad_err + attention_err + global_err);
  report("model_parity", m.name, pass,
         "logits " + num(logit_err) + ", attention " + num(attention_err) + " (tol " + num(kModelLogitTol, 0) +
             "), gradients " + num(global_err) + " (tol " + num(kModelGlobalGradTol, 0) + "), worst of " +
             std::to_string(compared) + " " + num(grad_err) + " (tol " + num(kModelGradTol, 0) + ", " + worst + "), " +
             std::to_string(seconds).substr(0, 5) + " s",
         ",\"logit_err\":" + num(logit_err) + ",\"attention_err\":" + num(attention_err) + ",\"grad_err\":" +
             num(grad_err) + ",\"global_grad_err\":" + num(global_err) + ",\"logit_tol\":" + num(kModelLogitTol) +
             ",\"grad_tol\":" + num(kModelGradTol) + ",\"gradients\":" + std::to_string(compared));
}

// ---- 1b. memory / speed options against their plain counterparts ------------------------------------

// Stated tolerances: float32 recomputation repeats the same kernels, so only reduction order may differ
// (cuDNN picks algorithms per call); bf16 autocast carries ~3 digits, and a recomputation under the wrong
// autocast state (float32 instead of bf16) would differ at the 1e-2 level or fail outright.
constexpr double kCheckpointGradTol = 1e-4;
constexpr double kCheckpointGradTolBf16 = 5e-3;
constexpr double kForeachTol = 1e-6;

// Deterministic cuDNN, no autotuning, for the lifetime of the guard: both sides of a comparison then run
// the same algorithms, so differences come from the feature under test only.
class DeterministicCudnnGuard {
 public:
  DeterministicCudnnGuard()
      : deterministic_(at::globalContext().deterministicCuDNN()), benchmark_(at::globalContext().benchmarkCuDNN()) {
    at::globalContext().setDeterministicCuDNN(true);
    at::globalContext().setBenchmarkCuDNN(false);
  }
  ~DeterministicCudnnGuard() {
    at::globalContext().setDeterministicCuDNN(deterministic_);
    at::globalContext().setBenchmarkCuDNN(benchmark_);
  }

 private:
  bool deterministic_, benchmark_;
};

void checkCheckpointing(const c10::Device& device, bool autocast_bf16) {
  const auto start = Clock::now();
  StrictFloat32Guard strict;
  DeterministicCudnnGuard deterministic;
  torch::manual_seed(21);
  mls::ResNetOptions ro;
  ro.depth = 50;
  ro.frozen_bn = true;  // the Q2L backbone setup
  ro.freeze_stem = true;
  auto plain = std::make_shared<mls::ResNet>(ro);
  auto checkpointed = std::make_shared<mls::ResNet>(ro);
  mls::copyState(*checkpointed, mls::cloneState(*plain));
  checkpointed->setActivationCheckpointing(true);
  plain->to(device);
  checkpointed->to(device);
  plain->train();
  checkpointed->train();
  const auto images = torch::randn({4, 3, 160, 160}).to(device);
  const auto weights = torch::randn({4, 2048, 5, 5}).to(device);
  for (auto* model : {plain.get(), checkpointed.get()}) {
    torch::Tensor out;
    {
      mls::AutocastGuard autocast(autocast_bf16, c10::ScalarType::BFloat16);
      out = model->forward(images);
    }
    (out.to(torch::kFloat) * weights).sum().backward();
  }
  const auto a = plain->named_parameters();
  const auto b = checkpointed->named_parameters();
  double diff_sq = 0, norm_sq = 0;
  int64_t compared = 0;
  for (const auto& item : a) {
    const auto& ga = item.value().grad();
    if (!ga.defined()) continue;
    const auto& gb = b[item.key()].grad();
    if (!gb.defined()) {
      diff_sq = INFINITY;
      break;
    }
    diff_sq += (ga.to(torch::kDouble) - gb.to(torch::kDouble)).pow(2).sum().item<double>();
    norm_sq += ga.to(torch::kDouble).pow(2).sum().item<double>();
    ++compared;
  }
  const double err = std::sqrt(diff_sq) / std::max(std::sqrt(norm_sq), 1e-300);
  const double tol = autocast_bf16 ? kCheckpointGradTolBf16 : kCheckpointGradTol;
  const bool pass = compared > 0 && std::isfinite(err) && err <= tol;
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const std::string name = std::string("resnet50_frozen_") + (autocast_bf16 ? "bf16_autocast" : "fp32");
  report("checkpoint_parity", name, pass,
         "gradients of " + std::to_string(compared) + " tensors, checkpointed vs plain: " + num(err) + " (tol " +
             num(tol, 0) + "), " + std::to_string(seconds).substr(0, 5) + " s",
         ",\"grad_err\":" + num(err) + ",\"tol\":" + num(tol) + ",\"gradients\":" + std::to_string(compared));
}

void checkForeachOptimizer(const c10::Device& device) {
  torch::manual_seed(22);
  std::vector<torch::Tensor> loop_params, foreach_params;
  for (const auto& shape : std::vector<std::vector<int64_t>>{{64, 32, 3, 3}, {256}, {80, 2048}, {7}}) {
    auto p = torch::randn(shape).to(device);
    loop_params.push_back(p.clone().set_requires_grad(true));
    foreach_params.push_back(p.clone().set_requires_grad(true));
  }
  auto groups = [](const std::vector<torch::Tensor>& p) {
    return std::vector<mls::ParamGroupSpec>{{"backbone", {p[0], p[1]}, 1.0, 1e-2}, {"head", {p[2], p[3]}, 10.0, 0.0}};
  };
  mls::GroupedOptimizer loop("adamw", groups(loop_params), 1e-3, /*foreach=*/false);
  mls::GroupedOptimizer multi("adamw", groups(foreach_params), 1e-3, /*foreach=*/true);
  double err = 0;
  for (int step = 0; step < 5; ++step) {
    loop.setLearningRate(1e-3 * (step + 1), 0.95 - 0.02 * step);
    multi.setLearningRate(1e-3 * (step + 1), 0.95 - 0.02 * step);
    for (size_t i = 0; i < loop_params.size(); ++i) {
      const auto g = torch::randn(loop_params[i].sizes()).to(device);
      loop_params[i].mutable_grad() = g.clone();
      foreach_params[i].mutable_grad() = g.clone();
    }
    loop.step();
    multi.step();
    loop.zeroGrad();
    multi.zeroGrad();
  }
  for (size_t i = 0; i < loop_params.size(); ++i)
    err = std::max(err, relMaxError(foreach_params[i], loop_params[i].detach().to(torch::kCPU, torch::kDouble)));
  const bool pass = std::isfinite(err) && err <= kForeachTol;
  report("optimizer_parity", "adamw_foreach_vs_loop", pass,
         "5 AdamW steps, 2 groups, parameters " + num(err) + " (tol " + num(kForeachTol, 0) + ")",
         ",\"param_err\":" + num(err) + ",\"tol\":" + num(kForeachTol));
}

// ---- 2. learning on generated data ------------------------------------------------------------------

constexpr int kBlobClasses = 6;
constexpr int kBlobSide = 32;
constexpr int kBlobSize = 8;  // blobs sit in distinct cells of a 4x4 grid

// Noise images in which class k is present as an 8x8 block of its own colour, a sign pattern over the
// three channels (k = 0..5 use six of the eight patterns). Each image holds 1-4 classes.
std::pair<torch::Tensor, torch::Tensor> makeBlobs(int64_t n, uint64_t seed) {
  mls::DeterministicRng rng(seed);
  auto images = torch::rand({n, 3, kBlobSide, kBlobSide}, torch::TensorOptions().dtype(torch::kFloat)) - 0.5;
  auto labels = torch::zeros({n, kBlobClasses});
  constexpr int kCells = (kBlobSide / kBlobSize) * (kBlobSide / kBlobSize);
  for (int64_t i = 0; i < n; ++i) {
    std::vector<int> cells(kCells);
    for (int c = 0; c < kCells; ++c) cells[c] = c;
    int placed = 0;
    for (int k = 0; k < kBlobClasses; ++k) {
      if (!rng.bernoulli(0.35) && !(k == kBlobClasses - 1 && placed == 0)) continue;
      const int pick = placed + static_cast<int>(rng.below(kCells - placed));  // partial Fisher-Yates
      std::swap(cells[placed], cells[pick]);
      const int cell = cells[placed++];
      const int y = (cell / (kBlobSide / kBlobSize)) * kBlobSize, x = (cell % (kBlobSide / kBlobSize)) * kBlobSize;
      const int pattern = k + 1;  // skip all-negative so every class has a bright channel
      for (int ch = 0; ch < 3; ++ch)
        images.index_put_({i, ch, torch::indexing::Slice(y, y + kBlobSize), torch::indexing::Slice(x, x + kBlobSize)},
                          (pattern >> ch) & 1 ? 2.0 : -2.0);
      labels[i][k] = 1;
    }
  }
  return {images, labels};
}

struct EpochLog : mls::TrainObserver {
  std::vector<mls::EpochInfo> epochs;
  void onEpoch(const mls::EpochInfo& e) override { epochs.push_back(e); }
  void onMessage(mls::MessageLevel level, const std::string& text) override {
    if (level != mls::MessageLevel::Info) std::cerr << "  [trainer] " << text << "\n";
  }
};

struct LearningVariant {
  std::string name;
  bool memory_options = false;  // checkpoint_backbone + channels_last + grad_accum 2 (+ AMP bf16 on CUDA)
};

void checkLearning(const std::string& device_name, const c10::Device& device, const LearningVariant& variant) {
  const auto start = Clock::now();
  // The CPU mode runs in CI on 2 cores: a quarter of the data (the bar still holds with margin).
  const int64_t n = device.is_cuda() ? 1024 : 256;
  const auto train = makeBlobs(n, 1);
  const auto val = makeBlobs(n / 2, 2);
  mls::TensorBatchSource train_src(train.first, train.second, 32, /*shuffle=*/true, 5);
  mls::TensorBatchSource val_src(val.first, val.second, 128);

  torch::manual_seed(3);
  mls::TinyCnnOptions tiny;
  tiny.widths = {16, 32, 48};  // stride 4: a 32 px image gives an 8x8 map to attend over
  tiny.double_conv = false;
  auto config = mls::Q2LConfig::smallCpu(kBlobClasses);
  config.transformer.d_model = 64;
  config.transformer.dim_feedforward = 128;
  auto model = std::make_shared<mls::Query2Label>(std::make_shared<mls::TinyCnn>(tiny), config);

  mls::TrainerOptions o;
  o.device = device_name;
  o.epochs = 6;
  o.lr = 2e-3;  // a small model from scratch: the paper's 1e-4 is for a pretrained R101
  o.loss = mls::LossConfig::q2lCoco();
  o.ema_decay = 0.9;
  // On CUDA the mixed-precision path with dynamic loss scaling is what the GPU recipe uses.
  o.amp = device.is_cuda();
  o.amp_dtype = "fp16";
  if (variant.memory_options) {
    o.checkpoint_backbone = true;
    o.channels_last = true;
    o.grad_accum = 2;
    o.amp_dtype = "bf16";
  }
  EpochLog log;
  mls::Trainer trainer(model, o, &log);
  const auto result = trainer.fit(train_src, &val_src);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  const double first = log.epochs.empty() ? NAN : log.epochs.front().train_loss;
  const double last = log.epochs.empty() ? NAN : log.epochs.back().train_loss;
  const bool pass =
      result.epochs_run == o.epochs && result.best_val_map >= kTrainMapBar && last <= kTrainLossDropBar * first;
  std::ostringstream text;
  text.setf(std::ios::fixed);
  text.precision(2);
  text << "best val mAP " << result.best_val_map << " (bar " << kTrainMapBar << "), train loss " << first << " -> "
       << last << " (bar x" << kTrainLossDropBar << "), " << o.epochs << " epochs"
       << (o.amp ? " AMP " + o.amp_dtype : std::string(" fp32"))
       << (variant.memory_options ? ", checkpointed, channels-last, accumulation 2" : "")
       << ", " << seconds << " s";
  std::ostringstream json;
  json << ",\"best_val_map\":" << result.best_val_map << ",\"map_bar\":" << kTrainMapBar << ",\"first_loss\":" << first
       << ",\"last_loss\":" << last << ",\"epochs\":" << result.epochs_run << ",\"amp\":" << (o.amp ? "true" : "false")
       << ",\"seconds\":" << seconds;
  report("learning", variant.name, pass, text.str(), json.str());
}

}  // namespace

int main(int argc, char** argv) {
  std::string device_name = "cpu";
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--device" && i + 1 < argc) device_name = argv[++i];
    else if (a == "--quick") quick = true;
    else if (a == "--threads" && i + 1 < argc) torch::set_num_threads(std::stoi(argv[++i]));
    else {
      std::cerr << "usage: bench_ml_gpu_check [--device cpu|cuda] [--quick] [--threads N]\n";
      return 2;
    }
  }
  c10::Device device(c10::kCPU);
  try {
    device = mls::resolveDevice(device_name);
  } catch (const std::exception& e) {
    std::cerr << "bench_ml_gpu_check: " << e.what() << "\n";
    return 2;
  }
  std::cout << "device checks on " << mls::describeDevice(device_name) << " against a float64 CPU reference\n";
  const auto start = Clock::now();
  try {
    checkLosses(device);
    checkModel({"q2l_small_tiny_64px", smallQ2L, 4, 64}, device);
    if (!quick) checkModel({"q2l_paper_r101_224px", paperQ2L, 2, 224}, device);
    checkCheckpointing(device, /*autocast_bf16=*/false);
    if (device.is_cuda()) checkCheckpointing(device, /*autocast_bf16=*/true);
    checkForeachOptimizer(device);
    checkLearning(device_name, device, {"q2l_blobs", false});
    checkLearning(device_name, device, {"q2l_blobs_memory_options", true});
  } catch (const std::exception& e) {
    std::cout << "FAIL exception: " << e.what() << "\n";
    ++g_failures;
  }
  std::cout << (g_failures == 0 ? "all device checks passed" : std::to_string(g_failures) + " device check(s) failed")
            << " in " << std::chrono::duration<double>(Clock::now() - start).count() << " s\n";
  return g_failures == 0 ? 0 : 1;
}
