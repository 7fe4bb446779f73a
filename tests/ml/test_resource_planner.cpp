// The resource planner's arithmetic on small models: the items add up to the peak, memory grows with the
// batch and the image size, checkpointing and mixed precision lower the activations, the layer rules match
// what autograd really keeps (counting allocator), the fit search returns configurations that fit, cheapest
// first, and the probe calibrates the plan to what it measured.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include "ml/models/multilabel_model.h"
#include "ml/planning/counting_cpu_allocator.h"
#include "ml/planning/model_cost.h"
#include "ml/planning/resource_planner.h"
#include "ml/planning/step_probe.h"
#include "ml/training/training_types.h"

using namespace mls;

namespace {

std::shared_ptr<MultiLabelModel> model(const std::string& method, const std::string& backbone, int classes = 10,
                                       bool frozen = false) {
  torch::manual_seed(5);
  ModelSpec spec;
  spec.method = parseMethod(method);
  spec.backbone = backbone;
  spec.num_classes = classes;
  spec.image_size = 64;
  spec.small_q2l = true;
  spec.frozen_bn = frozen;
  spec.freeze_stem = frozen;
  return buildModel(spec);
}

PlanSettings settings(int64_t batch, int64_t size) {
  PlanSettings s;
  s.device = "cpu";
  s.batch = batch;
  s.image_size = size;
  s.ema = true;
  s.train_images = 1000;
  return s;
}

int64_t sumOfItems(const MemoryItems& m, bool cuda) {
  return m.weights + m.gradients + m.optimizer_state + m.ema + m.label_estimator + m.activations + m.transient +
         m.runtime + (cuda ? 0 : m.loader);
}

// What autograd keeps at the end of a training-mode forward pass of `images.size(0)` images (input included).
int64_t heldAfterForward(MultiLabelModel& m, int64_t batch, int64_t size) {
  static CountingCpuAllocator counter(c10::GetDefaultCPUAllocator());
  m.train();
  int64_t held = 0;
  {
    CpuAllocatorScope scope(counter);
    const int64_t before = counter.current();
    auto images = torch::randn({batch, 3, size, size});
    auto logits = m.forward(images).logits;
    held = counter.current() - before;
  }
  return held;
}

}  // namespace

class TestResourcePlanner : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }

  void itemsAddUpToThePeak() {
    ResourcePlanner planner(model("q2l", "tiny"));
    for (const char* device : {"cpu", "cuda"}) {
      auto s = settings(8, 64);
      s.device = device;
      s.label_estimator_elements = 1000 * 10;
      const auto p = planner.plan(s);
      QCOMPARE(p.peak_bytes, sumOfItems(p.memory, s.onCuda()));
      QVERIFY(p.memory.weights > 0 && p.memory.activations > 0 && p.memory.transient > 0 && p.memory.loader > 0);
      QVERIFY(p.memory.gradients > 0 && p.memory.gradients <= planner.cost(s).trainable_bytes);
      QCOMPARE(p.memory.optimizer_state, 2 * planner.cost(s).trainable_bytes);  // Adam's two moments
      QCOMPARE(p.memory.label_estimator, int64_t{1000 * 10 * 16});
      QVERIFY(p.time.step_seconds > 0);
      QCOMPARE(p.time.epoch_seconds, std::ceil(1000.0 / 8.0) * p.time.step_seconds);
    }
    // The CUDA plan keeps the loader's pinned buffers off the card and adds the context.
    auto s = settings(8, 64);
    s.device = "cuda";
    const auto p = planner.plan(s);
    QVERIFY(p.memory.runtime > 0);
    QCOMPARE(p.peak_bytes, sumOfItems(p.memory, true));
  }

  void peakGrowsWithBatchAndImageSize() {
    for (const auto& [method, backbone] : {std::pair{"q2l", "tiny"}, std::pair{"mlspl", "resnet18"}}) {
      ResourcePlanner planner(model(method, backbone));
      int64_t last = 0;
      for (int64_t b : {1, 2, 4, 8, 16, 32}) {
        const auto p = planner.plan(settings(b, 64));
        QVERIFY2(p.peak_bytes > last, backbone);  // at batch 1 the optimizer step may be the peak (no activations)
        QVERIFY(p.per_image_bytes > 0);
        last = p.peak_bytes;
      }
      last = 0;
      double last_flop = 0;
      for (int64_t size : {32, 64, 96, 128}) {
        const auto p = planner.plan(settings(4, size));
        QVERIFY2(p.peak_bytes > last, backbone);
        QVERIFY(p.time.forward_gflop > last_flop);
        last = p.peak_bytes;
        last_flop = p.time.forward_gflop;
      }
    }
  }

  void checkpointingAndHalfPrecisionLowerActivations() {
    ResourcePlanner planner(model("mlspl", "resnet18"));
    auto plain = settings(8, 128);
    auto checkpointed = plain;
    checkpointed.checkpoint_backbone = true;
    const auto a = planner.plan(plain), b = planner.plan(checkpointed);
    QVERIFY2(b.memory.activations * 2 < a.memory.activations,
             qPrintable(QString::fromStdString(formatBytes(b.memory.activations) + " vs " + formatBytes(a.memory.activations))));
    QVERIFY(b.time.backward_gflop > a.time.backward_gflop);  // the recomputation
    QCOMPARE(b.time.forward_gflop, a.time.forward_gflop);
    // Mixed precision halves what is kept on CUDA; on the CPU the trainer runs float32, and so does the plan.
    auto cuda = plain;
    cuda.device = "cuda";
    auto cuda_half = cuda;
    cuda_half.amp = true;
    cuda_half.amp_dtype = "bf16";
    QVERIFY(planner.cost(cuda_half).activation_bytes_per_image < planner.cost(cuda).activation_bytes_per_image * 0.6);
    auto cpu_amp = plain;
    cpu_amp.amp = true;
    QCOMPARE(planner.plan(cpu_amp).memory.activations, a.memory.activations);
  }

  // The layer rules against what autograd really keeps, per image (two batches: the slope).
  void layerRulesMatchAutograd_data() {
    QTest::addColumn<QString>("method");
    QTest::addColumn<QString>("backbone");
    QTest::addColumn<bool>("frozen");
    QTest::addColumn<int>("size");
    QTest::newRow("q2l tiny 64") << "q2l" << "tiny" << false << 64;
    QTest::newRow("q2l resnet18 96") << "q2l" << "resnet18" << false << 96;
    QTest::newRow("mlspl resnet18 64") << "mlspl" << "resnet18" << false << 64;
    QTest::newRow("q2l resnet18 224") << "q2l" << "resnet18" << false << 224;
    QTest::newRow("mlspl resnet50 frozen BN + stem 64") << "mlspl" << "resnet50" << true << 64;
  }
  void layerRulesMatchAutograd() {
    QFETCH(QString, method);
    QFETCH(QString, backbone);
    QFETCH(bool, frozen);
    QFETCH(int, size);
    auto m = model(method.toStdString(), backbone.toStdString(), 10, frozen);
    CostQuery q;
    q.image_size = size;
    const auto cost = modelCost(*m, q);
    const double measured = static_cast<double>(heldAfterForward(*m, 4, size) - heldAfterForward(*m, 2, size)) / 2.0;
    const double predicted = static_cast<double>(cost.activation_bytes_per_image);
    qInfo("%s: predicted %.0f, measured %.0f bytes per image (%+.1f %%)", qPrintable(method + " " + backbone), predicted,
          measured, 100.0 * (predicted / measured - 1.0));
    QVERIFY2(std::abs(predicted / measured - 1.0) < 0.10,
             qPrintable(QString("predicted %1, measured %2 bytes per image").arg(predicted).arg(measured)));
  }

  void fitListsConfigurationsThatFitCheapestFirst() {
    ResourcePlanner planner(model("mlspl", "resnet18"));
    auto base = settings(32, 128);
    base.device = "cuda";
    const auto all = planner.plan(base);
    auto one = base;
    one.batch = 1;
    const int64_t budget = (all.peak_bytes + planner.plan(one).peak_bytes) / 2;  // batch 32 in one go does not fit
    const auto fit = planner.fit(base, budget, 32);
    QVERIFY(!fit.candidates.empty());
    double last = 0;
    for (const auto& c : fit.candidates) {
      QVERIFY(c.plan.peak_bytes <= budget);
      QCOMPARE(c.settings.batch * c.settings.grad_accum, int64_t{32});
      QVERIFY(c.plan.time.epoch_seconds >= last);
      last = c.plan.time.epoch_seconds;
      QVERIFY(c.flags.find("--batch " + std::to_string(c.settings.batch)) == 0);
    }
    QVERIFY(fit.largest_batch >= 1);
    // The largest batch fits and one more does not (with the leanest options it names).
    PlanSettings s = base;
    s.amp = fit.largest_batch_flags.find("--amp-dtype") != std::string::npos;
    s.amp_dtype = fit.largest_batch_flags.find("bf16") != std::string::npos ? "bf16" : "fp16";
    s.checkpoint_backbone = fit.largest_batch_flags.find("--checkpoint-backbone") != std::string::npos;
    s.channels_last = fit.largest_batch_flags.find("--channels-last") != std::string::npos;
    s.batch = fit.largest_batch;
    QVERIFY(planner.plan(s).peak_bytes <= budget);
    s.batch += 1;
    QVERIFY(planner.plan(s).peak_bytes > budget);
    // A budget below the weights fits nothing.
    const auto none = planner.fit(base, all.memory.weights / 2, 32);
    QVERIFY(none.candidates.empty());
    QCOMPARE(none.largest_batch, int64_t{0});
  }

  void memorySizes() {
    QCOMPARE(parseMemorySize("12GiB"), int64_t{12} << 30);
    QCOMPARE(parseMemorySize("12 GB"), int64_t{12} << 30);
    QCOMPARE(parseMemorySize("800MiB"), int64_t{800} << 20);
    QCOMPARE(parseMemorySize("1.5g"), int64_t{3} << 29);
    for (const char* bad : {"", "abc", "-3GiB", "12 parsecs", "0"}) QVERIFY_THROWS_EXCEPTION(std::invalid_argument, parseMemorySize(bad));
    QCOMPARE(QString::fromStdString(formatBytes(int64_t{3} << 29)), QString("1.50 GiB"));
  }

  // The probe's measurement calibrates the plan: at the probed batches the calibrated peak is what was measured.
  void probeCalibratesThePlan() {
    auto m = model("q2l", "tiny");
    ResourcePlanner planner(m);
    auto s = settings(8, 32);
    s.ema = false;
    ProbeRequest request;
    request.trainer.device = "cpu";
    request.trainer.lr = 1e-3;
    request.image_size = 32;
    request.num_classes = 10;
    request.batches = {2, 4};
    const auto measured = probeSteps([] { return model("q2l", "tiny"); }, request);
    QCOMPARE(measured.size(), size_t{2});
    QVERIFY(measured[1].peak_bytes > measured[0].peak_bytes);
    QVERIFY(measured[0].step_seconds > 0);
    const auto cal = calibrationFrom(planner, s, measured, "CPU");
    QVERIFY(cal.valid);
    QVERIFY(cal.gflops_per_second > 0);
    for (const auto& point : measured) {
      auto at = s;
      at.batch = point.batch;
      at.loader_prefetch = 0;
      const auto p = planner.plan(at, &cal);
      QVERIFY(p.calibrated);
      QVERIFY2(std::abs(static_cast<double>(p.peak_bytes - point.peak_bytes)) <= 0.02 * static_cast<double>(point.peak_bytes),
               qPrintable(QString("calibrated %1 vs measured %2").arg(p.peak_bytes).arg(point.peak_bytes)));
    }
  }
};

QTEST_GUILESS_MAIN(TestResourcePlanner)
#include "test_resource_planner.moc"
