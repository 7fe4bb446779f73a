// The Train panel drives real (tiny) training runs on a demo project offscreen: the engine runs on the worker
// thread, curves and the runs list fill, Stop cancels, a bad weights file fails the run without harm, and
// closing mid-run cancels and joins. Also the smoothing math, presets, throttled replots and the runs model.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QFile>
#include <QImage>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <cmath>
#include <limits>
#include "train/qcustomplot_include.h"

#include "data/store/project_store.h"
#include "demo_generator.h"
#include "project_session.h"
#include "train/curve_plot.h"
#include "train/ema_smoother.h"
#include "train/latency_probe.h"
#include "train/runs_model.h"
#include "train/train_form.h"
#include "train/train_panel.h"
#include "train/train_presets.h"
#include "train/training_worker.h"

using namespace mls;

namespace {

TrainRequest tinyRequest(int epochs) {
  TrainRequest r;
  r.method = "q2l";
  r.loss = "asl";
  r.labels = "full";
  r.backbone = "tiny";
  r.image_size = 48;
  r.batch = 32;
  r.epochs = epochs;
  r.lr = 1e-3;
  r.ema = 0;
  r.device = "cpu";
  r.workers = 1;
  return r;
}

std::string storedStatus(const QString& project, qint64 run_id) {
  ProjectStore store(project.toStdString());
  const auto r = store.run(run_id);
  return r ? r->status : std::string("<none>");
}

}  // namespace

class TestTrainPanel : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString project_;
  qint64 finished_run_ = -1;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    DemoOptions d;
    d.train = 120;
    d.val = 40;
    d.size = 48;
    project_ = QString::fromStdString(createDemoProject(dir_.path().toStdString(), d).project);
  }

  void emaSmoothingIsDebiased() {
    // alpha 0.5 on 1, 2, 3: s = 0.5, 1.25, 2.125 divided by 0.5, 0.75, 0.875.
    const auto s = EmaSmoother::smooth({1, 2, 3}, 0.5);
    QCOMPARE(s.size(), size_t(3));
    QCOMPARE(s[0], 1.0);
    QVERIFY(std::abs(s[1] - 1.25 / 0.75) < 1e-12);
    QVERIFY(std::abs(s[2] - 2.125 / 0.875) < 1e-12);
    // A constant series stays exactly constant from the first point on: the debiasing removes the zero start.
    for (double v : EmaSmoother::smooth({4, 4, 4, 4, 4}, 0.9)) QVERIFY(std::abs(v - 4.0) < 1e-12);
    // alpha 0 is the identity.
    QCOMPARE(EmaSmoother::smooth({3, -1, 7}, 0.0), (std::vector<double>{3, -1, 7}));
    // A NaN passes through and leaves the state alone: the next value continues as if it were the second.
    const auto n = EmaSmoother::smooth({1, std::numeric_limits<double>::quiet_NaN(), 3}, 0.5);
    QVERIFY(std::isnan(n[1]));
    QVERIFY(std::abs(n[2] - (0.5 * 0.5 + 0.5 * 3) / 0.75) < 1e-12);
    // The plot's smoothed line is the same math over the points it received.
    CurvePlot plot;
    plot.setSmoothing(0.5);
    plot.startLive(1, "t");
    plot.addLossPoints({1, 2, 3}, {1, 2, 3});
    plot.flush();
    const auto drawn = plot.liveSmoothedLoss();
    QCOMPARE(drawn.size(), 3);
    QVERIFY(std::abs(drawn[2] - 2.125 / 0.875) < 1e-12);
    plot.setSmoothing(0.0);  // recomputed over the whole history
    QCOMPARE(plot.liveSmoothedLoss(), (QVector<double>{1, 2, 3}));
  }

  void latencyStatistics() {
    std::vector<double> v(200, 0.5);
    v[10] = 30;
    v[20] = 8;
    v[30] = 7;
    const auto s = LatencyProbe::statsOf(v);
    QCOMPARE(s.samples, 200);
    QCOMPARE(s.max_ms, 30.0);
    QCOMPARE(s.p99_ms, 7.0);  // nearest rank: the 198th of 200 sorted values, here the third largest
    QVERIFY(std::abs(s.mean_ms - (197 * 0.5 + 45) / 200) < 1e-12);
    QCOMPARE(LatencyProbe::statsOf({}).samples, 0);
  }

  void presetsFillTheForm() {
    TrainForm form;
    const auto& presets = trainPresets();
    QCOMPARE(int(presets.size()), 3);
    form.applyPreset(0);
    auto r = form.request();
    QCOMPARE(r.method, std::string("q2l"));
    QCOMPARE(r.loss, std::string("asl"));
    QCOMPARE(r.backbone, std::string("tiny"));
    QCOMPARE(r.image_size, 64);
    QCOMPARE(r.batch, 32);
    QCOMPARE(r.epochs, 40);
    QCOMPARE(r.lr, 1e-3);
    form.applyPreset(1);
    r = form.request();
    QCOMPARE(r.backbone, std::string("resnet101"));
    QCOMPARE(r.image_size, 448);
    QCOMPARE(r.batch, 16);
    QCOMPARE(r.epochs, 80);
    QCOMPARE(r.lr, 1e-4);
    QCOMPARE(r.ema, 0.9997);
    QVERIFY(r.amp);
    // The official batch 64 as 16 x 4 with recomputed backbone activations: the 12 GiB-card setup.
    QCOMPARE(r.grad_accum, 4);
    QVERIFY(r.checkpoint_backbone);
    QVERIFY(r.channels_last);
    QCOMPARE(form.presetBox()->currentText(), QString("COCO Q2L-R101-448"));
    form.applyPreset(2);
    r = form.request();
    QCOMPARE(r.method, std::string("mlspl"));
    QCOMPARE(r.loss, std::string("role"));
    QCOMPARE(r.labels, std::string("single"));
    QCOMPARE(r.backbone, std::string("resnet50"));
    QCOMPARE(r.batch, 8);
    QCOMPARE(r.epochs, 10);
    QCOMPARE(r.lr, 1e-5);
    QCOMPARE(r.linear_init, 25);
    QCOMPARE(r.ema, 0.0);
    // Round trip of a custom request, TorchScript backbone included; editing turns the preset to "Custom".
    TrainRequest custom = tinyRequest(3);
    custom.backbone = "torchscript:/models/swin.pt";
    custom.weights = "/w/r50.pt";
    custom.grad_accum = 4;
    custom.amp = true;
    custom.amp_dtype = "bf16";
    custom.checkpoint_backbone = true;
    custom.run_name = "mine";
    form.setRequest(custom);
    r = form.request();
    QCOMPARE(r.backbone, custom.backbone);
    QCOMPARE(r.weights, custom.weights);
    QCOMPARE(r.image_size, 48);
    QCOMPARE(r.epochs, 3);
    QCOMPARE(r.grad_accum, 4);
    QVERIFY(r.amp);
    QCOMPARE(r.amp_dtype, std::string("bf16"));
    QVERIFY(r.checkpoint_backbone);
    QVERIFY(!r.channels_last);
    QCOMPARE(r.device, std::string("cpu"));
    QCOMPARE(r.run_name, std::string("mine"));
    QCOMPARE(r.linear_init, 0);  // only for mlspl
    QCOMPARE(form.presetBox()->currentIndex(), 0);
  }

  void replotsAreThrottled() {
    CurvePlot plot;
    plot.startLive(1, "t");
    QTest::qWait(100);
    const int before = plot.replotCount();
    for (int i = 1; i <= 500; ++i) plot.addLossPoints({double(i)}, {1.0 / i});
    QCOMPARE(plot.replotCount(), before);  // nothing drawn per point
    QCOMPARE(plot.drawnLossPoints(), 0);
    QTRY_COMPARE_WITH_TIMEOUT(plot.drawnLossPoints(), 500, 2000);
    QCOMPARE(plot.replotCount(), before + 1);  // one throttled replot for all of them
    // Hover finds the drawn point under the cursor.
    plot.resize(600, 500);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.plot()->replot();
    QCPGraph* g = plot.plot()->graph(0);
    const QPointF at(g->keyAxis()->coordToPixel(250), g->valueAxis()->coordToPixel(1.0 / 250));
    QVERIFY(plot.describePointAt(at).contains("step 250"));
    QVERIFY(plot.describePointAt(QPointF(-50, -50)).isEmpty());
    plot.setLogScale(true);
    QCOMPARE(plot.plot()->graph(0)->valueAxis()->scaleType(), QCPAxis::stLogarithmic);
  }

  void runsModelWithTester() {
    RunsModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    std::vector<RunRecord> runs(3);
    for (int i = 0; i < 3; ++i) {
      runs[i].id = i + 1;
      runs[i].name = "run" + std::to_string(i + 1);
      runs[i].method = "q2l";
      runs[i].status = i == 1 ? "failed" : "finished";
    }
    runs[2].best_val_map = 91.234;
    model.setRuns(runs);
    QCOMPARE(model.rowCount(), 3);
    QCOMPARE(model.data(model.index(0, RunsModel::NameColumn)).toString(), QString("#3 run3"));  // newest first
    QCOMPARE(model.data(model.index(0, RunsModel::BestMapColumn)).toString(), QString("91.23"));
    QCOMPARE(model.data(model.index(1, RunsModel::StatusColumn)).toString(), QString("failed"));
    QSignalSpy spy(&model, &RunsModel::checkedChanged);
    QVERIFY(model.setData(model.index(2, 0), Qt::Checked, Qt::CheckStateRole));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toLongLong(), 1);
    QCOMPARE(model.checkedRuns(), QList<qint64>{1});
    runs.erase(runs.begin());  // run 1 disappears: no longer checked
    model.setRuns(runs);
    QVERIFY(model.checkedRuns().isEmpty());
  }

  void needsAnOpenProject() {
    ProjectSession session;
    TrainPanel panel(&session);
    QVERIFY(!panel.startButton()->isEnabled());
    QVERIFY(!panel.start());
    QVERIFY(panel.messagesView()->toPlainText().contains("Open a project"));
    QVERIFY(session.open(project_));
    QVERIFY(panel.startButton()->isEnabled());
    QVERIFY(!panel.stopButton()->isEnabled());
  }

  void trainsOnTheWorkerThread() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    QAbstractItemModelTester tester(panel.runsModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    panel.resize(1300, 800);
    panel.show();
    // 8 short epochs: enough ticks for the latency numbers to mean something, still ~2 s on 2 cores.
    panel.form()->setRequest(tinyRequest(8));
    QSignalSpy started(&panel, &TrainPanel::runStarted);
    QSignalSpy finished(&panel, &TrainPanel::runFinished);
    QSignalSpy progress(&panel, &TrainPanel::backgroundProgress);
    QVERIFY(panel.start());
    QVERIFY(panel.isTraining());
    QVERIFY(!panel.startButton()->isEnabled());
    QVERIFY(panel.stopButton()->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QCOMPARE(started.count(), 1);
    const qint64 run = started.at(0).at(0).toLongLong();
    QCOMPARE(finished.at(0).at(0).toLongLong(), run);
    QCOMPARE(finished.at(0).at(1).toString(), QString("finished"));
    QVERIFY(!panel.isTraining());
    QCOMPARE(storedStatus(project_, run), std::string("finished"));
    // The engine's callbacks ran on the worker thread, not on the GUI thread.
    QVERIFY(panel.worker()->callbackThread() != nullptr);
    QVERIFY(panel.worker()->callbackThread() != QThread::currentThread());
    QVERIFY(panel.worker()->callbackThread() != qApp->thread());
    // Curves: 96 train images / batch 32 with drop-last = 3 steps per epoch, 8 epochs, all drawn.
    QCOMPARE(panel.curvePlot()->liveLossPoints(), 24);
    QCOMPARE(panel.curvePlot()->drawnLossPoints(), 24);
    QCOMPARE(panel.curvePlot()->liveEpochPoints(), 8);
    QCOMPARE(panel.curvePlot()->liveRunId(), run);
    QCOMPARE(panel.progressBar()->value(), panel.progressBar()->maximum());
    QVERIFY(progress.count() >= 2);
    QCOMPARE(progress.last().at(0).toInt(), -1);  // idle again
    // The run is listed and the message panel reports the epochs.
    const int row = panel.runsModel()->rowOfRun(run);
    QVERIFY(row >= 0);
    QCOMPARE(panel.runsModel()->data(panel.runsModel()->index(row, RunsModel::StatusColumn)).toString(),
             QString("finished"));
    QVERIFY(panel.messagesView()->toPlainText().contains("epoch 8: train loss"));
    const auto lat = panel.latencyStats();
    qInfo("GUI event-loop latency during training: max %.1f ms, p99 %.1f ms, mean %.2f ms over %d ticks", lat.max_ms,
          lat.p99_ms, lat.mean_ms, lat.samples);
    QVERIFY(lat.samples > 0);

    // Exports.
    const QString csv = dir_.filePath("curves.csv");
    QVERIFY(panel.curvePlot()->exportCsv(csv));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly | QIODevice::Text));
    const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.first(), QString("series,x_name,x,value"));
    int loss_rows = 0, map_rows = 0;
    for (const auto& l : lines) {
      if (l.contains(": loss,step,")) ++loss_rows;
      if (l.contains(": val mAP (raw),epoch,")) ++map_rows;
    }
    QCOMPARE(loss_rows, 24);
    QCOMPARE(map_rows, 8);
    const QString png = dir_.filePath("curves.png");
    QVERIFY(panel.curvePlot()->exportPng(png, 800, 500));
    QCOMPARE(QImage(png).size(), QSize(800, 500));
    const QByteArray shot = qgetenv("MLS_TRAIN_PANEL_SHOT");
    if (!shot.isEmpty()) {
      panel.grab().save(QString::fromLocal8Bit(shot));
      panel.resize(760, 640);  // a dock-sized panel
      QTest::qWait(50);
      panel.grab().save(QString::fromLocal8Bit(shot).replace(".png", "_small.png"));
    }
    finished_run_ = run;
  }

  void overlaysEarlierRuns() {
    QVERIFY(finished_run_ > 0);
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    const int graphs = panel.curvePlot()->plot()->graphCount();
    const int row = panel.runsModel()->rowOfRun(finished_run_);
    QVERIFY(row >= 0);
    QVERIFY(panel.runsModel()->setData(panel.runsModel()->index(row, 0), Qt::Checked, Qt::CheckStateRole));
    QVERIFY(panel.curvePlot()->hasOverlay(finished_run_));
    QCOMPARE(panel.curvePlot()->plot()->graphCount(), graphs + 2);  // smoothed loss + raw mAP (no EMA)
    QCOMPARE(panel.curvePlot()->plot()->graph(graphs)->dataCount(), 24);
    QCOMPARE(panel.curvePlot()->plot()->graph(graphs + 1)->dataCount(), 8);
    QVERIFY(panel.runsModel()->setData(panel.runsModel()->index(row, 0), Qt::Unchecked, Qt::CheckStateRole));
    QVERIFY(!panel.curvePlot()->hasOverlay(finished_run_));
    QCOMPARE(panel.curvePlot()->plot()->graphCount(), graphs);
  }

  void stopCancels() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    panel.form()->setRequest(tinyRequest(200));
    QSignalSpy started(&panel, &TrainPanel::runStarted);
    QSignalSpy finished(&panel, &TrainPanel::runFinished);
    QVERIFY(panel.start());
    QTRY_VERIFY_WITH_TIMEOUT(panel.curvePlot()->liveLossPoints() > 0, 30000);
    panel.stop();
    QVERIFY(!panel.stopButton()->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    const qint64 run = started.at(0).at(0).toLongLong();
    QCOMPARE(finished.at(0).at(1).toString(), QString("cancelled"));
    QCOMPARE(storedStatus(project_, run), std::string("cancelled"));
    QVERIFY(panel.curvePlot()->liveEpochPoints() < 200);
    QVERIFY(panel.startButton()->isEnabled());
    QCOMPARE(panel.lastStatus(), QString("cancelled"));
  }

  void badWeightsFailTheRunAndKeepThePanelUsable() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    TrainRequest r = tinyRequest(1);
    r.weights = dir_.filePath("no_such_weights.pt").toStdString();
    panel.form()->setRequest(r);
    QSignalSpy finished(&panel, &TrainPanel::runFinished);
    QVERIFY(panel.start());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    const qint64 run = finished.at(0).at(0).toLongLong();
    QVERIFY(run > 0);
    QCOMPARE(finished.at(0).at(1).toString(), QString("failed"));
    QCOMPARE(storedStatus(project_, run), std::string("failed"));
    const QString log = panel.messagesView()->toPlainText();
    QVERIFY2(log.contains("error:") && log.contains("failed"), qPrintable(log));
    QVERIFY(!panel.isTraining());
    QVERIFY(panel.startButton()->isEnabled());
    const int row = panel.runsModel()->rowOfRun(run);
    QCOMPARE(panel.runsModel()->data(panel.runsModel()->index(row, RunsModel::StatusColumn)).toString(),
             QString("failed"));

    // A value the engine rejects up front: no run is created, a message says why.
    const auto runs_before = session.store()->runs().size();
    TrainRequest bad = tinyRequest(1);
    bad.method = "bogus";
    QVERIFY(!panel.startWith(bad));
    QVERIFY(panel.messagesView()->toPlainText().contains("Cannot start"));
    QCOMPARE(session.store()->runs().size(), runs_before);
    QVERIFY(!panel.isTraining());
  }

  void closingDuringTrainingCancelsAndJoins() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    auto* panel = new TrainPanel(&session);
    panel->form()->setRequest(tinyRequest(200));
    QSignalSpy started(panel, &TrainPanel::runStarted);
    QVERIFY(panel->start());
    QTRY_VERIFY_WITH_TIMEOUT(panel->curvePlot()->liveLossPoints() > 0, 30000);
    QCOMPARE(started.count(), 1);
    const qint64 run = started.at(0).at(0).toLongLong();
    QElapsedTimer t;
    t.start();
    delete panel;  // cancels and waits for the worker
    QVERIFY(t.elapsed() < 20000);
    QCOMPARE(storedStatus(project_, run), std::string("cancelled"));
  }
};

QTEST_MAIN(TestTrainPanel)
#include "test_train_panel.moc"
