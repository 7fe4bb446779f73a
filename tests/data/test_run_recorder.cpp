// RunRecorder's per-epoch rows: the default val mAP next to the same validation in the MLSPL and Q2L papers'
// conventions, and none of them for an epoch without validation.
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <map>

#include "data/store/project_store.h"
#include "data/training/run_recorder.h"

using namespace mls;

namespace {

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
};

QTEST_GUILESS_MAIN(TestRunRecorder)
#include "test_run_recorder.moc"
