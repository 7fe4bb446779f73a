// A run's numbering across LinearInit and resumes, end to end through TrainingSession and the CLI: an MLSPL
// LinearInit run SIGKILLed once its first checkpoint is recorded, resumed and cancelled mid-epoch, resumed
// again to the end; and a plain run cancelled mid-epoch and resumed. Afterwards the recorded steps rise by
// one from 1 with no step twice, every epoch is recorded once in order, and every checkpoint row names a file
// that exists.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "data/store/project_store.h"
#include "data/training/training_session.h"
#include "demo_generator.h"

using namespace mls;

namespace {

// Calls `on_step` for every training step the session reports.
struct StepHook : TrainObserver {
  std::function<void(const StepInfo&)> on_step;
  int epochs_seen = 0;
  void onStep(const StepInfo& s) override {
    if (on_step) on_step(s);
  }
  void onEpoch(const EpochInfo&) override { ++epochs_seen; }
};

// Runs the session; cancels it at the `cancel_at_step`-th step of the second epoch it trains (0: never).
TrainOutcome trainWithCancel(const TrainRequest& request, int cancel_at_step) {
  StepHook hook;
  CancelToken cancel;
  TrainingSession session(request, &hook, cancel);
  int steps_in_second = 0;
  hook.on_step = [&](const StepInfo&) {
    if (cancel_at_step > 0 && hook.epochs_seen == 1 && ++steps_in_second == cancel_at_step) cancel.request();
  };
  return session.run();
}

// The run's record is one continuous run of `epochs` epochs.
void checkNumbering(ProjectStore& store, int64_t run, int epochs) {
  const auto loss = store.runMetrics(run, "loss");
  QVERIFY(!loss.empty());
  int64_t previous_step = 0;
  int previous_epoch = 1;
  for (const auto& m : loss) {
    QVERIFY2(m.step == previous_step + 1, qPrintable(QString("step %1 after %2").arg(m.step).arg(previous_step)));
    QVERIFY2(m.epoch == previous_epoch || m.epoch == previous_epoch + 1,
             qPrintable(QString("epoch %1 after %2 at step %3").arg(m.epoch).arg(previous_epoch).arg(m.step)));
    previous_step = m.step;
    previous_epoch = m.epoch;
  }
  QCOMPARE(previous_epoch, epochs);
  QCOMPARE(store.runMetrics(run, "lr").size(), loss.size());
  for (const char* name : {"train_loss", "val_map", "epoch_seconds"}) {
    const auto rows = store.runMetrics(run, name);
    QCOMPARE(rows.size(), static_cast<size_t>(epochs));
    for (size_t i = 0; i < rows.size(); ++i) QCOMPARE(rows[i].epoch, static_cast<int>(i) + 1);
  }
  const auto checkpoints = store.checkpoints(run);
  QVERIFY(!checkpoints.empty());
  QCOMPARE(checkpoints.back().epoch, epochs);
  for (const auto& c : checkpoints)
    QVERIFY2(std::filesystem::exists(c.path), qPrintable(QString("epoch %1: %2").arg(c.epoch).arg(c.path.c_str())));
  QVERIFY(checkpoints.size() <= 3);  // the keep-last rule's files are gone, and so are their rows
}

}  // namespace

class TestResumeNumbering : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string project_;

  TrainRequest request(const std::string& loss) const {
    TrainRequest r;
    r.project = project_;
    r.method = Method::MLSPL;
    r.loss = loss;
    r.labels = "single";
    r.backbone = "tiny";
    r.image_size = 32;
    r.batch = 8;
    r.device = "cpu";
    r.workers = 1;
    return r;
  }

 private Q_SLOTS:
  void initTestCase() {
    DemoOptions d;
    d.train = 40;
    d.val = 16;
    d.size = 32;
    project_ = createDemoProject((dir_.path() + "/demo").toStdString(), d).project;
  }

  void linearInitRunKilledAndResumedTwice() {
    constexpr int kLinear = 2, kEpochs = 8;
    // LinearInit then end-to-end in the CLI, killed (SIGKILL: nothing flushed, nothing finished) as soon as
    // the first end-to-end checkpoint is recorded.
    QProcess cli;
    cli.start(QStringLiteral(MLS_CLI_PATH),
              {"train", "--project", QString::fromStdString(project_), "--method", "mlspl", "--loss", "role",
               "--labels", "single", "--backbone", "tiny", "--image-size", "32", "--batch", "8", "--epochs",
               QString::number(kEpochs), "--linear-init", QString::number(kLinear), "--run-name", "li", "--device",
               "cpu", "--workers", "1"});
    QVERIFY(cli.waitForStarted());
    int64_t run = 0;
    {
      ProjectStore watch(project_, ProjectStore::Open::Existing);
      for (int i = 0; i < 60000 && cli.state() == QProcess::Running; ++i) {
        if (run == 0) {
          if (const auto r = watch.runByName("li")) run = r->id;
        }
        if (run != 0 && !watch.checkpoints(run).empty()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      QVERIFY2(cli.state() == QProcess::Running, cli.readAllStandardError().constData());  // killed mid-run
      cli.kill();
      QVERIFY(cli.waitForFinished());
      QVERIFY(run != 0);
      // ROLE's linear phase runs at the MLSPL code's fixed lr 1e-3, not at the fine-tuning lr.
      const QByteArray err = cli.readAllStandardError();
      QVERIFY2(err.contains("linear phase: 2 epochs on cached features, adam lr 0.001000"), err.constData());
      const auto recorded = watch.checkpoints(run);
      QVERIFY(!recorded.empty());
      QCOMPARE(recorded.front().epoch, kLinear + 1);  // numbered after the linear phase
    }

    // Resume, cancelled two steps into the second epoch it trains; then resume to the end.
    auto r = request("role");
    r.resume = "li";
    const auto cancelled = trainWithCancel(r, 2);
    QVERIFY(cancelled.cancelled);
    QCOMPARE(cancelled.run_id, run);
    const auto finished = trainWithCancel(r, 0);
    QVERIFY(!finished.cancelled);

    ProjectStore store(project_, ProjectStore::Open::Existing);
    QCOMPARE(store.run(run)->status, RunStatus::Finished);
    checkNumbering(store, run, kLinear + kEpochs);
  }

  void plainRunCancelledMidEpochAndResumed() {
    auto r = request("an");
    r.epochs = 4;
    r.run_name = "plain";
    const auto first = trainWithCancel(r, 2);
    QVERIFY(first.cancelled);
    auto again = request("an");
    again.resume = "plain";
    QVERIFY(!trainWithCancel(again, 0).cancelled);
    ProjectStore store(project_, ProjectStore::Open::Existing);
    checkNumbering(store, first.run_id, 4);
  }
};

QTEST_GUILESS_MAIN(TestResumeNumbering)
#include "test_resume_numbering.moc"
