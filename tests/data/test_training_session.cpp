// TrainingSession end to end on a small demo project: the caller's CancelToken stops a run before it trains
// or, requested from another thread, after the current batch with the finished epoch's checkpoint kept; the
// run's stored config records the BatchNorm choice.
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "data/store/project_store.h"
#include "data/training/training_session.h"
#include "demo_generator.h"

using namespace mls;

namespace {

struct StepCounter : TrainObserver {
  std::mutex mutex;
  std::vector<StepInfo> steps;
  std::function<void(const StepInfo&)> hook;
  void onStep(const StepInfo& s) override {
    {
      std::lock_guard<std::mutex> lock(mutex);
      steps.push_back(s);
    }
    if (hook) hook(s);
  }
};

}  // namespace

class TestTrainingSession : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string project_;

  TrainRequest tinyRun(int epochs) const {
    TrainRequest r;
    r.project = project_;
    r.method = Method::MLSPL;
    r.loss = "bce";
    r.backbone = "tiny";
    r.image_size = 32;
    r.batch = 16;
    r.epochs = epochs;
    r.device = "cpu";
    r.workers = 1;
    return r;
  }

 private Q_SLOTS:
  void initTestCase() {
    DemoOptions d;
    d.train = 64;
    d.val = 16;
    d.size = 32;
    project_ = createDemoProject((dir_.path() + "/demo").toStdString(), d).project;
  }

  void cancelledBeforeRunEndsWithoutTraining() {
    CancelToken cancel;
    cancel.request();
    StepCounter steps;
    const auto out = TrainingSession(tinyRun(3), &steps, cancel).run();
    QVERIFY(out.cancelled);
    QCOMPARE(out.epochs, 0);
    QVERIFY(steps.steps.empty());
    ProjectStore store(project_, ProjectStore::Open::Existing);
    QCOMPARE(store.run(out.run_id)->status, RunStatus::Cancelled);
    QVERIFY(store.checkpoints(out.run_id).empty());
  }

  void cancelFromAnotherThreadKeepsTheFinishedEpoch() {
    CancelToken cancel;
    StepCounter steps;
    std::mutex mutex;
    std::condition_variable cv;
    bool go = false;
    std::thread canceller([&] {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return go; });
      cancel.request();
    });
    steps.hook = [&](const StepInfo& s) {
      if (s.epoch != 2 || s.step != 1) return;
      {
        std::lock_guard<std::mutex> lock(mutex);
        go = true;
      }
      cv.notify_one();
      // Bounded wait for the other thread, so "after the current batch" is deterministic.
      for (int i = 0; i < 5000 && !cancel.requested(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
    const auto out = TrainingSession(tinyRun(4), &steps, cancel).run();
    canceller.join();

    QVERIFY(out.cancelled);
    QCOMPARE(out.epochs, 1);
    int in_epoch_2 = 0;
    for (const auto& s : steps.steps) in_epoch_2 += s.epoch == 2;
    QCOMPARE(in_epoch_2, 1);
    ProjectStore store(project_, ProjectStore::Open::Existing);
    const auto run = store.run(out.run_id);
    QCOMPARE(run->status, RunStatus::Cancelled);
    const auto cps = store.checkpoints(out.run_id);
    QCOMPARE(cps.size(), size_t(1));
    QCOMPARE(cps[0].epoch, 1);
    QVERIFY(std::filesystem::exists(cps[0].path));
  }

  void storedConfigRecordsTheBatchNormChoice() {
    const auto out = TrainingSession(tinyRun(1)).run();
    ProjectStore store(project_, ProjectStore::Open::Existing);
    const auto config = store.run(out.run_id)->config;
    QVERIFY2(config.find("\"frozen_bn\":false") != std::string::npos, config.c_str());
  }
};

QTEST_GUILESS_MAIN(TestTrainingSession)
#include "test_training_session.moc"
