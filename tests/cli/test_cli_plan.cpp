// mlstudio-cli plan: itemised JSON and text plans (a CUDA card planned on a machine without one, a demo
// project on the CPU), --fit's configurations and flags, the calibration probe, and one-line errors.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "cli_runner.h"

namespace {

QJsonObject jsonOf(const CliResult& r) {
  const auto doc = QJsonDocument::fromJson(r.out.trimmed());
  [&] { QVERIFY2(doc.isObject(), r.out.constData()); }();
  return doc.object();
}

qint64 sumOfItems(const QJsonObject& plan, bool cuda) {
  const auto m = plan["memory"].toObject();
  qint64 sum = 0;
  for (const char* item : {"weights", "gradients", "optimizer_state", "ema", "label_estimator", "activations", "transient", "runtime"})
    sum += m[item].toInteger();
  if (!cuda) sum += m["loader"].toInteger();
  return sum;
}

}  // namespace

class TestCliPlan : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  QString project_;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    const auto r = runCli({"demo", "--out", dir_.path() + "/demo", "--train", "40", "--val", "10", "--size", "32"});
    QVERIFY2(r.code == 0, r.err.constData());
    project_ = dir_.path() + "/demo/demo.mlsproj";
  }

  // The official Q2L-R101-448 recipe on a 12 GiB card, planned here without a GPU.
  void cudaPlanAndFitWithoutAGpu() {
    const auto r = runCli({"plan", "--method", "q2l", "--backbone", "resnet101", "--weights", "r101.pt", "--device",
                           "cuda", "--memory", "12GiB", "--batch", "16", "--grad-accum", "4", "--classes", "80",
                           "--train-images", "82783", "--fit", "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const auto plan = jsonOf(r);
    QCOMPARE(plan["peak_bytes"].toInteger(), sumOfItems(plan, true));
    QCOMPARE(plan["budget_bytes"].toInteger(), qint64(12) << 30);
    QCOMPARE(plan["calibrated"].toBool(), false);
    QVERIFY(plan["memory"].toObject()["activations"].toInteger() > 0);
    QVERIFY(plan["memory"].toObject()["runtime"].toInteger() > 0);    // CUDA context
    QVERIFY(plan["memory"].toObject()["loader"].toInteger() > 0);     // pinned host memory, not on the card
    QVERIFY(plan["time"].toObject()["epoch_seconds"].toDouble() > 0);
    QCOMPARE(plan["settings"].toObject()["batch"].toInteger(), qint64(16));
    const auto fit = plan["fit"].toObject();
    QCOMPARE(fit["target_batch"].toInteger(), qint64(64));
    const auto candidates = fit["candidates"].toArray();
    QVERIFY(!candidates.isEmpty());
    for (const auto& c : candidates) {
      const auto o = c.toObject();
      QVERIFY(o["peak_bytes"].toInteger() <= fit["budget_bytes"].toInteger());
      QCOMPARE(o["settings"].toObject()["batch"].toInteger() * o["settings"].toObject()["grad_accum"].toInteger(), qint64(64));
    }
    QVERIFY(fit["flags"].toString().startsWith("--batch "));
    QVERIFY(fit["largest_batch"].toInteger() >= 1);

    // The text form names every item and prints the flags to use.
    const auto text = runCli({"plan", "--method", "q2l", "--backbone", "resnet101", "--device", "cuda", "--memory",
                              "12GiB", "--classes", "80", "--fit"});
    QVERIFY2(text.code == 0, text.err.constData());
    for (const char* part : {"peak memory", "weights", "gradients", "optimizer state", "activations for backward",
                             "largest transient", "loader buffers", "step time", "uncalibrated", "use: --batch",
                             "largest batch that fits"})
      QVERIFY2(text.out.contains(part), text.out.constData());
  }

  void demoProjectOnTheCpu() {
    const auto r = runCli({"plan", "--project", project_, "--device", "cpu"});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY2(r.out.contains("epoch time"), r.out.constData());
    QVERIFY2(r.out.contains("40 training images"), r.out.constData());
    QVERIFY2(!r.out.contains("CUDA context"), r.out.constData());
  }

  void probeCalibratesOnTheCpu() {
    const auto r = runCli({"plan", "--project", project_, "--device", "cpu", "--image-size", "32", "--probe", "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const auto plan = jsonOf(r);
    QVERIFY(plan["calibrated"].toBool());
    bool said = false;
    for (const auto& n : plan["notes"].toArray()) said = said || n.toString().startsWith("calibrated: probe on CPU");
    QVERIFY2(said, r.out.constData());
  }

  void badInputIsOneLine() {
    expectCliError({"plan", "--project", project_, "--memory", "lots"}, "--memory must be a positive size");
    expectCliError({"plan", "--method", "q2l", "--backbone", "tiny", "--device", "cuda:7", "--fit"}, "--fit needs --memory");
    expectCliError({"plan", "--method", "q2l", "--backbone", "tiny", "--device", "cuda:7", "--probe"}, "is not available here");
    expectCliError({"plan", "--method", "q2l", "--backbone", "tiny", "--batch", "0"}, "--batch");
    expectCliError({"plan", "--method", "q2l", "--backbone", "torchscript:/nonexistent.pt"}, "error");
    // A budget that holds nothing.
    expectCliError({"plan", "--method", "mlspl", "--loss", "bce", "--backbone", "resnet50", "--device", "cuda", "--memory",
                    "100MiB", "--fit"},
                   "no configuration reaches effective batch");
  }
};

QTEST_GUILESS_MAIN(TestCliPlan)
#include "test_cli_plan.moc"
