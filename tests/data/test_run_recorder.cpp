// RunRecorder's per-epoch rows: the default val mAP next to the same validation in the MLSPL and Q2L papers'
// conventions, and none of them for an epoch without validation; a resume replacing what was recorded past its
// checkpoint, and checkpoint rows following the files (pruned, deleted).
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <map>

#include "data/store/project_store.h"
#include "data/training/run_recorder.h"

using namespace mls;

namespace {

StepInfo step(int epoch, int64_t global_step) {
  StepInfo s;
  s.epoch = epoch;
  s.global_step = global_step;
  s.loss = 1.0 / static_cast<double>(global_step);
  return s;
}

EpochInfo epochInfo(int epoch) {
  EpochInfo e;
  e.epoch = epoch;
  e.train_loss = 0.5;
  e.val_map = e.val_map_raw = 50.0 + epoch;
  return e;
}

std::map<std::string, double> epochMetrics(ProjectStore& s, int64_t run, int epoch) {
  std::map<std::string, double> out;
  for (const auto& m : s.runMetrics(run))
    if (m.epoch == epoch && m.step == 0) out[m.name] = m.value;
  return out;
}

}  // namespace

class TestRunRecorder : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private Q_SLOTS:
  void recordsTheThreeMapConventionsPerEpoch() {
    ProjectStore s((dir_.path() + "/p.mlsproj").toStdString());
    const int64_t run = s.createRun("r", "mlspl", "{}", "");
    {
      RunRecorder recorder(s, run);
      EpochInfo e;
      e.epoch = 1;
      e.train_loss = 0.7;
      e.val_map = e.val_map_raw = 62.5;
      e.metrics.map = 62.5;
      e.metrics.map_mlspl = 58.0;
      e.metrics.map_q2l_voc = 66.25;
      recorder.onEpoch(e);
      EpochInfo no_val;  // no validation split: no mAP of any convention
      no_val.epoch = 2;
      no_val.train_loss = 0.6;
      recorder.onEpoch(no_val);
    }
    auto m = epochMetrics(s, run, 1);
    QCOMPARE(m.at("val_map"), 62.5);
    QCOMPARE(m.at("val_map_mlspl"), 58.0);
    QCOMPARE(m.at("val_map_q2l_voc"), 66.25);
    m = epochMetrics(s, run, 2);
    QCOMPARE(m.at("train_loss"), 0.6);
    QCOMPARE(m.count("val_map") + m.count("val_map_mlspl") + m.count("val_map_q2l_voc"), size_t(0));
  }

  void resumeReplacesWhatWasRecordedPastItsCheckpoint() {
    ProjectStore s((dir_.path() + "/resume.mlsproj").toStdString());
    const int64_t run = s.createRun("r", "mlspl", "{}", "");
    auto file = [&](int epoch) { return (dir_.path() + QString("/epoch_%1.pt").arg(epoch)).toStdString(); };
    {
      // Three epochs of 3 steps with their checkpoints, then a kill 2 steps into epoch 4.
      RunRecorder recorder(s, run);
      for (int e = 1; e <= 3; ++e) {
        for (int k = 1; k <= 3; ++k) recorder.onStep(step(e, (e - 1) * 3 + k));
        recorder.onEpoch(epochInfo(e));
        QFile f(QString::fromStdString(file(e)));
        QVERIFY(f.open(QIODevice::WriteOnly));
        recorder.onCheckpoint(e, file(e), 50.0 + e);
      }
      recorder.onCheckpointRemoved(1, file(1));  // the keep-last rule deleted it
      QVERIFY(QFile::remove(QString::fromStdString(file(1))));
      recorder.onStep(step(4, 10));
      recorder.onStep(step(4, 11));
    }
    QCOMPARE(s.runMetrics(run, "loss").size(), size_t(11));
    QCOMPARE(s.checkpoints(run).size(), size_t(2));

    // epoch_003.pt went missing: the newest checkpoint left is epoch 2's, and the stale row goes.
    QVERIFY(QFile::remove(QString::fromStdString(file(3))));
    const auto left = s.existingCheckpoints(run);
    QCOMPARE(left.size(), size_t(1));
    QCOMPARE(left.back().epoch, 2);
    QCOMPARE(s.checkpoints(run).size(), size_t(1));

    {
      RunRecorder recorder(s, run);
      recorder.onResumed(2, 6);
      for (int k = 7; k <= 9; ++k) recorder.onStep(step(3, k));
      recorder.onEpoch(epochInfo(3));
    }
    // Steps 7-11 and epoch 3 were recorded again, not twice.
    std::vector<int64_t> steps;
    for (const auto& m : s.runMetrics(run, "loss")) steps.push_back(m.step);
    QCOMPARE(steps, (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    std::vector<int> epochs;
    for (const auto& m : s.runMetrics(run, "val_map")) epochs.push_back(m.epoch);
    QCOMPARE(epochs, (std::vector<int>{1, 2, 3}));
    QCOMPARE(s.runMetrics(run, "lr").size(), size_t(9));
  }
};

QTEST_GUILESS_MAIN(TestRunRecorder)
#include "test_run_recorder.moc"
