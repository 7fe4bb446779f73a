// The trainer's memory and speed options: activation checkpointing of the backbone (same outputs,
// gradients and BatchNorm statistics as without it, and less peak memory, measured with a counting CPU
// allocator), the multi-tensor Adam/AdamW update against torch::optim's own step, channels-last models,
// and per-phase step profiling.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <cmath>
#include <map>

#include "../support/counting_cpu_allocator.h"
#include "../support/tensor_compare.h"
#include "ml/autocast_guard.h"
#include "ml/models/activation_checkpoint.h"
#include "ml/models/backbone.h"
#include "ml/models/query2label.h"
#include "ml/models/resnet.h"
#include "ml/models/tiny_cnn.h"
#include "ml/tensor_batch_source.h"
#include "ml/training/grouped_optimizer.h"
#include "ml/training/module_state.h"
#include "ml/training/trainer.h"

using namespace mls;
using test::maxAbs;
using test::maxAbsDiff;

namespace {

std::shared_ptr<Backbone> makeNamed(const std::string& name, bool frozen) {
  if (name == "tiny") {
    TinyCnnOptions o;
    o.widths = {8, 16, 24};
    return std::make_shared<TinyCnn>(o);
  }
  ResNetOptions o;
  o.depth = resnetDepthFromName(name);
  o.frozen_bn = frozen;
  o.freeze_stem = frozen;
  return std::make_shared<ResNet>(o);
}

// Two identical copies of a backbone, the second one checkpointed.
std::pair<std::shared_ptr<Backbone>, std::shared_ptr<Backbone>> twins(const std::string& name, bool frozen) {
  torch::manual_seed(7);
  auto plain = makeNamed(name, frozen);
  auto checkpointed = makeNamed(name, frozen);
  copyState(*checkpointed, cloneState(*plain));
  if (frozen) {  // frozen BN starts as the identity map: give it values that matter
    torch::NoGradGuard no_grad;
    for (auto& b : plain->buffers()) b.uniform_(0.5, 1.5);
    copyState(*checkpointed, cloneState(*plain));
  }
  checkpointed->setActivationCheckpointing(true);
  plain->train();
  checkpointed->train();
  return {plain, checkpointed};
}

struct StepMemory {
  int64_t held_after_forward = 0;  // what autograd keeps for backward (what checkpointing trims)
  int64_t peak = 0;                // of the whole forward + backward, weight gradients included
};

// CPU tensor memory of one forward + backward.
StepMemory memoryOfStep(Backbone& backbone, const torch::Tensor& x) {
  static test::CountingCpuAllocator counter(c10::GetDefaultCPUAllocator());
  int64_t peak = 0, held_after_forward = 0;
  {
    test::CpuAllocatorScope scope(counter);
    counter.resetPeak();
    const int64_t before = counter.current();
    auto out = backbone.forward(x);
    held_after_forward = counter.current() - before;
    out.pow(2).mean().backward();
    peak = counter.peak() - before;
  }
  for (auto& p : backbone.parameters()) p.mutable_grad().reset();
  return {held_after_forward, peak};
}

// Blob-like synthetic images: enough for a few optimizer steps to compare training trajectories.
std::pair<torch::Tensor, torch::Tensor> smallImages(int n, int classes) {
  torch::manual_seed(3);
  auto images = torch::randn({n, 3, 16, 16});
  auto targets = (torch::rand({n, classes}) < 0.4).to(torch::kFloat);
  return {images, targets};
}

std::shared_ptr<MultiLabelModel> smallQ2L(int classes) {
  torch::manual_seed(11);
  TinyCnnOptions o;
  o.widths = {16, 32, 48};
  o.double_conv = false;
  auto c = Q2LConfig::smallCpu(classes);
  c.transformer.d_model = 32;
  c.transformer.dim_feedforward = 64;
  return std::make_shared<Query2Label>(std::make_shared<TinyCnn>(o), c);
}

struct StepLog : TrainObserver {
  std::vector<StepInfo> steps;
  std::vector<std::string> warnings;
  void onStep(const StepInfo& s) override { steps.push_back(s); }
  void onMessage(MessageLevel level, const std::string& text) override {
    if (level == MessageLevel::Warning) warnings.push_back(text);
  }
};

std::vector<StepInfo> trainSteps(const TrainerOptions& options, std::shared_ptr<MultiLabelModel>* model_out = nullptr) {
  const auto [images, targets] = smallImages(24, 5);
  auto model = smallQ2L(5);
  StepLog log;
  Trainer trainer(model, options, &log);
  TensorBatchSource source(images, targets, 8, /*shuffle=*/true, 5);
  trainer.fit(source, nullptr);
  if (model_out) *model_out = model;
  return log.steps;
}

TrainerOptions baseOptions() {
  TrainerOptions o;
  o.device = "cpu";
  o.epochs = 2;
  o.lr = 1e-3;
  o.ema_decay = 0.9;
  return o;
}

}  // namespace

class TestStepOptions : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }

  void checkpointedBackboneMatchesPlain_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("frozen");
    QTest::newRow("tiny, trained BN") << "tiny" << false;
    QTest::newRow("resnet18, trained BN") << "resnet18" << false;
    QTest::newRow("resnet18, frozen BN + stem (Q2L)") << "resnet18" << true;
  }

  void checkpointedBackboneMatchesPlain() {
    QFETCH(QString, name);
    QFETCH(bool, frozen);
    auto [plain, checkpointed] = twins(name.toStdString(), frozen);
    QVERIFY(checkpointed->activationCheckpointing());
    torch::manual_seed(1);
    const auto x = torch::randn({2, 3, 64, 64});
    const auto a = plain->forward(x);
    const auto b = checkpointed->forward(x);
    QVERIFY(maxAbsDiff(a, b) < 1e-5 * (1 + maxAbs(a)));
    QVERIFY(b.requires_grad());
    const auto w = torch::randn_like(a);
    (a * w).sum().backward();
    (b * w).sum().backward();

    const auto pa = plain->named_parameters();
    const auto pb = checkpointed->named_parameters();
    int compared = 0;
    for (const auto& item : pa) {
      const auto& ga = item.value().grad();
      const auto& gb = pb[item.key()].grad();
      QCOMPARE(ga.defined(), gb.defined());
      if (!ga.defined()) continue;
      QVERIFY2(maxAbsDiff(ga, gb) <= 1e-4 * (1 + maxAbs(ga)), item.key().c_str());
      ++compared;
    }
    QVERIFY(compared > 0);
    // Running statistics advance once per step, as without checkpointing (not twice).
    const auto ba = plain->named_buffers();
    const auto bb = checkpointed->named_buffers();
    for (const auto& item : ba) QVERIFY2(maxAbsDiff(item.value(), bb[item.key()]) < 1e-6, item.key().c_str());
  }

  // The recomputation runs in the autocast state of the forward, whatever the state where backward is called.
  void recomputationUsesTheForwardAutocastState() {
    torch::nn::Linear layer(4, 4);
    std::vector<bool> seen;
    const SegmentForward f = [&](const torch::Tensor& t) {
      seen.push_back(currentCudaAutocast().enabled);
      return layer->forward(t);
    };
    const auto x = torch::randn({2, 4});
    auto out = checkpointSegment({layer.ptr().get()}, f, x);  // forward with autocast off
    {
      AutocastGuard amp(true, c10::ScalarType::BFloat16);
      out.sum().backward();
    }
    QCOMPARE(seen, (std::vector<bool>{false, false}));
    seen.clear();
    {
      AutocastGuard amp(true, c10::ScalarType::BFloat16);
      out = checkpointSegment({layer.ptr().get()}, f, x);  // forward with autocast on
    }
    out.sum().backward();
    QCOMPARE(seen, (std::vector<bool>{true, true}));
    QVERIFY(!currentCudaAutocast().enabled);
  }

  // CPU autocast too (as torch.utils.checkpoint): a bf16 forward recomputed in float32 would meet bf16
  // activations and float32 biases ("Input type (c10::BFloat16) and bias type (float) should be the same").
  void recomputationUsesTheForwardCpuAutocastState() {
    torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 3, 3));
    std::vector<bool> seen;
    const SegmentForward f = [&](const torch::Tensor& t) {
      seen.push_back(currentAutocast(c10::DeviceType::CPU).enabled);
      return conv->forward(t);
    };
    const auto x = torch::randn({2, 3, 8, 8});
    torch::Tensor out;
    {
      AutocastStateGuard cpu_bf16({true, c10::ScalarType::BFloat16}, c10::DeviceType::CPU);
      out = checkpointSegment({conv.ptr().get()}, f, conv->forward(x));
    }
    QCOMPARE(out.scalar_type(), c10::ScalarType::BFloat16);
    out.to(torch::kFloat).sum().backward();  // outside autocast, as the trainer's backward
    QCOMPARE(seen, (std::vector<bool>{true, true}));
    QVERIFY(conv->weight.grad().defined());
    QVERIFY(!currentAutocast(c10::DeviceType::CPU).enabled);
  }

  void checkpointingIsAPlainForwardOutsideTraining() {
    auto [plain, checkpointed] = twins("resnet18", false);
    plain->eval();
    checkpointed->eval();
    const auto x = torch::randn({1, 3, 64, 64});
    QVERIFY(maxAbsDiff(plain->forward(x), checkpointed->forward(x)) < 1e-6);
    checkpointed->train();
    torch::NoGradGuard no_grad;
    QVERIFY(!checkpointed->forward(x).requires_grad());
  }

  // Where activations outweigh the weight gradients (the Q2L-R101-448 case on a GPU: gigabytes of
  // activations against ~170 MB of gradients), checkpointing cuts the peak. The tiny CNN at 128 px has
  // that balance on a CPU budget; ResNet-18 at 448 px too, at a few seconds.
  void checkpointingLowersPeakMemory_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("batch");
    QTest::addColumn<int>("side");
    QTest::newRow("tiny CNN, 16 x 128 px") << "tiny-default" << 16 << 128;
    QTest::newRow("resnet18 frozen BN + stem, 2 x 448 px") << "resnet18" << 2 << 448;
    QTest::newRow("resnet101 frozen BN + stem, 1 x 448 px") << "resnet101" << 1 << 448;
  }

  void checkpointingLowersPeakMemory() {
    QFETCH(QString, name);
    QFETCH(int, batch);
    QFETCH(int, side);
    std::shared_ptr<Backbone> plain, checkpointed;
    if (name == "tiny-default") {
      torch::manual_seed(7);
      plain = std::make_shared<TinyCnn>();
      checkpointed = std::make_shared<TinyCnn>();
      checkpointed->setActivationCheckpointing(true);
    } else {
      std::tie(plain, checkpointed) = twins(name.toStdString(), true);
    }
    const auto x = torch::randn({batch, 3, side, side});
    const auto without = memoryOfStep(*plain, x);
    const auto with = memoryOfStep(*checkpointed, x);
    int64_t grad_bytes = 0;
    for (const auto& p : plain->parameters())
      if (p.requires_grad()) grad_bytes += p.numel() * 4;
    const double mib = 1048576.0;
    qInfo("%s: kept for backward %.1f MiB plain, %.1f MiB checkpointed; peak %.1f vs %.1f MiB (weight gradients: %.1f MiB)",
          QTest::currentDataTag(), without.held_after_forward / mib, with.held_after_forward / mib, without.peak / mib,
          with.peak / mib, grad_bytes / mib);
    QVERIFY(without.held_after_forward > 0);
    QVERIFY2(with.held_after_forward < without.held_after_forward / 2, "checkpointing should at least halve the kept activations");
    QVERIFY(with.peak <= without.peak * 1.15);  // recomputing one segment must not cost more than it saves
  }

  // Frozen BN folded into the preceding convolution: same outputs and gradients as conv then norm.
  void foldedFrozenNormMatchesUnfolded() {
    torch::manual_seed(9);
    ResNetOptions o;
    o.depth = 50;
    o.frozen_bn = true;
    o.freeze_stem = true;
    o.fold_frozen_bn = false;
    auto unfolded = std::make_shared<ResNet>(o);
    {
      torch::NoGradGuard no_grad;
      for (auto& b : unfolded->buffers()) b.uniform_(0.5, 1.5);
    }
    o.fold_frozen_bn = true;
    auto folded = std::make_shared<ResNet>(o);
    copyState(*folded, cloneState(*unfolded));
    // float64: through 50 layers of random frozen norms, float32 rounding alone differed by more than 1e-3
    // between the two association orders on some CPUs (AMD EPYC oneDNN kernels); the math must agree exactly.
    unfolded->to(torch::kDouble);
    folded->to(torch::kDouble);
    const auto x = torch::randn({2, 3, 96, 96}, torch::kDouble);
    const auto a = unfolded->forward(x);
    torch::Tensor b;
    {
      // Trainable weights fold only under autocast (float32 training would keep a copy of W*s). CUDA
      // autocast leaves CPU tensors alone, so this runs the folded path in float32 on the CPU.
      AutocastGuard amp(true, c10::ScalarType::Half);
      b = folded->forward(x);
    }
    QVERIFY(maxAbsDiff(a, b) <= 1e-9 * (1 + maxAbs(a)));
    const auto w = torch::randn_like(a);
    (a * w).sum().backward();
    (b * w).sum().backward();
    const auto pa = unfolded->named_parameters();
    const auto pb = folded->named_parameters();
    int compared = 0;
    for (const auto& item : pa) {
      const auto& ga = item.value().grad();
      if (!ga.defined()) continue;
      QVERIFY2(maxAbsDiff(ga, pb[item.key()].grad()) <= 1e-8 * (1 + maxAbs(ga)), item.key().c_str());
      ++compared;
    }
    QCOMPARE(compared, 42);  // layer2-4 convolutions of ResNet-50
  }

  void torchScriptBackboneRefusesCheckpointing() {
    struct Plain : Backbone {
      torch::Tensor forward(const torch::Tensor& x) override { return x; }
      int64_t outChannels() const override { return 3; }
      int64_t stride() const override { return 1; }
    } backbone;
    QVERIFY(!backbone.setActivationCheckpointing(true));
    QVERIFY(!backbone.activationCheckpointing());
    QVERIFY(backbone.setActivationCheckpointing(false));
  }

  void foreachAdamMatchesTorchStep_data() {
    QTest::addColumn<QString>("kind");
    QTest::newRow("adamw") << "adamw";
    QTest::newRow("adam") << "adam";
  }

  void foreachAdamMatchesTorchStep() {
    QFETCH(QString, kind);
    torch::manual_seed(5);
    auto make = [] {
      return std::vector<torch::Tensor>{torch::randn({4, 3}).set_requires_grad(true), torch::randn({3}).set_requires_grad(true),
                                        torch::randn({2, 2}).set_requires_grad(true)};
    };
    auto ref = make();
    std::vector<torch::Tensor> fast;
    for (const auto& p : ref) fast.push_back(p.detach().clone().set_requires_grad(true));
    auto groups = [&](std::vector<torch::Tensor>& p) {
      return std::vector<ParamGroupSpec>{{"backbone", {p[0], p[1]}, 1.0, 0.05}, {"estimator", {p[2]}, 10.0, 0.0}};
    };
    GroupedOptimizer torch_step(kind.toStdString(), groups(ref), 1e-2, /*foreach=*/false);
    GroupedOptimizer foreach_step(kind.toStdString(), groups(fast), 1e-2, /*foreach=*/true);
    for (int step = 0; step < 6; ++step) {
      const double lr = 1e-2 * (1.0 + step), beta1 = 0.95 - 0.02 * step;  // a moving schedule, as OneCycle's
      torch_step.setLearningRate(lr, beta1);
      foreach_step.setLearningRate(lr, beta1);
      const auto g = torch::randn({4 * 3 + 3 + 4});
      auto assign = [&](std::vector<torch::Tensor>& p) {
        // The third tensor gets no gradient on odd steps: its state must not advance then.
        p[0].mutable_grad() = g.slice(0, 0, 12).view({4, 3}).clone();
        p[1].mutable_grad() = g.slice(0, 12, 15).clone();
        if (step % 2 == 0) p[2].mutable_grad() = g.slice(0, 15, 19).view({2, 2}).clone();
      };
      assign(ref);
      assign(fast);
      torch_step.step();
      foreach_step.step();
      torch_step.zeroGrad();
      foreach_step.zeroGrad();
      for (size_t i = 0; i < ref.size(); ++i) QVERIFY2(maxAbsDiff(ref[i], fast[i]) < 1e-6, qPrintable(QString::number(step)));
    }
    QVERIFY(!fast[0].grad().defined());  // zeroGrad sets to none

  }

  // The foreach update keeps its state in torch's own map under torch's keys: a checkpoint written after
  // foreach steps resumes in torch's per-parameter step exactly (and old checkpoints load into foreach).
  void foreachStateIsTorchState() {
    torch::manual_seed(6);
    const auto init = torch::randn({5, 4});
    auto straight = init.clone().set_requires_grad(true);
    auto mixed = init.clone().set_requires_grad(true);
    GroupedOptimizer reference("adamw", {{"head", {straight}, 1.0, 0.01}}, 1e-2, /*foreach=*/false);
    auto first = std::make_unique<GroupedOptimizer>("adamw", std::vector<ParamGroupSpec>{{"head", {mixed}, 1.0, 0.01}},
                                                    1e-2, /*foreach=*/true);
    std::vector<torch::Tensor> grads;
    for (int i = 0; i < 6; ++i) grads.push_back(torch::randn({5, 4}));
    for (int i = 0; i < 6; ++i) {
      straight.mutable_grad() = grads[static_cast<size_t>(i)].clone();
      reference.step();
    }
    for (int i = 0; i < 3; ++i) {
      mixed.mutable_grad() = grads[static_cast<size_t>(i)].clone();
      first->step();
    }
    torch::serialize::OutputArchive out;
    first->save(out);
    std::stringstream buffer;
    out.save_to(buffer);
    first.reset();
    GroupedOptimizer second("adamw", {{"head", {mixed}, 1.0, 0.01}}, 1e-2, /*foreach=*/false);
    torch::serialize::InputArchive in;
    in.load_from(buffer);
    second.load(in);
    for (int i = 3; i < 6; ++i) {
      mixed.mutable_grad() = grads[static_cast<size_t>(i)].clone();
      second.step();
    }
    QVERIFY(maxAbsDiff(straight, mixed) < 1e-6);
    QVERIFY(maxAbsDiff(straight, init) > 1e-2);  // it did move
  }

  void memoryOptionsTrainTheSameModel() {
    const auto baseline = trainSteps(baseOptions());
    TrainerOptions o = baseOptions();
    o.checkpoint_backbone = true;
    o.channels_last = true;
    o.foreach_optimizer = false;
    std::shared_ptr<MultiLabelModel> model;
    const auto steps = trainSteps(o, &model);
    QCOMPARE(steps.size(), baseline.size());
    QCOMPARE(steps.size(), size_t(6));
    for (size_t i = 0; i < steps.size(); ++i)
      QVERIFY2(std::abs(steps[i].loss - baseline[i].loss) <= 1e-4 * (1 + std::abs(baseline[i].loss)),
               qPrintable(QString("step %1: %2 vs %3").arg(i).arg(steps[i].loss).arg(baseline[i].loss)));
    QVERIFY(model->backbone().activationCheckpointing());
    int converted = 0;
    for (const auto& p : model->parameters())
      if (p.dim() == 4) {
        QVERIFY(p.is_contiguous(at::MemoryFormat::ChannelsLast));
        ++converted;
      }
    QVERIFY(converted > 0);
    // Phases are only measured on request.
    for (const auto& s : steps) QCOMPARE(s.phases.forward, 0.0);
  }

  void profiledStepsReportPhases() {
    TrainerOptions o = baseOptions();
    o.epochs = 1;
    o.profile_steps = true;
    const auto steps = trainSteps(o);
    QCOMPARE(steps.size(), size_t(3));
    for (const auto& s : steps) {
      QVERIFY(s.phases.forward > 0);
      QVERIFY(s.phases.backward > 0);
      QVERIFY(s.phases.optimizer > 0);
      QVERIFY(s.phases.data >= 0 && s.phases.transfer >= 0);
    }
  }
};

QTEST_GUILESS_MAIN(TestStepOptions)
#include "test_step_options.moc"
