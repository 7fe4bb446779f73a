// Fault trials (issue 11 §2), run as ordinary tests on the CPU without a display:
//  - SIGKILL while labels are being stored (through the store and through the Annotate panel's commit path),
//  - SIGKILL of `mlstudio-cli train` at several points, then `--resume`,
//  - other CLI processes writing the project while one trains,
//  - checkpoints that cannot be written (an unwritable folder mid-run; a file-size limit as a full disk).
// Each trial waits for observable state (an "ack" line, a row in the project, a progress line, a reader on a
// FIFO) with generous deadlines; nothing asserts on elapsed time. Random kill moments come from fixed seeds.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <fcntl.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <optional>
#include <vector>

#include "../support/sql_rows.h"
#include "cli_runner.h"
#include "data/store/project_store.h"
#include "fault_child.h"

namespace {

QStringList rows(const QString& file, const QString& statement) { return mls::test::sqlRows(file, statement, true); }
QString value(const QString& file, const QString& statement) { return mls::test::sqlValue(file, statement, true); }

struct Ack {
  int n;
  qint64 image, category;
};
// The complete "ack <n> <image> <category>" lines; a line cut off by the kill does not count.
std::vector<Ack> acks(const QByteArray& out) {
  std::vector<Ack> all;
  auto lines = out.split('\n');
  lines.removeLast();  // what follows the last newline: empty, or a line cut off by the kill
  for (const auto& line : lines) {
    const auto f = line.split(' ');
    if (f.size() == 4 && f[0] == "ack") all.push_back({f[1].toInt(), f[2].toLongLong(), f[3].toLongLong()});
  }
  return all;
}

void ignoreFileSizeSignal() { ::signal(SIGXFSZ, SIG_IGN); }  // writes past the limit then fail with EFBIG

// How many files whose names start with `prefix` were opened since the last call (drains the inotify queue).
int filesOpened(int watch, const QByteArray& prefix) {
  alignas(inotify_event) char buffer[4096];
  int opened = 0;
  ssize_t n;
  while ((n = ::read(watch, buffer, sizeof buffer)) > 0) {
    for (char* p = buffer; p < buffer + n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(p);
      if (event->len > 0 && QByteArray(event->name).startsWith(prefix)) ++opened;
      p += sizeof(inotify_event) + event->len;
    }
  }
  return opened;
}

QByteArray fileBytes(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// A checkpoint file torch can read and that carries our format key.
bool loadableCheckpoint(const QString& path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path.toStdString(), torch::Device(torch::kCPU));
    c10::IValue format;
    return archive.try_read("mls_format", format) && format.isString();
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

class TestFaultTrials : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString labels_base_, train_base_;
  int copies_ = 0;

  // A fresh copy of a base project in the base's folder (the images folder is stored relative to it).
  QString copyOf(const QString& base) {
    const QString copy = QFileInfo(base).absolutePath() + QString("/trial_%1.mlsproj").arg(++copies_);
    [&] { QVERIFY(QFile::copy(base, copy)); }();
    return copy;
  }
  static QStringList trainArgs(const QString& project, const QString& name, int epochs) {
    return {"train",    "--project", project, "--run-name", name, "--epochs", QString::number(epochs),
            "--image-size", "32", "--batch", "8"};
  }
  static QString runId(const QString& project, const QString& name) {
    return value(project, "SELECT id FROM runs WHERE name = '" + name + "'");
  }
  static int checkpointRows(const QString& project, const QString& run, int epoch) {
    return value(project, QString("SELECT count(*) FROM checkpoints WHERE run_id = %1 AND epoch = %2")
                              .arg(run)
                              .arg(epoch))
        .toInt();
  }

  // After a kill: the file is intact, opens for writing, and the run is marked as interrupted (stale-run check).
  static void expectInterruptedRun(const QString& project, const QString& run) {
    QCOMPARE(value(project, "PRAGMA integrity_check"), QString("ok"));
    mls::ProjectStore store(project.toStdString(), mls::ProjectStore::Open::Existing);
    const auto record = store.run(run.toLongLong());
    QVERIFY(record.has_value());
    QCOMPARE(record->status, mls::RunStatus::Failed);
    QVERIFY2(QString::fromStdString(record->message).startsWith("interrupted: its process"), record->message.c_str());
  }

  // Every checkpoint row names a file that exists and loads.
  static void expectCheckpointFilesExist(const QString& project, const QString& run) {
    const auto paths = rows(project, "SELECT path FROM checkpoints WHERE run_id = " + run);
    for (const auto& p : paths) {
      const QString file = QDir(QFileInfo(project).absolutePath()).absoluteFilePath(p);
      QVERIFY2(QFileInfo::exists(file), qPrintable("checkpoint row without a file: " + p));
    }
  }
  static QString valEpochs(const QString& project, const QString& run) {
    return rows(project,
                "SELECT epoch FROM run_metrics WHERE run_id = " + run + " AND name = 'val_map' ORDER BY epoch, rowid")
        .join(',');
  }
  static QString expectedEpochs(int epochs) {
    QStringList e;
    for (int i = 1; i <= epochs; ++i) e << QString::number(i);
    return e.join(',');
  }

  // `train --resume` after a kill: continues from the last recorded checkpoint and finishes the run.
  static void resumeToTheEnd(const QString& project, const QString& run, int epochs) {
    const auto r = runCli({"train", "--project", project, "--resume", run, "--epochs", QString::number(epochs)});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY2(r.err.contains("resuming from"), r.err.constData());
    QCOMPARE(value(project, "PRAGMA integrity_check"), QString("ok"));
    QCOMPARE(value(project, "SELECT status FROM runs WHERE id = " + run), QString("finished"));
    expectCheckpointFilesExist(project, run);
  }

  // One label-writer child killed after a seeded random number of acknowledgements: every acknowledged label
  // is in the project, plus at most the one in flight, and the file is intact.
  void killLabelWriter(const QString& program, QRandomGenerator& random, int max_acks_before_kill) {
    const QString project = copyOf(labels_base_);
    const int history_before = value(project, "SELECT count(*) FROM annotation_history").toInt();
    const int target = 1 + static_cast<int>(random.bounded(max_acks_before_kill));
    const int extra_us = static_cast<int>(random.bounded(3000));
    FaultChild child(program, {project, "100000"});
    QVERIFY2(child.waitUntil([&] { return static_cast<int>(acks(child.out()).size()) >= target; }),
             child.err().constData());
    if (extra_us > 0) QThread::usleep(static_cast<unsigned long>(extra_us));
    QVERIFY2(child.running(), "the writer ended before it was killed");
    child.killNow();
    const auto acked = acks(child.out());
    const int n = static_cast<int>(acked.size());
    QVERIFY(n >= target);
    QCOMPARE(acked.back().n, n);

    QCOMPARE(value(project, "PRAGMA integrity_check"), QString("ok"));
    // The history holds one row per committed write, in order: the acknowledged ones, maybe one more.
    const auto history = rows(project, QString("SELECT image_id || ' ' || new_category_id FROM annotation_history "
                                               "ORDER BY seq LIMIT -1 OFFSET %1").arg(history_before));
    QVERIFY2(history.size() == n || history.size() == n + 1,
             qPrintable(QString("%1 acknowledged, %2 in the history").arg(n).arg(history.size())));
    for (int i = 0; i < n; ++i) {
      const Ack& a = acked[static_cast<size_t>(i)];
      QCOMPARE(history[i], QString("%1 %2").arg(a.image).arg(a.category));
    }
    // Each image holds the last label written to it (the in-flight one counts when the history has it).
    std::map<qint64, qint64> last;
    for (const auto& h : history) last[h.section(' ', 0, 0).toLongLong()] = h.section(' ', 1, 1).toLongLong();
    mls::ProjectStore store(project.toStdString(), mls::ProjectStore::Open::Existing);  // it opens
    for (const auto& [image, category] : last) {
      const auto sp = store.singlePositive(image);
      QVERIFY(sp.has_value());
      QCOMPARE(sp->category_id, category);
      QCOMPARE(sp->source, mls::AnnotationSource::User);
    }
  }


  // Where the kill left the run: the last epoch with validation rows and the last with a checkpoint row. A
  // kill between the two (validation recorded, checkpoint not yet) makes the resumed run validate that epoch
  // again.
  struct KillPoint {
    int validated = 0, checkpointed = 0;
    bool betweenValidationAndCheckpoint() const { return validated > checkpointed; }
  };
  static KillPoint killPoint(const QString& project, const QString& run) {
    return {value(project, "SELECT COALESCE(MAX(epoch), 0) FROM run_metrics WHERE run_id = " + run +
                               " AND name = 'val_map'")
                .toInt(),
            value(project, "SELECT COALESCE(MAX(epoch), 0) FROM checkpoints WHERE run_id = " + run).toInt()};
  }
  // After the resumed run: validation rows for epochs 1..E, exactly once each, also when the kill fell after
  // an epoch's validation was recorded but before its checkpoint (the resume replaces those rows).
  static void expectContiguousEpochs(const QString& project, const QString& run, int epochs, const KillPoint& killed) {
    QVERIFY2(killed.validated <= killed.checkpointed + 1, "validation recorded for an epoch past the next one");
    QCOMPARE(valEpochs(project, run), expectedEpochs(epochs));
  }

  // The run's checkpoint folder, as recorded.
  static QString checkpointDir(const QString& project, const QString& run) {
    return value(project, "SELECT checkpoint_dir FROM runs WHERE id = " + run);
  }
  static QStringList tempFiles(const QString& dir) {
    return QDir(dir).entryList({"*.tmp"}, QDir::AllEntries | QDir::System);
  }

  // The single "error: could not save the checkpoint …: <reason>" line a failed checkpoint write ends with.
  static void expectCheckpointError(const QByteArray& err, const QByteArray& reason) {
    const auto lines = err.trimmed().split('\n');
    int errors = 0;
    for (const auto& l : lines) errors += l.startsWith("error: ") ? 1 : 0;
    QCOMPARE(errors, 1);
    QVERIFY2(lines.last().startsWith("error: could not save the checkpoint "), err.constData());
    QVERIFY2(lines.last().endsWith(": " + reason), err.constData());
  }
  // After a failed checkpoint write: the file is intact and the run failed with that message; the earlier
  // checkpoint files are byte-for-byte as they were, still load, and no temp file is left behind.
  static void expectConsistentAfterFailedWrite(const QString& project, const QString& run, const QString& dir,
                                               const std::map<QString, QByteArray>& before) {
    QCOMPARE(value(project, "PRAGMA integrity_check"), QString("ok"));
    QCOMPARE(value(project, "SELECT status FROM runs WHERE id = " + run), QString("failed"));
    QVERIFY(value(project, "SELECT message FROM runs WHERE id = " + run).startsWith("could not save the checkpoint "));
    for (const auto& [name, bytes] : before) {
      QVERIFY2(fileBytes(dir + "/" + name) == bytes, qPrintable(name + " changed"));
      QVERIFY2(loadableCheckpoint(dir + "/" + name), qPrintable(name));
    }
    QCOMPARE(tempFiles(dir), QStringList());
    expectCheckpointFilesExist(project, run);
  }
  static std::map<QString, QByteArray> snapshot(const QString& dir) {
    std::map<QString, QByteArray> files;
    for (const auto& name : QDir(dir).entryList({"*.pt"}, QDir::Files)) files[name] = fileBytes(dir + "/" + name);
    return files;
  }

  // A train child killed once `when` holds; then the run must read as interrupted, resume, and finish.
  void killTrainingAndResume(const QString& name, const std::function<bool(FaultChild&, const QString&)>& when,
                             const std::function<void()>& after_kill = {}) {
    const QString project = copyOf(train_base_);
    FaultChild child(QStringLiteral(MLS_CLI_PATH), trainArgs(project, name, 3));
    QVERIFY2(child.waitUntil([&] { return when(child, project); }), child.err().constData());
    QVERIFY2(child.running(), child.err().constData());
    child.killNow();
    if (after_kill) after_kill();
    const QString run = runId(project, name);
    if (value(project, "SELECT status FROM runs WHERE id = " + run) == "finished") {
      // A random moment can fall after the run has finished but before the process exited (an idle machine
      // trains these 3 epochs in about a second): the project must then simply be whole.
      QCOMPARE(value(project, "PRAGMA integrity_check"), QString("ok"));
      expectCheckpointFilesExist(project, run);
      qInfo("%s: the kill came after the run had finished", qPrintable(name));
      return;
    }
    expectInterruptedRun(project, run);
    if (QTest::currentTestFailed()) return;
    const KillPoint killed = killPoint(project, run);
    if (killed.checkpointed == 0) {
      // Nothing to continue from: --resume says so in one line and changes nothing.
      expectCliError({"train", "--project", project, "--resume", run}, "has no checkpoint to resume from");
      QCOMPARE(value(project, "SELECT status FROM runs WHERE id = " + run), QString("failed"));
      return;
    }
    resumeToTheEnd(project, run, 3);
    if (QTest::currentTestFailed()) return;
    expectContiguousEpochs(project, run, 3, killed);
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    auto r = runCli({"demo", "--out", dir_.path() + "/labels", "--train", "60", "--val", "10", "--size", "32"});
    QVERIFY2(r.code == 0, r.err.constData());
    labels_base_ = dir_.path() + "/labels/demo.mlsproj";
    // Training trials: epochs of 20 steps so a progress line can fall inside one, and a val split to validate.
    r = runCli({"demo", "--out", dir_.path() + "/train", "--train", "160", "--val", "80", "--size", "32"});
    QVERIFY2(r.code == 0, r.err.constData());
    train_base_ = dir_.path() + "/train/demo.mlsproj";
  }

  // §2.1: the store path (what every label write of the Annotate panel ends in), six seeded kill moments.
  void sigkillDuringLabelWrites() {
    QRandomGenerator random(20261101);
    for (int trial = 0; trial < 6; ++trial) {
      killLabelWriter(QStringLiteral(MLS_FAULT_LABEL_WRITER), random, 400);
      if (QTest::currentTestFailed()) QFAIL(qPrintable(QString("trial %1").arg(trial)));
    }
  }

  // §2.1, GUI path: an offscreen Annotate panel's assignCategory (its undo command commits to the store).
  void sigkillDuringAnnotatePanelWrites() {
#ifdef MLS_FAULT_ANNOTATE_WRITER
    QRandomGenerator random(20261102);
    for (int trial = 0; trial < 2; ++trial) {
      killLabelWriter(QStringLiteral(MLS_FAULT_ANNOTATE_WRITER), random, 100);
      if (QTest::currentTestFailed()) QFAIL(qPrintable(QString("trial %1").arg(trial)));
    }
#else
    QSKIP("built without the GUI");
#endif
  }

  // §2.2, before the first checkpoint: killed as soon as training starts.
  void sigkillTrainingBeforeFirstCheckpoint() {
    killTrainingAndResume("before-checkpoint",
                          [](FaultChild& c, const QString&) { return c.err().contains("training on"); });
  }

  // §2.2, right after a checkpoint: killed once the checkpoint row of epoch 1 is in the project.
  void sigkillTrainingRightAfterCheckpoint() {
    killTrainingAndResume("after-checkpoint", [](FaultChild&, const QString& project) {
      const QString run = runId(project, "after-checkpoint");
      return !run.isEmpty() && checkpointRows(project, run, 1) == 1;
    });
  }

  // Kills a training run once `count` files starting with `prefix` were opened after the checkpoint of
  // epoch 1 was recorded (inotify on the images folder; training reads train_* files, validation val_* ones).
  void killOnImageOpens(const QString& name, const QByteArray& prefix, int count) {
    const QString images = dir_.path() + "/train/images";
    const int watch = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    QVERIFY(watch >= 0);
    QVERIFY(inotify_add_watch(watch, images.toUtf8().constData(), IN_OPEN) >= 0);
    bool armed = false;
    int opened = 0;
    killTrainingAndResume(name, [&](FaultChild&, const QString& project) {
      const int now = filesOpened(watch, prefix);
      if (!armed) {
        const QString run = runId(project, name);
        armed = !run.isEmpty() && checkpointRows(project, run, 1) == 1;  // what opens from here on is epoch 2's
        return false;
      }
      opened += now;
      return opened >= count;
    });
    ::close(watch);
  }

  // §2.2, mid-epoch: epoch 2 has opened 100 training image files (each is opened once or twice, and the loader
  // runs at most 4 batches of 8 ahead of the steps: the kill lands between steps 2 and 13 of 20).
  void sigkillTrainingMidEpoch() { killOnImageOpens("mid-epoch", "train_", 100); }

  // §2.2, during validation: epoch 2's validation has opened its first val image.
  void sigkillTrainingDuringValidation() { killOnImageOpens("during-validation", "val_", 1); }

  // §2.2, while the checkpoint of epoch 2 is being written: its temp file is a FIFO whose small buffer fills,
  // so the writer blocks inside the write, after epoch 2's validation was recorded. Deterministic.
  void sigkillTrainingDuringCheckpointWrite() {
    const QString project = copyOf(train_base_);
    const QString next_run =
        value(project, "SELECT COALESCE(MAX(seq), 0) + 1 FROM sqlite_sequence WHERE name = 'runs'");
    const QFileInfo file(project);
    const QString dir = file.absolutePath() + "/" + file.completeBaseName() + ".runs/run_" + next_run;
    QVERIFY(QDir().mkpath(dir));
    const QByteArray fifo = (dir + "/epoch_002.pt.tmp").toUtf8();
    QCOMPARE(::mkfifo(fifo.constData(), 0644), 0);
    const int reader = ::open(fifo.constData(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    QVERIFY(reader >= 0);
    QVERIFY(::fcntl(reader, F_SETPIPE_SZ, 4096) > 0);
    const QString name = "checkpoint-write";
    FaultChild child(QStringLiteral(MLS_CLI_PATH), trainArgs(project, name, 3));
    QVERIFY2(child.waitUntil([&] {
      int pending = 0;
      return ::ioctl(reader, FIONREAD, &pending) == 0 && pending > 0;
    }), child.err().constData());
    QVERIFY2(child.running(), child.err().constData());
    child.killNow();
    ::close(reader);
    QCOMPARE(::unlink(fifo.constData()), 0);
    const QString run = runId(project, name);
    QCOMPARE(run, next_run);
    expectInterruptedRun(project, run);
    const KillPoint killed = killPoint(project, run);
    QCOMPARE(killed.validated, 2);
    QCOMPARE(killed.checkpointed, 1);
    resumeToTheEnd(project, run, 3);
    expectContiguousEpochs(project, run, 3, killed);
  }

  // §2.2 at seeded random moments: wherever the kill lands, the invariants hold.
  void sigkillTrainingAtRandomMoments() {
    QRandomGenerator random(20261103);
    for (int trial = 0; trial < 2; ++trial) {
      const int delay_ms = static_cast<int>(random.bounded(900));
      const QString name = QString("random-%1").arg(trial);
      std::optional<QElapsedTimer> started;
      killTrainingAndResume(name, [&](FaultChild& c, const QString&) {
        if (!started && c.err().contains("training on")) started.emplace().start();
        return started && started->elapsed() >= delay_ms;  // picks the moment only; nothing asserts on time
      });
      if (QTest::currentTestFailed())
        QFAIL(qPrintable(QString("trial %1 (kill %2 ms into training)").arg(trial).arg(delay_ms)));
    }
  }

  // §2.3: while one process trains, others store labels, regenerate single positives, count files for a
  // relink and summarise the project, over and over: none fails (no unhandled SQLITE_BUSY), no label is lost
  // and the training finishes.
  void concurrentWritersWhileTraining() {
    const QString project = copyOf(train_base_);
    FaultChild train(QStringLiteral(MLS_CLI_PATH), trainArgs(project, "busy", 4));
    QVERIFY2(train.waitForErr("training on"), train.err().constData());
    std::vector<Ack> stored;
    int rounds_while_training = 0;
    for (int round = 0; round < 20 && (train.running() || round < 3); ++round) {
      const bool training = train.running();
      QProcess writer;
      writer.start(QStringLiteral(MLS_FAULT_LABEL_WRITER), {project, "8", QString::number(round * 8)});
      QVERIFY(writer.waitForFinished(120000));
      const QByteArray writer_err = writer.readAllStandardError();
      QVERIFY2(writer.exitStatus() == QProcess::NormalExit && writer.exitCode() == 0, writer_err.constData());
      const auto written = acks(writer.readAllStandardOutput());
      QCOMPARE(written.size(), size_t(8));
      stored.insert(stored.end(), written.begin(), written.end());
      for (const QStringList& args :
           {QStringList{"single-positive", "--project", project},
            QStringList{"relink", "--project", project, "--folder", "1", "--to", dir_.path() + "/train/images",
                        "--dry-run"},
            QStringList{"info", "--project", project, "--json"}}) {
        const auto r = runCli(args, 120000);
        QVERIFY2(r.code == 0, qPrintable(args.first() + ": " + r.err));
      }
      if (training && train.running()) ++rounds_while_training;
    }
    QCOMPARE(train.finish(), 0);
    QVERIFY2(rounds_while_training >= 1, "no round overlapped the training");
    qInfo("%d rounds of writers overlapped the training", rounds_while_training);
    QCOMPARE(value(project, "PRAGMA integrity_check"), QString("ok"));
    const QString run = runId(project, "busy");
    QCOMPARE(value(project, "SELECT status FROM runs WHERE id = " + run), QString("finished"));
    QCOMPARE(valEpochs(project, run), expectedEpochs(4));
    mls::ProjectStore store(project.toStdString(), mls::ProjectStore::Open::ReadOnly);
    for (const auto& a : stored) {
      const auto sp = store.singlePositive(a.image);
      QVERIFY2(sp && sp->category_id == a.category && sp->source == mls::AnnotationSource::User,
               qPrintable(QString("label of image %1 lost").arg(a.image)));
    }
  }

  // §2.4a: the checkpoint folder stops accepting writes mid-run (read-only; when running as root, where chmod
  // does not stop writes, the folder is moved aside and a file takes its name).
  void checkpointFolderBecomesUnwritable() {
    const QString project = copyOf(train_base_);
    FaultChild child(QStringLiteral(MLS_CLI_PATH), trainArgs(project, "unwritable", 3));
    QString run;
    QVERIFY2(child.waitUntil([&] {
      run = runId(project, "unwritable");
      return !run.isEmpty() && checkpointRows(project, run, 1) == 1;
    }), child.err().constData());
    const QString dir = checkpointDir(project, run);
    const auto before = snapshot(dir);
    QVERIFY(before.count("epoch_001.pt") == 1);
    const QByteArray dir8 = dir.toUtf8();
    QCOMPARE(::chmod(dir8.constData(), 0555), 0);
    const bool chmod_stops_writes = ::access(dir8.constData(), W_OK) != 0;
    const QString aside = dir + ".aside";
    if (!chmod_stops_writes) {
      QCOMPARE(::chmod(dir8.constData(), 0755), 0);
      QVERIFY(QDir().rename(dir, aside));
      QFile blocker(dir);
      QVERIFY(blocker.open(QIODevice::WriteOnly));
    }
    const int code = child.finish();
    if (chmod_stops_writes) {
      QCOMPARE(::chmod(dir8.constData(), 0755), 0);
    } else {
      QVERIFY(QFile::remove(dir));
      QVERIFY(QDir().rename(aside, dir));
    }
    QCOMPARE(code, 1);
    expectCheckpointError(child.err(), chmod_stops_writes ? "Permission denied" : "Not a directory");
    QVERIFY(!child.out().contains("\"run\""));
    const KillPoint failed = killPoint(project, run);
    expectConsistentAfterFailedWrite(project, run, dir, before);
    resumeToTheEnd(project, run, 3);
    expectContiguousEpochs(project, run, 3, failed);
  }

  // §2.4b: a full disk, simulated with RLIMIT_FSIZE (SIGXFSZ ignored, so writes fail with EFBIG) on a resumed
  // run: the checkpoint and best weights of epoch 1 stay intact and loadable, one clear error, non-zero exit.
  void fullDiskKeepsThePreviousCheckpoint() {
    const QString project = copyOf(train_base_);
    auto r = runCli(trainArgs(project, "full-disk", 1));
    QVERIFY2(r.code == 0, r.err.constData());
    const QString run = runId(project, "full-disk");
    const QString dir = checkpointDir(project, run);
    const auto before = snapshot(dir);
    QCOMPARE(before.size(), size_t(2));  // epoch_001.pt, best.pt
    // Larger than the project file and its WAL, smaller than any checkpoint of this model (4 MB and up).
    const rlim_t limit = 2 << 20;
    for (const auto& [name, bytes] : before) QVERIFY2(bytes.size() > static_cast<qsizetype>(limit), qPrintable(name));
    const auto limit_file_size = [limit] {
      ignoreFileSizeSignal();
      const rlimit fsize{limit, limit};
      ::setrlimit(RLIMIT_FSIZE, &fsize);
    };
    FaultChild child(QStringLiteral(MLS_CLI_PATH), {"train", "--project", project, "--resume", run, "--epochs", "3"},
                     limit_file_size);
    QCOMPARE(child.finish(), 1);
    expectCheckpointError(child.err(), "File too large");
    const KillPoint failed = killPoint(project, run);
    expectConsistentAfterFailedWrite(project, run, dir, before);
    // The kept best weights still serve eval.
    r = runCli({"eval", "--project", project, "--run", run, "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    resumeToTheEnd(project, run, 3);
    expectContiguousEpochs(project, run, 3, failed);
  }
};

QTEST_GUILESS_MAIN(TestFaultTrials)
#include "test_fault_trials.moc"
