// The Runs panel on a project whose runs, metrics and scores are written directly through ProjectStore:
// only differing settings shown (and all on request), sorting, rename and notes reaching the project file,
// delete (rows and checkpoint files gone, other runs untouched, a training run refused), per-class AP and
// precision-recall curves from stored scores (numbers from numpy, see tests/data/test_run_evaluation.cpp),
// and two selected runs overlaid and compared side by side.
#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "data/store/project_store.h"
#include "data/training/train_request.h"
#include "project_session.h"
#include "runs/class_ap_model.h"
#include "runs/pr_curve_plot.h"
#include "runs/run_compare_plot.h"
#include "runs/run_columns.h"
#include "runs/run_compare_table.h"
#include "runs/runs_panel.h"
#include "runs/runs_proxy_model.h"
#include "runs/runs_table_model.h"
#include "train/qcustomplot_include.h"

using namespace mls;
namespace fs = std::filesystem;

namespace {

const float kScores[8][3] = {{0.9f, 0.2f, 0.3f}, {0.8f, 0.4f, 0.1f}, {0.8f, 0.4f, 0.7f}, {0.7f, 0.4f, 0.2f},
                             {0.6f, 0.9f, 0.5f}, {0.6f, 0.1f, 0.6f}, {0.6f, 0.3f, 0.4f}, {0.1f, 0.5f, 0.8f}};
const uint8_t kLabels[8][3] = {{1, 0, 0}, {0, 1, 0}, {1, 0, 0}, {1, 1, 0}, {0, 0, 0}, {1, 0, 0}, {0, 0, 0}, {0, 1, 0}};
const double kAp0 = 74.702380952380953, kAp1 = 56.666666666666665;  // numpy, sklearn's definition

std::string config(const std::string& loss, double lr) {
  TrainRequest r;
  r.method = Method::Q2L;
  r.loss = loss;
  r.backbone = "tiny";
  r.lr = lr;
  r.device = "cpu";
  r.batch = 8;
  r.resolveDefaults();
  return r.toJson();
}

}  // namespace

class TestRunsPanel : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString project_;
  int64_t a_ = 0, b_ = 0, c_ = 0;

  // A finished run with 3 epochs (10 steps each, 2 s each), val mAP per epoch and val scores.
  int64_t addRun(ProjectStore& s, const std::string& name, const std::string& loss, double lr, bool perfect) {
    const int64_t id = s.createRun(name, "q2l", config(loss, lr), "");
    std::vector<RunMetric> m;
    for (int64_t step = 1; step <= 30; ++step)
      m.push_back({static_cast<int>((step - 1) / 10 + 1), step, "loss", (perfect ? 1.0 : 2.0) / step});
    for (int e = 1; e <= 3; ++e) {
      m.push_back({e, 0, "val_map_raw", 40.0 + 10 * e + (perfect ? 5 : 0)});
      m.push_back({e, 0, "val_map", 40.0 + 10 * e + (perfect ? 5 : 0)});
      m.push_back({e, 0, "epoch_seconds", 2.0});
    }
    s.addRunMetrics(id, m);
    std::vector<std::pair<int64_t, std::vector<float>>> scores;
    for (int i = 0; i < 8; ++i) {
      std::vector<float> row(kScores[i], kScores[i] + 3);
      if (perfect)
        for (int k = 0; k < 3; ++k) row[static_cast<size_t>(k)] = kLabels[i][k] ? 0.9f : 0.1f;
      scores.push_back({100 + i, row});
    }
    s.storePredictions(id, scores);
    s.finishRun(id, RunStatus::Finished, "", perfect ? 75.0 : 70.0);
    return id;
  }

  int proxyColumn(RunsPanel& panel, const QString& header) {
    for (int c = 0; c < panel.proxy()->columnCount(); ++c)
      if (panel.proxy()->headerData(c, Qt::Horizontal).toString() == header) return c;
    return -1;
  }

  QList<qint64> proxyOrder(RunsPanel& panel) {
    QList<qint64> ids;
    for (int r = 0; r < panel.proxy()->rowCount(); ++r)
      ids << panel.proxy()->index(r, 0).data(RunsTableModel::RunIdRole).toLongLong();
    return ids;
  }

 private Q_SLOTS:
  void initTestCase() {
    project_ = dir_.path() + "/runs.mlsproj";
    ProjectStore s(project_.toStdString());
    std::vector<NewImage> images;
    std::vector<std::pair<int64_t, int64_t>> labels;
    const int64_t ids[3] = {17, 3, 44};
    for (int i = 0; i < 8; ++i) {
      images.push_back({100 + i, "v" + std::to_string(i) + ".png", 8, 8, Split::Val, false});
      for (int k = 0; k < 3; ++k)
        if (kLabels[i][k]) labels.push_back({100 + i, ids[k]});
    }
    s.importCollection(dir_.path().toStdString(), {{17, "cat", "", 0}, {3, "dog", "", 0}, {44, "kite", "", 0}}, images, labels);
    a_ = addRun(s, "asl-fast", "asl", 1e-3, false);
    b_ = addRun(s, "an-slow", "an", 1e-4, true);
    // A failed run with checkpoint files and no scores.
    c_ = s.createRun("broken", "q2l", config("asl", 1e-4), "");
    const fs::path dir = fs::path(dir_.path().toStdString()) / "runs.runs" / ("run_" + std::to_string(c_));
    fs::create_directories(dir);
    std::ofstream(dir / "epoch_001.pt") << "x";
    s.setRunCheckpointDir(c_, dir.string());
    s.addCheckpoint({c_, 1, (dir / "epoch_001.pt").string(), std::nullopt});
    s.addRunMetrics(c_, {{1, 1, "loss", 3.0}});
    s.finishRun(c_, RunStatus::Failed, "out of memory", std::nullopt);
  }

  void showsTheSettingsThatDiffer() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    RunsPanel panel(&session);
    QAbstractItemModelTester tester(panel.proxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(panel.model()->rowCount(), 3);
    QVERIFY(proxyColumn(panel, "Loss") >= 0);  // asl / an / asl
    QVERIFY(proxyColumn(panel, "LR") >= 0);    // 1e-3 / 1e-4 / 1e-4
    QCOMPARE(proxyColumn(panel, "Method"), -1);
    QCOMPARE(proxyColumn(panel, "Backbone"), -1);
    QCOMPARE(proxyColumn(panel, "Batch"), -1);
    QVERIFY(proxyColumn(panel, "Best mAP") >= 0);  // outcome columns always show
    QVERIFY(panel.proxy()->hiddenColumnCount() > 10);
    panel.showAllBox()->setChecked(true);
    QVERIFY(proxyColumn(panel, "Method") >= 0);
    QCOMPARE(panel.proxy()->columnCount(), panel.model()->columnCount());
    QCOMPARE(panel.proxy()->index(0, proxyColumn(panel, "Batch")).data().toString(), QString("8"));
    QCOMPARE(panel.proxy()->index(0, proxyColumn(panel, "Loss")).data().toString(), QString("asl"));
    // 30 steps × batch 8 in 6 s of recorded epochs.
    QCOMPARE(panel.proxy()->index(0, proxyColumn(panel, "img/s")).data().toString(), QString("40.0"));
    QCOMPARE(panel.proxy()->index(0, proxyColumn(panel, "Final mAP")).data().toString(), QString("70.00"));
    QCOMPARE(panel.proxy()->index(2, proxyColumn(panel, "Final mAP")).data().toString(), QString());
  }

  void sortsByAnyColumn() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    RunsPanel panel(&session);
    panel.table()->sortByColumn(proxyColumn(panel, "Best mAP"), Qt::DescendingOrder);
    QCOMPARE(proxyOrder(panel), (QList<qint64>{b_, a_, c_}));  // numbers as numbers
    panel.table()->sortByColumn(proxyColumn(panel, "Best mAP"), Qt::AscendingOrder);
    QCOMPARE(proxyOrder(panel), (QList<qint64>{a_, b_, c_}));  // a run without a value stays last
    panel.table()->sortByColumn(proxyColumn(panel, "LR"), Qt::AscendingOrder);
    QCOMPARE(proxyOrder(panel).front(), b_ < c_ ? b_ : c_);
    QCOMPARE(proxyOrder(panel).back(), a_);
    panel.table()->sortByColumn(proxyColumn(panel, "Run"), Qt::AscendingOrder);
    QCOMPARE(proxyOrder(panel), (QList<qint64>{b_, a_, c_}));  // an-slow, asl-fast, broken
  }

  void renameAndNotesReachTheProject() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    RunsPanel panel(&session);
    QSignalSpy changed(&session, &ProjectSession::runsChanged);
    const int row = panel.model()->rowOfRun(a_);
    const auto name = panel.model()->index(row, runColumnIndex(RunColumnId::Name));
    QCOMPARE(name.data(Qt::EditRole).toString(), QString("asl-fast"));
    QVERIFY(panel.model()->flags(name) & Qt::ItemIsEditable);
    QVERIFY(panel.model()->setData(name, QString("asl baseline")));
    QVERIFY(!panel.model()->setData(name, QString("   ")));  // a run keeps a name
    const auto notes = panel.model()->index(panel.model()->rowOfRun(a_), runColumnIndex(RunColumnId::Notes));
    QVERIFY(panel.model()->setData(notes, QString("the reference run")));
    QVERIFY(changed.count() >= 2);  // other tabs hear of it
    ProjectStore other(project_.toStdString(), ProjectStore::Open::Existing);
    QCOMPARE(other.run(a_)->name, std::string("asl baseline"));
    QCOMPARE(other.run(a_)->notes, std::string("the reference run"));
    QCOMPARE(panel.model()->index(panel.model()->rowOfRun(a_), 0).data().toString(), QString("#%1 asl baseline").arg(a_));
  }

  void perClassApAndCurvesFromStoredScores() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    RunsPanel panel(&session);
    QAbstractItemModelTester tester(panel.classProxy(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    panel.selectRuns({a_});
    QCOMPARE(panel.evaluatedRun(), a_);
    QTRY_VERIFY(panel.classModel()->evaluation() != nullptr);
    const auto* e = panel.classModel()->evaluation();
    QCOMPARE(e->run_id, a_);
    QVERIFY(std::abs(e->classes[0].ap - kAp0) < 1e-9);
    QVERIFY(std::abs(e->classes[1].ap - kAp1) < 1e-9);
    QVERIFY(std::abs(e->map - (kAp0 + kAp1) / 2) < 1e-9);
    auto* m = panel.classModel();
    QCOMPARE(m->index(0, ClassApModel::ApColumn).data().toString(), QString("74.70"));
    QCOMPARE(m->index(2, ClassApModel::ApColumn).data().toString(), QString("—"));  // kite: no positives
    QVERIFY(!m->index(2, ClassApModel::ApColumn).data(Qt::ToolTipRole).toString().isEmpty());
    QCOMPARE(m->index(0, ClassApModel::PositivesColumn).data().toString(), QString("4"));
    QCOMPARE(m->index(2, ClassApModel::PredictedColumn).data().toString(), QString("4"));

    // Sorted by AP, high to low: cat, dog, then kite (undefined) last.
    panel.classTable()->sortByColumn(ClassApModel::ApColumn, Qt::DescendingOrder);
    auto* p = panel.classProxy();
    QCOMPARE(p->index(0, 0).data().toString(), QString("cat"));
    QCOMPARE(p->index(1, 0).data().toString(), QString("dog"));
    QCOMPARE(p->index(2, 0).data().toString(), QString("kite"));

    // Selecting classes draws their precision-recall curves; a class without positives has none.
    panel.classTable()->selectAll();
    QCOMPARE(panel.prPlot()->curveCount(), 2);
    panel.classTable()->selectRow(0);
    QCOMPARE(panel.prPlot()->curveCount(), 1);
    auto* curve = qobject_cast<QCPCurve*>(panel.prPlot()->plot()->plottable(0));
    QVERIFY(curve);
    // (0, 1), then each distinct score of "cat" as a step: back at the previous recall, then at its own.
    const double recall[6] = {0, 0.25, 0.5, 0.75, 1, 1}, precision[6] = {1, 1, 2.0 / 3, 0.75, 4.0 / 7, 0.5};
    QCOMPARE(curve->dataCount(), 11);
    double area = 0;
    for (int i = 1; i < 6; ++i) {
      const auto corner = curve->data()->at(2 * i - 1);
      const auto point = curve->data()->at(2 * i);
      QVERIFY(std::abs(corner->key - recall[i - 1]) < 1e-12 && std::abs(corner->value - precision[i]) < 1e-12);
      QVERIFY(std::abs(point->key - recall[i]) < 1e-12 && std::abs(point->value - precision[i]) < 1e-12);
      area += (point->key - corner->key) * point->value;
    }
    QVERIFY(std::abs(100 * area - kAp0) < 1e-9);  // the drawn steps enclose the AP

    // A failed run stored no scores: said so, no table.
    panel.selectRuns({c_});
    QTRY_VERIFY(panel.classModel()->evaluation() != nullptr);
    QCOMPARE(panel.classModel()->evaluation()->images, 0);
  }

  void twoSelectedRunsAreOverlaidAndCompared() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    RunsPanel panel(&session);
    panel.selectRuns({a_, b_});
    QCOMPARE(panel.selectedRuns().size(), 2);
    QCOMPARE(panel.comparePlot()->drawnRuns(), (QList<qint64>{a_, b_}));
    QCOMPARE(panel.comparePlot()->lossGraph(a_)->dataCount(), 30);
    QCOMPARE(panel.comparePlot()->lossGraph(b_)->dataCount(), 30);
    QCOMPARE(panel.comparePlot()->mapGraph(b_)->dataCount(), 3);
    QCOMPARE(panel.comparePlot()->mapGraph(b_)->data()->at(2)->value, 75.0);

    auto* t = panel.compareTable();
    QCOMPARE(t->columnCount(), 2);
    int loss_row = -1, method_row = -1;
    for (int r = 0; r < t->settingRowCount(); ++r) {
      if (t->verticalHeaderItem(r)->text() == "Loss") loss_row = r;
      if (t->verticalHeaderItem(r)->text() == "Method") method_row = r;
    }
    QVERIFY(loss_row >= 0 && method_row >= 0);
    QVERIFY(t->rowDiffers(loss_row));
    QCOMPARE(t->item(loss_row, 0)->background().color(), RunCompareTable::kDifferent);
    QVERIFY(!t->rowDiffers(method_row));
    QCOMPARE(t->item(loss_row, 1)->text(), QString("an"));
    // Per-class AP rows fill in when both evaluations are done: the perfect run scores 100 where defined.
    const int cat_row = t->settingRowCount() + RunCompareTable::kMapRows;
    QTRY_COMPARE(t->rowCount(), t->settingRowCount() + RunCompareTable::kMapRows + 3);
    QTRY_COMPARE(t->item(cat_row, 0)->text(), QString("74.70"));
    QTRY_COMPARE(t->item(cat_row, 1)->text(), QString("100.00"));
    QVERIFY(t->item(cat_row, 1)->font().bold());
    QCOMPARE(t->item(cat_row + 2, 0)->text(), QString("—"));
    // mAP in the papers' conventions: MLSPL counts the kite class (no positives) 0 over all 3 classes;
    // Q2L's VOC AP (numpy: 79.17 and 64.44 for the first run) skips it.
    const int mlspl_row = t->settingRowCount() + 1, q2l_row = mlspl_row + 1;
    QCOMPARE(t->item(mlspl_row, 0)->text(), QString::number((kAp0 + kAp1) / 3, 'f', 2));
    QCOMPARE(t->item(mlspl_row, 1)->text(), QString("66.67"));
    QCOMPARE(t->item(q2l_row, 0)->text(), QString("71.81"));
    QCOMPARE(t->item(q2l_row, 1)->text(), QString("100.00"));
  }

  void deleteRemovesRowsAndFilesAndRefusesATrainingRun() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    RunsPanel panel(&session);
    panel.setTrainingRunQuery([this] { return qint64(b_); });
    QVERIFY(!panel.deleteRuns({b_}, false));
    QVERIFY(panel.lastMessage().contains("training"));
    QCOMPARE(panel.model()->rowCount(), 3);

    const fs::path dir = session.store()->run(c_)->checkpoint_dir;
    QVERIFY(fs::exists(dir / "epoch_001.pt"));
    QVERIFY(panel.deleteRuns({c_}, false));
    QCOMPARE(panel.model()->rowCount(), 2);
    QCOMPARE(panel.model()->rowOfRun(c_), -1);
    QVERIFY(!fs::exists(dir));
    ProjectStore other(project_.toStdString(), ProjectStore::Open::Existing);
    QVERIFY(!other.run(c_));
    QVERIFY(other.runMetrics(c_).empty());
    QVERIFY(other.checkpoints(c_).empty());
    QCOMPARE(other.allPredictions(a_).size(), size_t(8));  // the other runs keep everything
    QCOMPARE(other.runMetrics(b_, "loss").size(), size_t(30));
  }

};

QTEST_MAIN(TestRunsPanel)
#include "test_runs_panel.moc"
