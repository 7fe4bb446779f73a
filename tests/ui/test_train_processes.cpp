// Data-parallel runs from the Train tab: the form's Processes (range, default, the batch it must divide), the
// `mlstudio-cli train` command the panel starts for more than one process, how the launcher child is stopped
// (SIGINT, a second one after a grace period), kept in the background or stopped when the project changes or
// the panel closes, its failure shown like an in-process one, and a real 2-process run on a demo project whose
// curves arrive from the project and whose Stop leaves a cancelled run and no process behind.
#include <signal.h>
#include <sys/types.h>

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QThread>
#include <QComboBox>
#include <QtTest/QtTest>
#include <cerrno>

#include "data/store/project_store.h"
#include "demo_generator.h"
#include "ml/device.h"
#include "project_session.h"
#include "train/curve_plot.h"
#include "train/process_run.h"
#include "train/run_follower.h"
#include "train/train_form.h"
#include "train/train_panel.h"

using namespace mls;

namespace {

TrainRequest tinyRequest(int epochs) {
  TrainRequest r;
  r.method = Method::Q2L;
  r.loss = "asl";
  r.labels = "full";
  r.backbone = "tiny";
  r.image_size = 32;
  r.batch = 16;
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
  return r ? runStatusName(r->status) : std::string("<none>");
}

bool processGone(qint64 pid) { return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH; }

// Processes (other than this test) whose command line mentions `needle` (a project path).
QStringList processesMentioning(const QString& needle) {
  QStringList found;
  const QString self = QString::number(QCoreApplication::applicationPid());
  for (const QString& pid : QDir("/proc").entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
    bool numeric = false;
    pid.toLongLong(&numeric);
    if (!numeric || pid == self) continue;
    QFile f("/proc/" + pid + "/cmdline");
    if (!f.open(QIODevice::ReadOnly)) continue;
    const QByteArray cmd = f.readAll().replace('\0', ' ');
    QFile stat("/proc/" + pid + "/stat");
    const bool zombie = stat.open(QIODevice::ReadOnly) && stat.readAll().contains(") Z ");
    if (!zombie && cmd.contains(needle.toUtf8())) found << pid + ": " + QString::fromUtf8(cmd);
  }
  return found;
}

// This build's mlstudio-cli, or MLS_TEST_CLI (another build's, e.g. one with a newer launcher).
QString cliPath() { return qEnvironmentVariable("MLS_TEST_CLI", QStringLiteral(MLS_CLI_PATH)); }

QString cliHelp() {
  QProcess p;
  p.start(cliPath(), {"train", "--help"});
  p.waitForFinished(60000);
  return QString::fromUtf8(p.readAllStandardOutput() + p.readAllStandardError());
}

}  // namespace

class TestTrainProcesses : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString project_;

  // A stand-in for mlstudio-cli: writes its arguments (one a line) to <name>.args and its pid to <name>.pid,
  // then runs `body` (sh).
  QString fakeCli(const QString& name, const QString& body) {
    const QString path = dir_.filePath(name);
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(QStringLiteral("#!/bin/sh\nprintf '%s\\n' \"$@\" > '%1.args'\necho $$ > '%1.pid'\n%2\n")
                .arg(path, body)
                .toUtf8());
    f.close();
    f.setPermissions(f.permissions() | QFileDevice::ExeOwner);
    return path;
  }
  QStringList argsOf(const QString& fake) {
    QFile f(fake + ".args");
    if (!f.open(QIODevice::ReadOnly)) return {};
    return QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
  }
  qint64 pidOf(const QString& fake) {
    QFile f(fake + ".pid");
    return f.open(QIODevice::ReadOnly) ? f.readAll().trimmed().toLongLong() : 0;
  }

 private Q_SLOTS:
  void initTestCase() {
    qputenv("OMP_NUM_THREADS", "1");  // every rank: 2 ranks share 2 cores
    QVERIFY(dir_.isValid());
    DemoOptions d;
    d.train = 64;
    d.val = 32;
    d.size = 32;
    project_ = QString::fromStdString(createDemoProject(dir_.path().toStdString(), d).project);
  }

  void processesRangeAndDefault() {
    TrainForm form;
    QCOMPARE(form.processes(), 1);
    QCOMPARE(form.processesBox()->minimum(), 1);
    QVERIFY(form.processesBox()->toolTip().contains("batch"));
    auto* device = form.deviceBox();
    device->setCurrentIndex(device->findData("cpu"));
    QCOMPARE(form.processesBox()->maximum(), std::max(1, QThread::idealThreadCount()));
    device->setCurrentIndex(device->findData("auto"));
    const int cuda = static_cast<int>(cudaDevices().size());
    QCOMPARE(form.processesBox()->maximum(), cuda > 0 ? cuda : std::max(1, QThread::idealThreadCount()));
    form.setProcesses(1000);
    QCOMPARE(form.processes(), form.processesBox()->maximum());
    // A preset is about the model, not this machine: it keeps the processes.
    form.setProcesses(1);
    form.applyPreset(0);
    QCOMPARE(form.processes(), 1);
  }

  void batchMustSplitOverTheProcesses() {
    if (QThread::idealThreadCount() < 2) QSKIP("one core: the form offers one CPU process");
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    TrainRequest r = tinyRequest(1);
    r.batch = 15;
    panel.form()->setRequest(r);
    panel.form()->deviceBox()->setCurrentIndex(panel.form()->deviceBox()->findData("cpu"));
    QVERIFY(panel.startButton()->isEnabled());  // one process takes any batch
    panel.form()->setProcesses(2);
    QVERIFY(!panel.startButton()->isEnabled());
    QVERIFY2(panel.startButton()->toolTip().contains("15") && panel.startButton()->toolTip().contains("2 processes"),
             qPrintable(panel.startButton()->toolTip()));
    QVERIFY(!panel.start());
    QVERIFY(panel.messagesView()->toPlainText().contains("does not split evenly"));
    r.batch = 16;
    panel.form()->setRequest(r);
    QCOMPARE(panel.form()->processes(), 2);
    QVERIFY(panel.startButton()->isEnabled());
    QVERIFY(panel.form()->processesProblem().isEmpty());
  }

  // The panel runs `mlstudio-cli train <the request's flags> --nproc-per-node N`; a launcher that fails shows
  // its last error line as the run's failure.
  void launchesTheCliWithTheRequest() {
    const QString fake = fakeCli("fail-cli", "echo 'rank 1: starting' >&2\necho 'error: rank 1 failed: boom' >&2\nexit 3");
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    panel.setCliProgram(fake);
    TrainRequest r = tinyRequest(2);
    r.run_name = "two ranks";
    r.lr = 3e-4;
    panel.form()->setRequest(r);
    QSignalSpy finished(&panel, &TrainPanel::runFinished);
    QSignalSpy status(&panel, &TrainPanel::statusMessage);
    QVERIFY(panel.startWith(panel.form()->request(), 2));
    QVERIFY(panel.isTraining());
    QVERIFY(panel.processRun() != nullptr);
    QVERIFY(!panel.startButton()->isEnabled());
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isTraining(), 10000);
    const QStringList args = argsOf(fake);
    QCOMPARE(args.value(0), QString("train"));
    const auto value = [&args](const QString& flag) {
      const int i = args.indexOf(flag);
      return i >= 0 ? args.value(i + 1) : QString("<missing>");
    };
    QCOMPARE(value("--project"), project_);
    QCOMPARE(value("--nproc-per-node"), QString("2"));
    QCOMPARE(value("--batch"), QString("16"));
    QCOMPARE(value("--epochs"), QString("2"));
    QCOMPARE(value("--lr"), QString("0.0003"));
    QCOMPARE(value("--device"), QString("cpu"));
    QCOMPARE(value("--run-name"), QString("two ranks"));
    // The child's stderr is in the messages; the failure is the launcher's last error line.
    const QString log = panel.messagesView()->toPlainText();
    QVERIFY2(log.contains("rank 1: starting"), qPrintable(log));
    QVERIFY2(panel.statusText().contains("rank 1 failed: boom"), qPrintable(panel.statusText()));
    QVERIFY(panel.startButton()->isEnabled());
    QVERIFY(panel.processRun() == nullptr);
    QVERIFY(processGone(pidOf(fake)));

    // Every flag is one the real `mlstudio-cli train` takes.
    const QString help = cliHelp();
    QVERIFY2(help.contains("--batch"), qPrintable(help));
    bool launcher = false;
    for (const QString& a : args) {
      if (!a.startsWith("--")) continue;
      const QString flag = a.section('=', 0, 0);
      if (flag == "--nproc-per-node") {
        launcher = help.contains(flag);
        continue;
      }
      QVERIFY2(help.contains(flag + " ") || help.contains(flag + "\n") || help.contains(flag + ","), qPrintable(flag));
    }
    if (!launcher) QSKIP("mlstudio-cli train has no --nproc-per-node yet (the launcher, branch dist-launch)");
  }

  void missingCliIsAClearRefusal() {
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    panel.setCliProgram(dir_.filePath("no-such-cli"));
    panel.form()->setRequest(tinyRequest(1));
    QVERIFY(panel.startWith(panel.form()->request(), 2));
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isTraining(), 10000);
    QVERIFY2(panel.statusText().contains("no-such-cli"), qPrintable(panel.statusText()));
    QVERIFY(panel.startButton()->isEnabled());
  }

  // Stop: SIGINT, and a second SIGINT when the launcher has not ended after the grace period.
  void stopSendsSigintThenASecond() {
    const QString fake = fakeCli("stubborn-cli",
                                 "n=0\ntrap 'n=$((n+1)); echo \"SIGINT $n\" >&2; [ $n -ge 2 ] && exit 130' INT\n"
                                 "while :; do sleep 0.05; done");
    ProcessRun run;
    QSignalSpy finished(&run, &ProcessRun::runFinished);
    QSignalSpy messages(&run, &ProcessRun::message);
    run.start(fake, {"train"}, QString(), 0);
    QTRY_VERIFY_WITH_TIMEOUT(pidOf(fake) > 0, 5000);
    QVERIFY(run.isRunning());
    QElapsedTimer t;
    t.start();
    run.stop(600);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QVERIFY(t.elapsed() >= 500);
    QString text;
    for (const auto& m : messages) text += m.at(1).toString() + '\n';
    QVERIFY2(text.contains("SIGINT 1") && text.contains("SIGINT 2"), qPrintable(text));
    QCOMPARE(finished.at(0).at(1).toString(), QString("cancelled"));  // stopped by the user
    QVERIFY(processGone(pidOf(fake)));
  }

  void progressLinesAreParsed() {
    ProgressInfo p;
    QVERIFY(ProcessRun::parseProgress("epoch 2/10  step 3/7  loss 0.4123  23.5%  ETA 1m02s", &p));
    QCOMPARE(p.epoch, 2);
    QCOMPARE(p.epochs, 10);
    QCOMPARE(p.step, qint64(3));
    QCOMPARE(p.steps_per_epoch, qint64(7));
    QCOMPARE(p.fraction, 0.235);
    QCOMPARE(p.eta_seconds, 62.0);
    QVERIFY(ProcessRun::parseProgress("[rank 0] epoch 1/1  step 1/1  loss 1  100.0%  ETA 1h00m05s", &p));
    QCOMPARE(p.eta_seconds, 3605.0);
    QVERIFY(!ProcessRun::parseProgress("epoch 2: train loss 0.41, val mAP 60.00, 1.2 s", &p));
  }

  // Opening another project mid-run keeps the launcher going in the background (reported when it ends);
  // closing the panel stops it and waits: no process is left.
  void projectSwitchKeepsItAndClosingStopsIt() {
    const QString fake = fakeCli("slow-cli", "trap 'echo interrupted >&2; exit 0' INT\nwhile :; do sleep 0.05; done");
    QTemporaryDir other_dir;
    DemoOptions d;
    d.train = 8;
    d.val = 4;
    d.size = 32;
    const QString other = QString::fromStdString(createDemoProject(other_dir.path().toStdString(), d).project);
    ProjectSession session;
    QVERIFY(session.open(project_));
    auto* panel = new TrainPanel(&session);
    panel->setCliProgram(fake);
    panel->form()->setRequest(tinyRequest(1));
    QSignalSpy status(panel, &TrainPanel::statusMessage);
    QVERIFY(panel->startWith(panel->form()->request(), 2));
    QTRY_VERIFY_WITH_TIMEOUT(pidOf(fake) > 0, 5000);
    const qint64 first = pidOf(fake);
    QVERIFY(session.open(other));
    QVERIFY(!panel->isTraining());
    QCOMPARE(panel->backgroundRuns(), 1);
    QVERIFY(!processGone(first));
    QVERIFY(panel->startButton()->isEnabled());
    // A second run on the new project; then the window closes with both going.
    QFile::remove(fake + ".pid");
    QVERIFY(panel->startWith(panel->form()->request(), 2));
    QTRY_VERIFY_WITH_TIMEOUT(pidOf(fake) > 0, 5000);
    const qint64 second = pidOf(fake);
    QElapsedTimer t;
    t.start();
    delete panel;
    QVERIFY(t.elapsed() < 10000);
    QVERIFY(processGone(first));
    QVERIFY(processGone(second));
  }

  // The real launcher: 2 CPU processes train on the demo project; their curves come from the project; a
  // finished run is drawn whole; Stop ends a long one cancelled with no process left.
  void twoProcessRunEndToEnd() {
    if (!cliHelp().contains("--nproc-per-node"))
      QSKIP("mlstudio-cli train has no --nproc-per-node yet (the launcher, branch dist-launch)");
    ProjectSession session;
    QVERIFY(session.open(project_));
    TrainPanel panel(&session);
    panel.setCliProgram(cliPath());
    panel.follower()->setInterval(200);
    QSignalSpy started(&panel, &TrainPanel::runStarted);
    QSignalSpy finished(&panel, &TrainPanel::runFinished);
    QElapsedTimer t;
    t.start();
    panel.form()->setRequest(tinyRequest(2));
    QVERIFY(panel.startWith(panel.form()->request(), 2));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
    qInfo("2-process run of 2 epochs: %.1f s", t.elapsed() / 1000.0);
    QVERIFY2(finished.at(0).at(1).toString() == "finished", qPrintable(panel.messagesView()->toPlainText()));
    QCOMPARE(started.count(), 1);
    const qint64 run = started.at(0).at(0).toLongLong();
    QCOMPARE(finished.at(0).at(0).toLongLong(), run);
    QCOMPARE(storedStatus(project_, run), std::string("finished"));
    // 64 train images, global batch 16 (8 per rank): 4 steps per epoch recorded by rank 0.
    QCOMPARE(panel.curvePlot()->liveRunId(), run);
    QCOMPARE(panel.curvePlot()->liveLossPoints(), 8);
    QCOMPARE(panel.curvePlot()->liveEpochPoints(), 2);
    QVERIFY(processesMentioning(project_).isEmpty());

    // A long run: curve points arrive while it trains; Stop cancels every rank.
    panel.form()->setRequest(tinyRequest(500));
    t.restart();
    QVERIFY(panel.startWith(panel.form()->request(), 2));
    const qint64 launcher = panel.processRun()->processId();
    QElapsedTimer waited;
    waited.start();
    while (panel.curvePlot()->liveLossPoints() < 4 && panel.isTraining() && waited.elapsed() < 60000) QTest::qWait(50);
    if (panel.curvePlot()->liveLossPoints() < 4) qInfo().noquote() << panel.messagesView()->toPlainText();
    QVERIFY(panel.curvePlot()->liveLossPoints() >= 4);
    qInfo("first curve points from the project after %.1f s", t.elapsed() / 1000.0);
    QVERIFY(panel.currentRunId() > run);
    const qint64 second = panel.currentRunId();
    QVERIFY(panel.isTraining());
    panel.stop();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 60000);
    QCOMPARE(finished.at(1).at(0).toLongLong(), second);
    QCOMPARE(finished.at(1).at(1).toString(), QString("cancelled"));
    QCOMPARE(storedStatus(project_, second), std::string("cancelled"));
    QCOMPARE(panel.lastStatus(), QString("cancelled"));
    QVERIFY(panel.curvePlot()->liveEpochPoints() < 500);
    QVERIFY(processGone(launcher));
    QTRY_VERIFY_WITH_TIMEOUT(processesMentioning(project_).isEmpty(), 5000);
  }
};

QTEST_MAIN(TestTrainProcesses)
#include "test_train_processes.moc"
