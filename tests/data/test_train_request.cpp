// TrainRequest: per-method defaults, validation of user values, and the JSON round trip that lets eval,
// predict and --resume rebuild a run exactly as it was trained.
#include <QtTest/QtTest>
#include <cmath>

#include <stdexcept>
#include <thread>

#include "data/training/train_request.h"
#include "ml/device.h"

using namespace mls;

class TestTrainRequest : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void defaultsFollowTheMethod() {
    TrainRequest tiny;
    tiny.resolveDefaults();
    QCOMPARE(tiny.image_size, 64);
    QCOMPARE(tiny.batch, 32);
    QCOMPARE(tiny.epochs, 40);
    QCOMPARE(tiny.lr, 1e-3);

    TrainRequest q2l;
    q2l.backbone = "resnet101";
    q2l.resolveDefaults();
    QCOMPARE(q2l.image_size, 448);
    QCOMPARE(q2l.batch, 16);
    QCOMPARE(q2l.epochs, 80);
    QCOMPARE(q2l.lr, 1e-4);
    QCOMPARE(q2l.ema, 0.9997);
    QCOMPARE(q2l.early_stop, 8);

    TrainRequest mlspl;
    mlspl.method = Method::MLSPL;
    mlspl.loss = "role";
    mlspl.labels = "single";
    mlspl.backbone = "resnet50";
    mlspl.resolveDefaults();
    QCOMPARE(mlspl.batch, 8);
    QCOMPARE(mlspl.lr, 1e-5);
    QCOMPARE(mlspl.ema, 0.0);
  }

  void loaderThreadsDefaultToTheDevice() {
    TrainRequest cpu;
    cpu.device = "cpu";
    cpu.resolveDefaults();
    QCOMPARE(cpu.workers, 2);
    TrainRequest automatic;  // "auto": CUDA when present
    automatic.resolveDefaults();
    if (cudaAvailable()) {
      QVERIFY(automatic.workers >= 2 && automatic.workers <= 8);
      QVERIFY(automatic.workers <= std::max(2, static_cast<int>(std::thread::hardware_concurrency()) - 1));
    } else {
      QCOMPARE(automatic.workers, 2);
    }
    TrainRequest chosen;
    chosen.workers = 5;
    chosen.resolveDefaults();
    QCOMPARE(chosen.workers, 5);
    TrainRequest synchronous;
    synchronous.workers = 0;  // decode inside next(), no threads
    synchronous.resolveDefaults();
    QCOMPARE(synchronous.workers, 0);
  }

  void badValuesAreRejected() {
    auto rejects = [](const std::function<void(TrainRequest&)>& change, const char* needle) {
      TrainRequest r;
      change(r);
      try {
        r.resolveDefaults();
      } catch (const std::invalid_argument& e) {
        return QString(e.what()).contains(needle);
      }
      return false;
    };
    QVERIFY(rejects([](TrainRequest& r) { r.labels = "some"; }, "unknown label mode"));
    QVERIFY(rejects([](TrainRequest& r) { r.amp_dtype = "fp8"; }, "--amp-dtype"));
    QVERIFY(rejects([](TrainRequest& r) { r.grad_accum = 0; }, "--grad-accum"));
    QVERIFY(rejects([](TrainRequest& r) { r.image_size = 8; }, "--image-size"));
  }

  // A bad number is refused with the rule and the value, never replaced by the default (issue 11 §4.2).
  void outOfRangeValuesAreNotReplacedByDefaults() {
    auto message = [](const std::function<void(TrainRequest&)>& change) -> QString {
      TrainRequest r;
      change(r);
      try {
        r.resolveDefaults();
      } catch (const std::invalid_argument& e) {
        return QString::fromUtf8(e.what());
      }
      return {};
    };
    QCOMPARE(message([](TrainRequest& r) { r.lr = -1; }), QString("--lr must be > 0 (got -1)"));
    QCOMPARE(message([](TrainRequest& r) { r.epochs = -3; }), QString("--epochs must be >= 1 (got -3)"));
    QCOMPARE(message([](TrainRequest& r) { r.batch = -8; }), QString("--batch must be >= 1 (got -8)"));
    QVERIFY(message([](TrainRequest& r) { r.image_size = -64; }).startsWith("--image-size must be in [16, 2048]"));
    QVERIFY(message([](TrainRequest& r) { r.ema = 1.5; }).startsWith("--ema must be in [0, 1)"));
    QVERIFY(message([](TrainRequest& r) { r.ema = -0.5; }).startsWith("--ema must be in [0, 1)"));
    QVERIFY(message([](TrainRequest& r) { r.lr = std::nan(""); }).startsWith("--lr must be > 0"));
    QVERIFY(message([](TrainRequest& r) { r.expected_positives = -2; }).startsWith("--expected-positives"));
    QVERIFY(message([](TrainRequest& r) { r.linear_init = -1; }).startsWith("--linear-init"));
    QVERIFY(message([](TrainRequest& r) { r.early_stop = -5; }).startsWith("--early-stop"));
    QCOMPARE(message([](TrainRequest& r) { r.grad_accum = 0; }), QString("--grad-accum must be >= 1 (got 0)"));
    // The sentinels still mean "the method's default"; an explicit 0 is refused by the per-setting rule.
    QVERIFY(message([](TrainRequest&) {}).isEmpty());
    QVERIFY(message([](TrainRequest& r) { r.ema = 0; }).isEmpty());  // EMA off
    QVERIFY_EXCEPTION_THROWN(checkTrainSetting("--epochs", 0), std::invalid_argument);
    QVERIFY_EXCEPTION_THROWN(checkTrainSetting("--lr", 0), std::invalid_argument);
    checkTrainSetting("--lr", 1e-4);
    checkTrainSetting("--ema", 0.9997);
  }

  void lossMustFitMethodAndLabels() {
    auto refusal = [](const char* method, const char* loss, const char* labels) -> QString {
      TrainRequest r;
      r.method = parseMethod(method);
      r.loss = loss;
      r.labels = labels;
      try {
        r.checkLossChoice();
      } catch (const std::invalid_argument& e) {
        return QString::fromUtf8(e.what());
      }
      return {};
    };
    // ROLE, AN and EPR assume one observed positive per image: full labels are refused with the way out.
    QVERIFY(refusal("mlspl", "role", "full").contains("--labels single"));
    QVERIFY(refusal("mlspl", "an", "full").contains("single-positive loss"));
    QVERIFY(refusal("hybrid", "epr", "full").contains("--labels single"));
    QVERIFY(refusal("mlspl", "role", "single").isEmpty());
    QVERIFY(refusal("mlspl", "bce", "full").isEmpty());
    QVERIFY(refusal("q2l", "asl", "full").isEmpty());
    QVERIFY(refusal("hybrid", "role", "single").isEmpty());
    // The method's own losses only; the message lists them.
    QVERIFY(refusal("q2l", "role", "single").contains("--method hybrid"));
    QVERIFY(refusal("hybrid", "asl", "full").contains("an, an-ls, wan, epr or role"));
    QVERIFY(refusal("mlspl", "asl", "full").contains("bce"));
    for (const char* method : {"q2l", "mlspl", "hybrid"})
      for (const auto& loss : lossesForMethod(parseMethod(method)))
        QVERIFY(refusal(method, loss.c_str(), isSinglePositiveLoss(loss) ? "single" : "full").isEmpty());
    QVERIFY(isSinglePositiveLoss("AN_LS"));
    QVERIFY(!isSinglePositiveLoss("bce"));
  }

  void jsonRoundTripKeepsEveryTrainingChoice() {
    TrainRequest r;
    r.method = Method::Hybrid;
    r.loss = "role";
    r.labels = "single";
    r.backbone = "resnet50";
    r.amp = true;
    r.amp_dtype = "bf16";
    r.checkpoint_backbone = true;
    r.channels_last = true;
    r.grad_accum = 4;
    r.workers = 6;
    r.resolveDefaults();
    const auto back = TrainRequest::fromJson(r.toJson());
    QCOMPARE(back.method, r.method);
    QCOMPARE(back.loss, r.loss);
    QCOMPARE(back.labels, r.labels);
    QCOMPARE(back.backbone, r.backbone);
    QCOMPARE(back.image_size, r.image_size);
    QCOMPARE(back.batch, r.batch);
    QCOMPARE(back.epochs, r.epochs);
    QCOMPARE(back.amp, true);
    QCOMPARE(back.amp_dtype, std::string("bf16"));
    QCOMPARE(back.checkpoint_backbone, true);
    QCOMPARE(back.channels_last, true);
    QCOMPARE(back.grad_accum, 4);
    QCOMPARE(back.workers, 6);
    // Configs stored before these fields existed read back with the defaults.
    const auto old = TrainRequest::fromJson(R"({"method":"q2l","loss":"asl","backbone":"tiny"})");
    QCOMPARE(old.amp_dtype, std::string("fp16"));
    QCOMPARE(old.checkpoint_backbone, false);
    QCOMPARE(old.channels_last, false);
  }
};

QTEST_GUILESS_MAIN(TestTrainRequest)
#include "test_train_request.moc"
