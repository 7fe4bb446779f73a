// trainArguments (the Train tab's request as `mlstudio-cli train` flags) read back by the CLI's own train
// flags (app/cli/train_flags.cpp, compiled into this test): every request comes back as the same request.
#include <QtTest/QtTest>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <string>
#include <vector>

#include "data/training/train_arguments.h"
#include "data/training/train_request.h"
#include "train_flags.h"

using namespace mls;

namespace {

// What `mlstudio-cli train <args>` builds before it trains.
TrainRequest parsed(const std::vector<std::string>& args) {
  CLI::App app;
  auto* train = app.add_subcommand("train");
  const auto flags = cli::addTrainFlags(train);
  std::vector<std::string> argv = {"mlstudio-cli", "train"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> ptrs;
  for (auto& a : argv) ptrs.push_back(a.data());
  app.parse(static_cast<int>(ptrs.size()), ptrs.data());
  cli::finishTrainFlags(flags);
  return *flags.request;
}

}  // namespace

class TestTrainArguments : public QObject {
  Q_OBJECT

  static void roundTrips(const TrainRequest& r) {
    const auto args = trainArguments(r);
    TrainRequest back;
    try {
      back = parsed(args);
    } catch (const std::exception& e) {
      QFAIL(qPrintable(QStringLiteral("%1: %2").arg(QString::fromStdString(shellCommand(args)), e.what())));
    }
    QCOMPARE(QString::fromStdString(back.toJson()), QString::fromStdString(r.toJson()));
    // The defaults are resolved the same way on both sides.
    TrainRequest a = r, b = back;
    a.resolveDefaults();
    b.resolveDefaults();
    QCOMPARE(QString::fromStdString(b.toJson()), QString::fromStdString(a.toJson()));
  }

 private Q_SLOTS:
  void defaultsStayDefaults() {
    TrainRequest r;
    r.project = "/data/demo.mlsproj";
    roundTrips(r);
    // Sentinels are left to the CLI, not written as values it would refuse (`--epochs 0`).
    const auto args = trainArguments(r);
    for (const char* flag : {"--epochs", "--batch", "--image-size", "--lr", "--ema", "--workers", "--early-stop"})
      QVERIFY2(std::find(args.begin(), args.end(), flag) == args.end(), flag);
  }

  void everySettingRoundTrips() {
    TrainRequest r;
    r.project = "/tmp/my projects/it's here.mlsproj";
    r.method = Method::MLSPL;
    r.loss = "role";
    r.labels = "single";
    r.backbone = "torchscript:/models/a b.pt";
    r.weights = "/w/resnet50 (torchvision).pth";
    r.image_size = 224;
    r.batch = 48;
    r.epochs = 7;
    r.lr = 3e-4;
    r.device = "cuda:1";
    r.amp = true;
    r.amp_dtype = "bf16";
    r.ema = 0.9997;
    r.linear_init = 2;
    r.expected_positives = 2.9;
    r.seed = 18446744073709551615ull;
    r.run_name = "-odd name";
    r.grad_accum = 4;
    r.early_stop = 0;
    r.workers = 0;
    r.checkpoint_backbone = true;
    r.channels_last = true;
    r.profile = true;
    roundTrips(r);
  }

  void numbersAreExactAndShort() {
    TrainRequest r;
    r.lr = 0.1 + 0.2;  // 0.30000000000000004
    r.ema = 0.0;       // off, written as 0
    roundTrips(r);
    r.lr = 1e-3;
    const auto args = trainArguments(r);
    const auto it = std::find(args.begin(), args.end(), "--lr");
    QVERIFY(it != args.end());
    QCOMPARE(QString::fromStdString(*(it + 1)), QString("0.001"));
  }

  void resumeRoundTrips() {
    TrainRequest r;
    r.project = "p.mlsproj";
    r.resume = "12";
    r.batch = 8;
    r.grad_accum = 8;
    r.amp = true;
    roundTrips(r);
  }

  void shellQuoting() {
    QCOMPARE(QString::fromStdString(shellCommand({"mlstudio-cli", "train", "--project", "/a b/it's.mlsproj", "--lr", "0.001"})),
             QString("mlstudio-cli train --project '/a b/it'\\''s.mlsproj' --lr 0.001"));
    QCOMPARE(QString::fromStdString(shellCommand({""})), QString("''"));
  }
};

QTEST_APPLESS_MAIN(TestTrainArguments)
#include "test_train_arguments.moc"
