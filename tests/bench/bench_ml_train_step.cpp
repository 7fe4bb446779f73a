// Training-step throughput of the engine (README, Benchmarks: "vs PyTorch" and "GPU"): full steps of the real
// Trainer (forward, loss, backward, AdamW + OneCycle, EMA, AMP with loss scaling) on one random batch that
// stays on the device, so no data loading is measured. tests/bench/q2l_reference.py runs the official Q2L
// PyTorch recipe with the same flags; scripts/gpu-check runs both and prints the ratio.
//
// Usage: bench_ml_train_step [--small | --paper] [--method q2l|mlspl] [--backbone tiny|resnet18|...|resnet101]
//          [--image-size N] [--batch N[,N..]] [--steps N] [--warmup N] [--device cpu|cuda]
//          [--amp off|fp16|bf16[,..]] [--channels-last [on|off|both]] [--checkpoint [on|off|both]]
//          [--grad-accum N] [--no-foreach] [--profile] [--classes K] [--threads N] [--seed S] [--verbose]
// Lists (--batch 16,64 --amp off,bf16,fp16 --channels-last both) run every combination in one process and
// print one result line plus one JSON line ({"bench":"train_step",...}) per combination.
//   --checkpoint: activation checkpointing of the backbone; --grad-accum N: one optimizer step every N batches
//   (steps and warm-up count batches and are rounded up to whole optimizer steps); --no-foreach: torch's
//   per-parameter Adam loop instead of the multi-tensor update; --profile: per-phase step times (the device
//   is synchronised between phases, so the images/s of a profiled run are lower).
//   --small (default): Q2LConfig::smallCpu, tiny backbone, 64 px, batch 32 (the CPU demo model).
//   --paper: Q2LConfig::paperR101_448, ResNet-101 with frozen BN and frozen conv1/layer1, 448 px, batch 16.
// Q2L trains with LossConfig::q2lCoco(), AdamW lr 1e-4 wd 1e-2, OneCycle (20 % warm-up), EMA 0.9997 (the
// official COCO command); mlspl with AN, Adam, constant lr, no EMA (the MLSPL code's setup).
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

// Peak memory needs c10_cuda: MLS_WITH_CUDA comes from scripts/gpu-check (or CMake) when Torch has CUDA;
// the header test covers builds configured by hand against a CUDA LibTorch. Debian's CPU LibTorch ships
// the c10/cuda headers but not the CUDA runtime, hence the second condition.
#if defined(MLS_WITH_CUDA) || (__has_include(<cuda_runtime_api.h>) && __has_include(<c10/cuda/CUDACachingAllocator.h>))
#define MLS_BENCH_CUDA_MEMORY 1
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ml/batch_source.h"
#include "ml/device.h"
#include "ml/losses.h"
#include "ml/models/multilabel_model.h"
#include "ml/training/trainer.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string preset = "small";
  std::string method = "q2l";
  std::string backbone;  // empty: the preset's
  int image_size = 0;    // 0: the preset's
  std::vector<int> batches;
  std::vector<std::string> amps{"off"};
  std::vector<bool> channels_last{false};
  std::vector<bool> checkpoint{false};
  int grad_accum = 1;
  bool foreach = true;
  bool profile = false;
  int steps = 20;
  int warmup = 3;
  std::string device = "cpu";
  int classes = 80;
  int threads = 0;  // 0: LibTorch's default
  uint64_t seed = 1200;
  bool verbose = false;
};

struct Result {
  int64_t params = 0, trainable = 0;
  double seconds = 0;
  double images_per_s = 0;
  double median_step_s = 0, best_step_s = 0;
  double final_loss = 0;
  double peak_allocated_mib = -1, peak_reserved_mib = -1;  // CUDA caching allocator; -1 when unavailable
  mls::StepInfo::Phases phases;  // mean seconds per batch with --profile
};

// One measured configuration.
struct Config {
  int batch = 1;
  std::string amp = "off";
  bool channels_last = false;
  bool checkpoint = false;
};

[[noreturn]] void usage(const std::string& error) {
  std::cerr << "bench_ml_train_step: " << error << "\n"
            << "usage: bench_ml_train_step [--small|--paper] [--method q2l|mlspl] [--backbone NAME] [--image-size N]\n"
            << "  [--batch N[,N..]] [--steps N] [--warmup N] [--device cpu|cuda] [--amp off|fp16|bf16[,..]]\n"
            << "  [--channels-last [on|off|both]] [--checkpoint [on|off|both]] [--grad-accum N] [--no-foreach]\n"
            << "  [--profile] [--classes K] [--threads N] [--seed S] [--verbose]\n";
  std::exit(2);
}

std::vector<std::string> splitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) out.push_back(item);
  if (out.empty()) usage("empty list '" + s + "'");
  return out;
}

int toInt(const std::string& s, const std::string& flag) {
  try {
    size_t used = 0;
    const int v = std::stoi(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  usage(flag + " expects an integer, got '" + s + "'");
}

Options parseArgs(int argc, char** argv) {
  Options o;
  std::vector<std::string> args(argv + 1, argv + argc);
  // Presets first, so explicit flags override them wherever they appear.
  for (const auto& a : args)
    if (a == "--small" || a == "--paper") o.preset = a.substr(2);
  if (o.preset == "paper") {
    o.backbone = "resnet101";
    o.image_size = 448;
    o.batches = {16};
  } else {
    o.backbone = "tiny";
    o.image_size = 64;
    o.batches = {32};
  }
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) usage(a + " needs a value");
      return args[++i];
    };
    if (a == "--small" || a == "--paper") continue;
    if (a == "--method") o.method = value();
    else if (a == "--backbone") o.backbone = value();
    else if (a == "--image-size") o.image_size = toInt(value(), a);
    else if (a == "--batch") {
      o.batches.clear();
      for (const auto& b : splitList(value())) o.batches.push_back(toInt(b, a));
    } else if (a == "--steps") o.steps = toInt(value(), a);
    else if (a == "--warmup") o.warmup = toInt(value(), a);
    else if (a == "--device") o.device = value();
    else if (a == "--amp") o.amps = splitList(value());
    else if (a == "--channels-last") {
      std::string mode = "on";
      if (i + 1 < args.size() && (args[i + 1] == "on" || args[i + 1] == "off" || args[i + 1] == "both"))
        mode = args[++i];
      o.channels_last = mode == "both" ? std::vector<bool>{false, true} : std::vector<bool>{mode == "on"};
    } else if (a == "--checkpoint") {
      std::string mode = "on";
      if (i + 1 < args.size() && (args[i + 1] == "on" || args[i + 1] == "off" || args[i + 1] == "both"))
        mode = args[++i];
      o.checkpoint = mode == "both" ? std::vector<bool>{false, true} : std::vector<bool>{mode == "on"};
    } else if (a == "--grad-accum") o.grad_accum = toInt(value(), a);
    else if (a == "--no-foreach") o.foreach = false;
    else if (a == "--profile") o.profile = true;
    else if (a == "--classes") o.classes = toInt(value(), a);
    else if (a == "--threads") o.threads = toInt(value(), a);
    else if (a == "--seed") o.seed = static_cast<uint64_t>(toInt(value(), a));
    else if (a == "--verbose") o.verbose = true;
    else if (a == "--help" || a == "-h") usage("help");
    else usage("unknown argument '" + a + "'");
  }
  if (o.method != "q2l" && o.method != "mlspl") usage("--method must be q2l or mlspl");
  for (const auto& amp : o.amps)
    if (amp != "off" && amp != "fp16" && amp != "bf16") usage("--amp must be off, fp16 or bf16");
  for (int b : o.batches)
    if (b < 1) usage("--batch must be >= 1");
  if (o.steps < 1) usage("--steps must be >= 1");
  if (o.grad_accum < 1) usage("--grad-accum must be >= 1");
  // The first step allocates the optimizer state (and picks cuDNN algorithms): never timed.
  o.warmup = std::max(o.warmup, 1);
  auto whole = [&](int n) { return (n + o.grad_accum - 1) / o.grad_accum * o.grad_accum; };
  o.warmup = whole(o.warmup);
  o.steps = whole(o.steps);
  if (o.image_size < 32 || o.classes < 1) usage("--image-size must be >= 32 and --classes >= 1");
  return o;
}

// Yields the same device-resident batch `count` times per epoch: the step is measured, not data loading.
class RepeatedBatchSource : public mls::BatchSource {
 public:
  RepeatedBatchSource(mls::Batch batch, int64_t count) : batch_(std::move(batch)), count_(count) {}
  int64_t size() const override { return count_ * batch_.images.size(0); }
  int64_t numClasses() const override { return batch_.targets.size(1); }
  void startEpoch(int) override { served_ = 0; }
  std::optional<mls::Batch> next() override {
    if (served_ >= count_) return std::nullopt;
    ++served_;
    return batch_;
  }

 private:
  mls::Batch batch_;
  int64_t count_;
  int64_t served_ = 0;
};

void synchronize(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.has_index() ? device.index() : -1);
}

int cudaIndex(const c10::Device& device) { return device.has_index() ? device.index() : 0; }

void resetPeakMemory(const c10::Device& device) {
#ifdef MLS_BENCH_CUDA_MEMORY
  if (!device.is_cuda()) return;
  c10::cuda::CUDACachingAllocator::emptyCache();
  c10::cuda::CUDACachingAllocator::resetPeakStats(static_cast<c10::DeviceIndex>(cudaIndex(device)));
#else
  (void)device;
#endif
}

void readPeakMemory(const c10::Device& device, Result& r) {
#ifdef MLS_BENCH_CUDA_MEMORY
  if (!device.is_cuda()) return;
  const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(cudaIndex(device)));
  // Index 0 is StatType::AGGREGATE in every LibTorch version (the enum moved namespaces in 2.x).
  r.peak_allocated_mib = static_cast<double>(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);
  r.peak_reserved_mib = static_cast<double>(stats.reserved_bytes[0].peak) / (1024.0 * 1024.0);
#else
  (void)device;
  (void)r;
#endif
}

// Times steps warmup+1 .. warmup+steps: the device is synchronised at both ends, so the measured span
// holds exactly `steps` complete optimizer steps. Each step's own duration is kept too: on a shared
// machine the median step is a steadier figure than the mean (the trainer's loss.item() already waits
// for the device once per step, so the per-step times are meaningful on CUDA as well).
class StepTimer : public mls::TrainObserver {
 public:
  StepTimer(c10::Device device, int warmup, int steps, bool verbose)
      : device_(device), warmup_(warmup), steps_(steps), verbose_(verbose) {}
  void onStep(const mls::StepInfo& s) override {
    if (s.global_step == warmup_ || s.global_step == warmup_ + steps_) synchronize(device_);
    if (s.global_step >= warmup_ && s.global_step <= warmup_ + steps_) stamps_.push_back(Clock::now());
    if (s.global_step > warmup_ && s.global_step <= warmup_ + steps_) {
      phases_.data += s.phases.data / steps_;
      phases_.transfer += s.phases.transfer / steps_;
      phases_.forward += s.phases.forward / steps_;
      phases_.backward += s.phases.backward / steps_;
      phases_.optimizer += s.phases.optimizer / steps_;
    }
    last_loss_ = s.loss;
    if (verbose_) std::cerr << "  step " << s.global_step << " loss " << s.loss << " lr " << s.lr << "\n";
  }
  void onMessage(mls::MessageLevel level, const std::string& text) override {
    if (verbose_ || level != mls::MessageLevel::Info) std::cerr << "  [trainer] " << text << "\n";
  }
  double seconds() const { return std::chrono::duration<double>(stamps_.back() - stamps_.front()).count(); }
  // Durations of the timed steps, sorted.
  std::vector<double> stepSeconds() const {
    std::vector<double> d;
    for (size_t i = 1; i < stamps_.size(); ++i)
      d.push_back(std::chrono::duration<double>(stamps_[i] - stamps_[i - 1]).count());
    std::sort(d.begin(), d.end());
    return d;
  }
  double lastLoss() const { return last_loss_; }
  const mls::StepInfo::Phases& meanPhases() const { return phases_; }

 private:
  c10::Device device_;
  int64_t warmup_, steps_;
  bool verbose_;
  std::vector<Clock::time_point> stamps_;
  double last_loss_ = 0;
  mls::StepInfo::Phases phases_;
};

mls::ModelSpec modelSpec(const Options& o) {
  mls::ModelSpec spec;
  spec.method = mls::parseMethod(o.method);
  spec.backbone = o.backbone;
  spec.num_classes = o.classes;
  spec.image_size = o.image_size;
  spec.small_q2l = o.preset != "paper";
  // Official Q2L R101 setup: FrozenBatchNorm2d and only layer2..4 trained (backbone.py BackboneBase).
  spec.frozen_bn = o.preset == "paper" && o.method == "q2l";
  spec.freeze_stem = spec.frozen_bn;
  return spec;
}

mls::TrainerOptions trainerOptions(const Options& o, const Config& c) {
  mls::TrainerOptions t;
  t.device = o.device;
  t.epochs = 1;
  t.seed = o.seed;
  t.amp = c.amp != "off";
  t.amp_dtype = c.amp == "bf16" ? "bf16" : "fp16";
  t.channels_last = c.channels_last;
  t.checkpoint_backbone = c.checkpoint;
  t.grad_accum = o.grad_accum;
  t.foreach_optimizer = o.foreach;
  t.profile_steps = o.profile;
  if (o.method == "q2l") {
    t.loss = mls::LossConfig::q2lCoco();  // main_mlc.py COCO command
    t.optimizer = "adamw";
    t.lr = 1e-4;
    t.weight_decay = 1e-2;
    t.schedule = "onecycle";
    t.ema_decay = 0.9997;
  } else {
    t.loss.kind = mls::LossKind::AN;  // MLSPL: Adam, fixed lr, no EMA
    t.optimizer = "adam";
    t.lr = 1e-5;
    t.weight_decay = 0;
    t.schedule = "constant";
    t.ema_decay = 0;
  }
  return t;
}

// Random images and targets, drawn on the CPU from the seed (as the PyTorch reference does) and kept on the
// device: Q2L gets multi-hot rows (~2.9 positives, COCO's mean), MLSPL one observed positive per row.
mls::Batch randomBatch(const Options& o, int batch, c10::Device device, bool channels_last) {
  torch::manual_seed(o.seed + 1);
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  auto images = torch::randn({batch, 3, o.image_size, o.image_size}, f32);
  torch::Tensor targets;
  if (o.method == "q2l") {
    targets = (torch::rand({batch, o.classes}, f32) < 2.9 / o.classes).to(torch::kFloat32);
  } else {
    targets = torch::zeros({batch, o.classes}, f32);
    targets.scatter_(1, torch::randint(o.classes, {batch, 1}, torch::kLong), 1.0);
  }
  images = images.to(device);
  if (channels_last) images = images.contiguous(at::MemoryFormat::ChannelsLast);
  return {images, targets.to(device), torch::arange(batch, torch::kLong)};
}

Result runOne(const Options& o, const Config& c, c10::Device device) {
  const int batch = c.batch;
  torch::manual_seed(o.seed);
  auto model = mls::buildModel(modelSpec(o));
  Result r;
  for (const auto& p : model->parameters()) {
    r.params += p.numel();
    if (p.requires_grad()) r.trainable += p.numel();
  }
  resetPeakMemory(device);
  StepTimer timer(device, o.warmup, o.steps, o.verbose);
  // Moves the model to the device (and to NHWC with channels_last).
  mls::Trainer trainer(model, trainerOptions(o, c), &timer);
  RepeatedBatchSource source(randomBatch(o, batch, device, c.channels_last), o.warmup + o.steps);
  trainer.fit(source, nullptr);
  readPeakMemory(device, r);
  r.seconds = timer.seconds();
  r.images_per_s = static_cast<double>(o.steps) * batch / r.seconds;
  r.final_loss = timer.lastLoss();
  const auto steps = timer.stepSeconds();
  r.median_step_s =
      steps.size() % 2 ? steps[steps.size() / 2] : 0.5 * (steps[steps.size() / 2 - 1] + steps[steps.size() / 2]);
  r.best_step_s = steps.front();
  r.phases = timer.meanPhases();
  return r;
}

// 1-minute load average (Linux), -1 elsewhere: CPU numbers from a busy machine need this context. With
// more runnable threads than cores, OpenMP regions wait for descheduled workers and multi-threaded steps
// slow down many times over (measured: 2 threads on 2 busy cores ran ~10x slower than 1 thread).
double loadAverage() {
  std::ifstream in("/proc/loadavg");
  double load = -1;
  return in >> load ? load : -1;
}

std::string jsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parseArgs(argc, argv);
  if (o.threads > 0) torch::set_num_threads(o.threads);
  c10::Device device(c10::kCPU);
  try {
    device = mls::resolveDevice(o.device);
  } catch (const std::exception& e) {
    std::cerr << "bench_ml_train_step: " << e.what() << "\n";
    return 2;
  }
  // The official main_mlc.py sets cudnn.benchmark = True: fixed input sizes, so autotuning pays.
  if (device.is_cuda()) at::globalContext().setBenchmarkCuDNN(true);
  const std::string device_text = mls::describeDevice(o.device);
  std::cout << "LibTorch " << TORCH_VERSION_MAJOR << "." << TORCH_VERSION_MINOR << "." << TORCH_VERSION_PATCH << " on "
            << device_text << ", " << torch::get_num_threads() << " threads; " << o.method << " " << o.backbone << " ("
            << o.preset << " preset), " << o.image_size << " px, " << o.steps << " timed steps after " << o.warmup
            << " warm-up; load average " << loadAverage() << "\n";

  std::vector<Config> configs;
  for (int batch : o.batches)
    for (const auto& amp : o.amps)
      for (bool cl : o.channels_last)
        for (bool ckpt : o.checkpoint) configs.push_back({batch, amp, cl, ckpt});

  int failures = 0;
  for (const auto& c : configs) {
    const int batch = c.batch;
    if (c.amp != "off" && !device.is_cuda()) {
      std::cout << "skip: AMP " << c.amp << " needs CUDA\n";
      continue;
    }
    Result r;
    std::string error;
    try {
      r = runOne(o, c, device);
    } catch (const std::exception& e) {  // e.g. CUDA out of memory: report it and go on with the rest
      error = e.what();
      ++failures;
    }
    std::ostringstream line, json;
    line << "batch " << batch;
    if (o.grad_accum > 1) line << " x " << o.grad_accum << " accumulated";
    line << " amp " << c.amp << (c.channels_last ? " channels-last" : " contiguous")
         << (c.checkpoint ? " checkpointed" : "") << ": ";
    if (error.empty()) {
      line.setf(std::ios::fixed);
      line.precision(1);
      line << r.images_per_s << " img/s (" << 1000.0 * r.seconds / o.steps << " ms/step; median step "
           << 1000.0 * r.median_step_s << " ms = " << batch / r.median_step_s << " img/s)";
      if (r.peak_allocated_mib >= 0)
        line << ", peak " << r.peak_allocated_mib << " MiB allocated / " << r.peak_reserved_mib << " MiB reserved";
      if (o.profile)
        line << ", phases ms: data " << 1000 * r.phases.data << " transfer " << 1000 * r.phases.transfer << " forward "
             << 1000 * r.phases.forward << " backward " << 1000 * r.phases.backward << " optimizer "
             << 1000 * r.phases.optimizer;
      line.precision(4);
      line << ", params " << r.params << " (" << r.trainable << " trainable), last loss " << r.final_loss;
    } else {
      line << "FAILED: " << error.substr(0, error.find('\n'));
    }
    std::cout << line.str() << "\n";
    json << "{\"bench\":\"train_step\",\"impl\":\"cpp\",\"torch\":\"" << TORCH_VERSION_MAJOR << "."
         << TORCH_VERSION_MINOR << "." << TORCH_VERSION_PATCH << "\",\"device\":\"" << jsonEscape(device.str())
         << "\",\"threads\":" << torch::get_num_threads() << ",\"method\":\"" << o.method << "\",\"backbone\":\""
         << jsonEscape(o.backbone) << "\",\"preset\":\"" << o.preset << "\",\"image_size\":" << o.image_size
         << ",\"batch\":" << batch << ",\"classes\":" << o.classes << ",\"amp\":\"" << c.amp
         << "\",\"channels_last\":" << (c.channels_last ? "true" : "false")
         << ",\"checkpoint\":" << (c.checkpoint ? "true" : "false") << ",\"grad_accum\":" << o.grad_accum
         << ",\"foreach\":" << (o.foreach ? "true" : "false") << ",\"profile\":" << (o.profile ? "true" : "false")
         << ",\"steps\":" << o.steps << ",\"warmup\":" << o.warmup << ",\"load_avg\":" << loadAverage()
         << ",\"params\":" << r.params << ",\"trainable_params\":" << r.trainable;
    if (error.empty()) {
      json << ",\"seconds\":" << r.seconds << ",\"images_per_s\":" << r.images_per_s
           << ",\"ms_per_step\":" << 1000.0 * r.seconds / o.steps
           << ",\"median_ms_per_step\":" << 1000.0 * r.median_step_s
           << ",\"best_ms_per_step\":" << 1000.0 * r.best_step_s
           << ",\"median_images_per_s\":" << batch / r.median_step_s << ",\"final_loss\":" << r.final_loss;
      if (r.peak_allocated_mib >= 0)
        json << ",\"peak_allocated_mib\":" << r.peak_allocated_mib << ",\"peak_reserved_mib\":" << r.peak_reserved_mib;
      if (o.profile)
        json << ",\"phase_ms\":{\"data\":" << 1000 * r.phases.data << ",\"transfer\":" << 1000 * r.phases.transfer
             << ",\"forward\":" << 1000 * r.phases.forward << ",\"backward\":" << 1000 * r.phases.backward
             << ",\"optimizer\":" << 1000 * r.phases.optimizer << "}";
    } else {
      json << ",\"error\":\"" << jsonEscape(error.substr(0, error.find('\n'))) << "\"";
    }
    json << "}";
    std::cout << json.str() << std::endl;
  }
  return failures == 0 ? 0 : 1;
}
