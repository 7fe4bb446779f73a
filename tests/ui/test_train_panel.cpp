// The Train panel drives real (tiny) training runs on a demo project offscreen: the engine runs on the worker
// thread, curves and the runs list fill, Stop cancels, a bad weights file fails the run without harm, and
// closing mid-run cancels and joins. Also the smoothing math, presets, throttled replots and the runs model.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QToolButton>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <cmath>
#include <limits>
#include "train/qcustomplot_include.h"

#include "../support/latency_probe.h"
#include "data/store/project_store.h"
#include "demo_generator.h"
#include "project_session.h"
#include "train/curve_plot.h"
#include "train/ema_smoother.h"
#include "train/run_follower.h"
#include "train/runs_model.h"
#include "train/train_form.h"
#include "train/train_panel.h"
#include "train/train_presets.h"
#include "train/training_worker.h"

using namespace mls;
using mls::test::LatencyProbe;

namespace {

TrainRequest tinyRequest(int epochs) {
  TrainRequest r;
  r.method = Method::Q2L;
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

// Every ticked run is drawn (live or as an overlay) and every drawn run is ticked.
bool overlaysMatchTicks(TrainPanel& panel) {
  const auto checked = panel.runsModel()->checkedRuns();
  CurvePlot* plot = panel.curvePlot();
  for (qint64 id : checked) {
    const bool drawn = id == plot->liveRunId() ? plot->liveVisible() : plot->hasOverlay(id);
    if (!drawn) {
      qWarning("run %lld is ticked but not drawn", static_cast<long long>(id));
      return false;
    }
  }
  for (qint64 id : plot->overlayIds())
    if (!checked.contains(id)) {
      qWarning("run %lld is drawn but not ticked", static_cast<long long>(id));
      return false;
    }
  if (plot->liveRunId() > 0 && panel.runsModel()->rowOfRun(plot->liveRunId()) >= 0 &&
      plot->liveVisible() != checked.contains(plot->liveRunId()))
    return false;
  return true;
}

QString otherProject(const QString& dir) {
  DemoOptions d;
  d.train = 20;
  d.val = 10;
  d.size = 32;
  return QString::fromStdString(createDemoProject(dir.toStdString(), d).project);
}

std::string storedStatus(const QString& project, qint64 run_id) {
  ProjectStore store(project.toStdString());
  const auto r = store.run(run_id);
  return r ? runStatusName(r->status) : std::string("<none>");
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
    QCOMPARE(int(presets.size()), 4);
    form.applyPreset(0);
    auto r = form.request();
    QCOMPARE(r.method, Method::Q2L);
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
    QCOMPARE(r.method, Method::MLSPL);
    QCOMPARE(r.loss, std::string("role"));
    QCOMPARE(r.labels, std::string("single"));
    QCOMPARE(r.backbone, std::string("resnet50"));
    QCOMPARE(r.batch, 8);
    QCOMPARE(r.epochs, 10);
    QCOMPARE(r.lr, 1e-5);
    QCOMPARE(r.linear_init, 25);
    QCOMPARE(r.ema, 0.0);
    // The getting-started guide's preset: ROLE from the user's own single positives on the tiny backbone.
    form.applyPreset(trainPresetIndex(QString::fromLatin1(kDemoRolePreset)));
    r = form.request();
    QCOMPARE(r.method, Method::Hybrid);  // a decoder, so Inspect has attention maps to show
    QCOMPARE(r.loss, std::string("role"));
    QCOMPARE(r.labels, std::string("single"));
    QCOMPARE(r.backbone, std::string("tiny"));
    QCOMPARE(r.linear_init, 0);
    QCOMPARE(trainPresetIndex(QStringLiteral("no such preset")), -1);
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
      runs[i].status = i == 1 ? RunStatus::Failed : RunStatus::Finished;
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
    QVERIFY(panel.messagesView()->toPlainText().contains("open a project"));
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
    // GUI event-loop lateness from the start of the run until the panel has handled its end.
    LatencyProbe probe;
    QObject::connect(&panel, &TrainPanel::runFinished, &panel, [&probe] { probe.stop(); });
    QVERIFY(panel.start());
    probe.start();
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
    QVERIFY(!probe.isRunning());
    const auto lat = probe.stats();
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
    bad.labels = "bogus";
    QVERIFY(!panel.startWith(bad));
    QVERIFY(panel.messagesView()->toPlainText().contains("did not start"));
    QCOMPARE(session.store()->runs().size(), runs_before);
    QVERIFY(!panel.isTraining());
  }

  // Issue 9.2: a finished run ticked in the list stayed ticked but undrawn once the next run started.
  void tickedRunsAreTheDrawnRuns() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    panel.form()->setRequest(tinyRequest(1));
    QSignalSpy started(&panel, &TrainPanel::runStarted);
    QSignalSpy finished(&panel, &TrainPanel::runFinished);
    QVERIFY(panel.start());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    const qint64 first = started.at(0).at(0).toLongLong();
    session.setCurrentRun(first);  // what the main window does with a finished run
    QVERIFY(panel.runsModel()->checkedRuns().contains(first));
    QVERIFY(overlaysMatchTicks(panel));
    QVERIFY(panel.start());
    QTRY_COMPARE_WITH_TIMEOUT(started.count(), 2, 60000);
    const qint64 second = started.at(1).at(0).toLongLong();
    QCOMPARE(panel.curvePlot()->liveRunId(), second);
    QVERIFY(panel.runsModel()->checkedRuns().contains(first));
    QVERIFY(panel.curvePlot()->hasOverlay(first));  // the earlier run, still ticked, is drawn as an overlay
    QVERIFY(overlaysMatchTicks(panel));
    // Unticking the live run hides its curves; ticking brings them back.
    panel.runsModel()->setChecked(second, false);
    QVERIFY(!panel.curvePlot()->liveVisible());
    panel.runsModel()->setChecked(second, true);
    QVERIFY(panel.curvePlot()->liveVisible());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 60000);
    panel.runsModel()->setChecked(first, false);
    QVERIFY(!panel.curvePlot()->hasOverlay(first));
    QVERIFY(overlaysMatchTicks(panel));
  }

  // Issue 9.4: a refused start said "Run 0 failed"; no run may be claimed, the reason must be given.
  void refusedStartClaimsNoRun() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    QSignalSpy finished(&panel, &TrainPanel::runFinished);
    QSignalSpy status(&panel, &TrainPanel::statusMessage);
    const auto runs_before = session.store()->runs().size();
    // Refused by the request's own rules (the CLI refuses the same): ROLE is a single-positive loss.
    TrainRequest role = tinyRequest(1);
    role.method = Method::MLSPL;
    role.loss = "role";
    role.labels = "full";
    QVERIFY(!panel.startWith(role));
    QCOMPARE(status.count(), 1);
    QVERIFY2(status.last().at(0).toString().contains("--labels single"), qPrintable(status.last().at(0).toString()));
    QVERIFY(!status.last().at(0).toString().contains("Run 0"));
    // Refused by the engine once the worker has looked at the project (an unknown run to resume).
    TrainRequest resume = tinyRequest(1);
    resume.resume = "no-such-run";
    QVERIFY(panel.startWith(resume));
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isTraining(), 30000);
    QCOMPARE(finished.count(), 0);  // no run existed, so none finished
    QCOMPARE(status.count(), 2);
    const QString text = status.last().at(0).toString();
    QVERIFY2(text.contains("did not start") && text.contains("no-such-run") && !text.contains("Run 0"), qPrintable(text));
    QVERIFY(panel.statusText().contains("did not start"));
    QCOMPARE(session.store()->runs().size(), runs_before);
    QVERIFY(panel.startButton()->isEnabled());
  }

  // The form's choices are the engine's name tables: no method or loss the engine lacks, none missing.
  void comboListsAreTheEngineTables() {
    TrainForm form;
    auto data = [](QComboBox* box) {
      std::vector<std::string> keys;
      for (int i = 0; i < box->count(); ++i) keys.push_back(box->itemData(i).toString().toStdString());
      return keys;
    };
    QCOMPARE(data(form.methodBox()), methodNames());
    for (const Method m : allMethods()) {
      form.methodBox()->setCurrentIndex(form.methodBox()->findData(QString::fromLatin1(methodName(m))));
      QCOMPARE(form.request().method, m);
      QCOMPARE(data(form.lossBox()), lossesForMethod(m));
    }
  }

  // Issue 9.4: switching the method kept the other method's loss and labels.
  void methodOffersItsOwnLosses() {
    TrainForm form;
    form.applyPreset(0);  // Q2L, ASL, full labels
    auto offered = [&form] {
      std::vector<std::string> keys;
      for (int i = 0; i < form.lossBox()->count(); ++i) keys.push_back(form.lossBox()->itemData(i).toString().toStdString());
      return keys;
    };
    QCOMPARE(offered(), lossesForMethod(Method::Q2L));
    form.methodBox()->setCurrentIndex(form.methodBox()->findData("mlspl"));
    QCOMPARE(offered(), lossesForMethod(Method::MLSPL));
    auto r = form.request();
    QCOMPARE(r.loss, std::string("role"));
    QCOMPARE(r.labels, std::string("single"));
    QVERIFY(!form.labelsBox()->isEnabled());  // a single-positive loss trains on single positives only
    r.project = "x";
    r.checkLossChoice();  // what the form gives is what the engine accepts
    form.lossBox()->setCurrentIndex(form.lossBox()->findData("bce"));
    QCOMPARE(form.request().labels, std::string("full"));
    QVERIFY(form.labelsBox()->isEnabled());
    form.methodBox()->setCurrentIndex(form.methodBox()->findData("hybrid"));
    QCOMPARE(offered(), lossesForMethod(Method::Hybrid));
    QCOMPARE(form.request().loss, std::string("role"));
    QCOMPARE(form.request().labels, std::string("single"));
    form.methodBox()->setCurrentIndex(form.methodBox()->findData("q2l"));
    QCOMPARE(form.request().loss, std::string("asl"));
    QCOMPARE(form.request().labels, std::string("full"));
    // Every method's every loss gives a request the engine accepts.
    for (const char* method : {"q2l", "mlspl", "hybrid"}) {
      form.methodBox()->setCurrentIndex(form.methodBox()->findData(method));
      for (int i = 0; i < form.lossBox()->count(); ++i) {
        form.lossBox()->setCurrentIndex(i);
        const TrainRequest req = form.request();
        try {
          req.checkLossChoice();
        } catch (const std::exception& e) {
          QFAIL(e.what());
        }
      }
    }
  }

  // Issue 9.3: the val-mAP axis read -40..40 after the first epoch of a run that followed a long one.
  void axesFitTheRun() {
    CurvePlot plot;
    plot.startLive(1, "long");
    for (int e = 1; e <= 80; ++e) plot.addEpoch(e, 50 + e * 0.1, std::numeric_limits<double>::quiet_NaN());
    plot.addLossPoints({1, 2, 3}, {3, 2, 1});
    plot.flush();
    plot.startLive(2, "next");
    plot.setPlannedEpochs(10);
    plot.addEpoch(1, 42, std::numeric_limits<double>::quiet_NaN());
    plot.addLossPoints({1}, {0.7});
    plot.flush();
    QCPAxis* epoch_axis = plot.plot()->axisRect(1)->axis(QCPAxis::atBottom);
    QCOMPARE(epoch_axis->range().lower, 0.0);
    QVERIFY2(epoch_axis->range().upper >= 10 && epoch_axis->range().upper <= 11, qPrintable(QString::number(epoch_axis->range().upper)));
    const QCPRange map = plot.plot()->axisRect(1)->axis(QCPAxis::atLeft)->range();
    QVERIFY(map.lower >= 0 && map.upper <= 100 && map.contains(42));
    const QCPRange steps = plot.plot()->axisRect(0)->axis(QCPAxis::atBottom)->range();
    QVERIFY(steps.lower == 0 && steps.upper >= 1 && steps.upper < 5);  // one step: not the previous run's width
    const QCPRange loss = plot.plot()->axisRect(0)->axis(QCPAxis::atLeft)->range();
    QVERIFY(loss.contains(0.7) && loss.lower >= 0 && loss.upper < 1);
    // Without a plan the axis ends just after the last epoch drawn.
    plot.reset();
    plot.addEpoch(1, 30, 31);
    plot.flush();
    QCOMPARE(epoch_axis->range().lower, 0.0);
    QVERIFY(epoch_axis->range().upper <= 2);
    plot.resize(500, 500);
    plot.show();
    QVERIFY(QTest::qWaitForWindowExposed(&plot));
    plot.plot()->replot();
    // Nothing listed yet: the plots still take the whole width (an empty legend row squeezed them to a few
    // dozen pixels, seen in the Train tab before the first run).
    QVERIFY2(plot.plot()->axisRect(0)->rect().width() > 350,
             qPrintable(QString::number(plot.plot()->axisRect(0)->rect().width())));
    // The legend has its own row: it covers neither plot.
    plot.startLive(3, "shown");
    plot.addEpoch(1, 30, std::numeric_limits<double>::quiet_NaN());
    plot.addLossPoints({1}, {0.5});
    plot.flush();
    plot.plot()->replot();
    QVERIFY(plot.plot()->legend->itemCount() > 0);
    QVERIFY(plot.plot()->axisRect(0)->rect().width() > 350);
    const QRect legend = plot.plot()->legend->outerRect();
    QVERIFY(!legend.isEmpty());
    QVERIFY(!legend.intersects(plot.plot()->axisRect(0)->rect()));
    QVERIFY(!legend.intersects(plot.plot()->axisRect(1)->rect()));
  }

  // Issue 9.3: white plots with black text under a dark application palette.
  void plotFollowsThePalette() {
    CurvePlot plot;
    plot.resize(400, 400);
    const QPalette before = QApplication::palette();
    QPalette dark = before;
    dark.setColor(QPalette::Base, QColor(30, 30, 32));
    dark.setColor(QPalette::Window, QColor(45, 45, 48));
    dark.setColor(QPalette::Text, QColor(220, 220, 220));
    dark.setColor(QPalette::WindowText, QColor(220, 220, 220));
    QApplication::setPalette(dark);
    QCPAxis* axis = plot.plot()->axisRect(1)->axis(QCPAxis::atBottom);
    QTRY_COMPARE(plot.plotBackground(), QColor(30, 30, 32));
    QCOMPARE(axis->tickLabelColor(), QColor(220, 220, 220));
    QCOMPARE(axis->labelColor(), QColor(220, 220, 220));
    QCOMPARE(plot.plot()->legend->textColor(), QColor(220, 220, 220));
    QApplication::setPalette(before);
    QTRY_COMPARE(plot.plotBackground(), before.color(QPalette::Base));
    QCOMPARE(axis->tickLabelColor(), before.color(QPalette::Text));
    // A palette set on the widget alone is followed as well.
    plot.setPalette(dark);
    QTRY_COMPARE(plot.plotBackground(), QColor(30, 30, 32));
  }

  // Issue 9.1: another project's curves, run list, messages and status stayed in the Train tab.
  void openingAnotherProjectResetsThePanel() {
    QTemporaryDir other_dir;
    const QString other = otherProject(other_dir.path());
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    panel.form()->setRequest(tinyRequest(1));
    QSignalSpy finished(&panel, &TrainPanel::runFinished);
    QVERIFY(panel.start());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QVERIFY(panel.curvePlot()->liveLossPoints() > 0);
    QVERIFY(panel.runsModel()->rowCount() > 0);
    QVERIFY(!panel.statusText().isEmpty());
    QVERIFY(!panel.messagesView()->toPlainText().isEmpty());
    panel.runsModel()->setChecked(panel.runsModel()->runAt(panel.runsModel()->rowCount() - 1)->id, true);
    QVERIFY(!panel.curvePlot()->overlayIds().isEmpty());
    QVERIFY(session.open(other));
    QCOMPARE(panel.curvePlot()->liveLossPoints(), 0);
    QCOMPARE(panel.curvePlot()->liveEpochPoints(), 0);
    QCOMPARE(panel.curvePlot()->liveRunId(), qint64(-1));
    QVERIFY(panel.curvePlot()->overlayIds().isEmpty());
    QCOMPARE(panel.runsModel()->rowCount(), 0);
    QVERIFY(panel.statusText().isEmpty());
    QVERIFY(panel.messagesView()->toPlainText().isEmpty());
    QCOMPARE(panel.progressBar()->value(), 0);
    QCOMPARE(panel.progressBar()->format(), QString("Idle"));
    QCOMPARE(panel.currentRunId(), qint64(-1));
    QCOMPARE(panel.lastStatus(), QString());
    const QCPRange epochs = panel.curvePlot()->plot()->axisRect(1)->axis(QCPAxis::atBottom)->range();
    QVERIFY(epochs.lower == 0 && epochs.upper <= 2);
  }

  // Issue 9.1: the form's project-dependent choices follow the project that opens.
  void formFollowsTheProjectsLabels() {
    QTemporaryDir other_dir;
    const QString other = otherProject(other_dir.path());
    {
      ProjectStore store(other.toStdString());  // a project nobody has annotated yet: full labels only
      for (const auto& [image, sp] : store.singlePositives()) store.setSinglePositive(image, std::nullopt, AnnotationSource::User);
    }
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    TrainRequest role = tinyRequest(1);
    role.method = Method::MLSPL;
    role.loss = "role";
    role.labels = "single";
    role.run_name = "named for the first project";
    panel.form()->setRequest(role);
    QVERIFY(session.open(other));
    const TrainRequest r = panel.form()->request();
    QCOMPARE(r.method, Method::MLSPL);
    QCOMPARE(r.loss, std::string("bce"));  // the MLSPL loss for full labels
    QCOMPARE(r.labels, std::string("full"));
    QCOMPARE(r.run_name, std::string());
    auto* items = qobject_cast<QStandardItemModel*>(panel.form()->labelsBox()->model());
    QVERIFY(items);
    const int single = panel.form()->labelsBox()->findData("single");
    QVERIFY(!items->item(single)->isEnabled());
    // The first single positive makes single-positive training possible.
    session.notifyAnnotationChanged(1);
    QVERIFY(items->item(single)->isEnabled());
    // Back to a project with both: nothing greyed.
    QVERIFY(session.open(project_));
    QVERIFY(items->item(single)->isEnabled());
    QVERIFY(items->item(panel.form()->labelsBox()->findData("full"))->isEnabled());
  }

  // Issue 9.1: a run kept training while another project opens goes on but draws nothing into it.
  void runKeptTrainingDoesNotDrawIntoTheNextProject() {
    QTemporaryDir other_dir;
    const QString other = otherProject(other_dir.path());
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    panel.form()->setRequest(tinyRequest(4));
    QSignalSpy started(&panel, &TrainPanel::runStarted);
    QSignalSpy finished(&panel, &TrainPanel::runFinished);
    QSignalSpy status(&panel, &TrainPanel::statusMessage);
    QVERIFY(panel.start());
    QTRY_VERIFY_WITH_TIMEOUT(panel.curvePlot()->liveLossPoints() > 0, 30000);
    const qint64 run = started.at(0).at(0).toLongLong();
    QVERIFY(session.open(other));  // the main window asked "keep it training" (or did not ask)
    QVERIFY(!panel.isTraining());
    QCOMPARE(panel.backgroundRuns(), 1);
    QVERIFY(panel.startButton()->isEnabled());
    const QString name = QFileInfo(project_).completeBaseName();
    QTRY_VERIFY_WITH_TIMEOUT(!status.isEmpty() && status.last().at(0).toString() ==
                                 QString("Run %1 of %2 finished").arg(run).arg(name), 60000);
    QCOMPARE(panel.backgroundRuns(), 0);
    QCOMPARE(panel.curvePlot()->liveLossPoints(), 0);  // nothing of it reached the new project's plot
    QCOMPARE(panel.curvePlot()->liveEpochPoints(), 0);
    QCOMPARE(finished.count(), 0);  // runFinished is about the open project's runs
    QCOMPARE(panel.runsModel()->rowOfRun(run), -1);
    QCOMPARE(storedStatus(project_, run), std::string("finished"));
    QVERIFY(panel.messagesView()->toPlainText().contains(QString("Run %1 of %2 finished").arg(run).arg(name)));
  }

  // The main window's "Stop the run" before another project opens.
  void stopAndWaitEndsTheRun() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    panel.form()->setRequest(tinyRequest(200));
    QSignalSpy started(&panel, &TrainPanel::runStarted);
    QVERIFY(panel.start());
    QTRY_VERIFY_WITH_TIMEOUT(panel.curvePlot()->liveLossPoints() > 0, 30000);
    QVERIFY(panel.stopAndWait(30000));
    QVERIFY(!panel.isTraining());
    QCOMPARE(panel.lastStatus(), QString("cancelled"));
    QCOMPARE(storedStatus(project_, started.at(0).at(0).toLongLong()), std::string("cancelled"));
    QVERIFY(panel.stopAndWait());  // nothing to stop
  }

  // Issue 9.5: a run that another process (mlstudio-cli train) writes appears and its curves grow live.
  void followsARunWrittenElsewhere() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    panel.follower()->setInterval(100);
    panel.resize(500, 700);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    ProjectStore cli(project_.toStdString());  // the other process's own connection
    const int64_t id = cli.createRun("from-cli", "q2l", tinyRequest(5).toJson(), "");
    std::vector<RunMetric> rows;
    for (int s = 1; s <= 5; ++s) rows.push_back({1, s, "loss", 1.0 / s});
    cli.addRunMetrics(id, rows);
    QTRY_VERIFY_WITH_TIMEOUT(panel.runsModel()->rowOfRun(id) >= 0, 5000);
    QTRY_COMPARE_WITH_TIMEOUT(panel.curvePlot()->overlayLossPoints(id), 5, 5000);
    QVERIFY(panel.runsModel()->checkedRuns().contains(id));
    rows.clear();
    for (int s = 6; s <= 9; ++s) rows.push_back({2, s, "loss", 1.0 / s});
    rows.push_back({1, 5, "val_map_raw", 61.5});
    cli.addRunMetrics(id, rows);
    QTRY_COMPARE_WITH_TIMEOUT(panel.curvePlot()->overlayLossPoints(id), 9, 5000);
    QVERIFY(overlaysMatchTicks(panel));
    cli.finishRun(id, RunStatus::Finished, "", 61.5);
    const auto statusOf = [&panel, id] {
      return panel.runsModel()->data(panel.runsModel()->index(panel.runsModel()->rowOfRun(id), RunsModel::StatusColumn)).toString();
    };
    QTRY_COMPARE_WITH_TIMEOUT(statusOf(), QString("finished"), 5000);
    // Once nothing runs and the tab is hidden, the follower rests.
    panel.hide();
    QTRY_VERIFY_WITH_TIMEOUT(!panel.follower()->isPolling(), 5000);
  }

  // Issue 9.6: the curves get the room; the tab fits a 1280x720 screen's dock.
  void compactLayout() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    const QSize min = panel.minimumSizeHint();
    QVERIFY2(min.width() <= 380 && min.height() <= 500, qPrintable(QString("%1x%2").arg(min.width()).arg(min.height())));
    panel.resize(460, 760);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    QVERIFY(panel.form()->isVisible());
    panel.setSettingsVisible(false);
    QVERIFY(!panel.form()->isVisible());
    QVERIFY(!panel.settingsButton()->isChecked());
    QTRY_VERIFY(panel.curvePlot()->height() > panel.height() / 2);  // the plots are the main thing
    panel.settingsButton()->click();
    QVERIFY(panel.form()->isVisible());
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
