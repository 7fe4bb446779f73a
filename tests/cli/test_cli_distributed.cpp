// `mlstudio-cli train` across processes on the CPU (Gloo): the --nproc-per-node launcher against one
// process, a worker killed mid-run, Ctrl-C, resume at another world size, a port in use, an unreachable
// master, and torchrun-style workers started by hand with RANK / WORLD_SIZE / MASTER_* (as torchrun does).
// Two ranks of a tiny model on a small demo project; every rank runs with OMP_NUM_THREADS=1.
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest/QtTest>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <functional>

#include "../support/self_ranks.h"
#include "../support/sql_rows.h"
#include "cli_runner.h"

namespace {

QStringList rows(const QString& file, const QString& statement) { return mls::test::sqlRows(file, statement, false); }
QString value(const QString& file, const QString& statement) { return mls::test::sqlValue(file, statement, false); }

QJsonObject lastJson(const QByteArray& out) {
  return QJsonDocument::fromJson(out.trimmed().split('\n').last()).object();
}

int freePort() { return mls::test::freeLoopbackPort(); }

// One CLI process whose stderr and stdout are collected while the test waits for a line or for its end.
class CliProcess {
 public:
  explicit CliProcess(const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
    p_.setProcessEnvironment(env);
    p_.start(QStringLiteral(MLS_CLI_PATH), args);
    p_.waitForStarted(60000);
  }
  ~CliProcess() {
    if (p_.state() != QProcess::NotRunning) {
      p_.kill();
      p_.waitForFinished(60000);
    }
  }
  qint64 pid() const { return p_.processId(); }
  const QByteArray& err() const { return err_; }
  const QByteArray& out() const { return out_; }
  // Until stderr contains `needle` (true) or the process ended without it / the deadline passed (false).
  bool waitForErr(const QByteArray& needle, int timeout_ms = 120000) {
    QElapsedTimer t;
    t.start();
    while (!err_.contains(needle)) {
      if (p_.state() == QProcess::NotRunning || t.elapsed() > timeout_ms) {
        collect();
        return err_.contains(needle);
      }
      p_.waitForReadyRead(50);
      collect();
    }
    return true;
  }
  // Exit code, or -1 when it crashed or did not end within the timeout.
  int finish(int timeout_ms = 120000) {
    QElapsedTimer t;
    t.start();
    while (p_.state() != QProcess::NotRunning && t.elapsed() < timeout_ms) {
      p_.waitForFinished(100);
      collect();
    }
    collect();
    if (p_.state() != QProcess::NotRunning) return -1;
    return p_.exitStatus() == QProcess::NormalExit ? p_.exitCode() : -1;
  }

 private:
  void collect() {
    err_ += p_.readAllStandardError();
    out_ += p_.readAllStandardOutput();
  }
  QProcess p_;
  QByteArray out_, err_;
};

// The launcher's "pids A B" (rank order) from its start line.
QList<qint64> workerPids(const QByteArray& err) {
  const auto m = QRegularExpression("launcher: started .*; pids ([0-9 ]+)").match(QString::fromUtf8(err));
  QList<qint64> pids;
  if (m.hasMatch())
    for (const auto& p : m.captured(1).trimmed().split(' ')) pids << p.toLongLong();
  return pids;
}

}  // namespace

class TestCliDistributed : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString base_;
  int copies_ = 0;

  QString copyOfDemo() {
    const QString copy = QFileInfo(base_).absolutePath() + QString("/copy_%1.mlsproj").arg(++copies_);
    [&] { QVERIFY(QFile::copy(base_, copy)); }();
    return copy;
  }
  // A tiny MLSPL run; `extra` adds flags (epochs, launcher, resume).
  static QStringList trainArgs(const QString& project, const QString& name, const QStringList& extra) {
    return QStringList{"train",   "--project", project, "--run-name", name,       "--method", "mlspl",     "--loss",
                       "an",      "--labels",  "single", "--backbone", "tiny",    "--image-size", "32",    "--batch",
                       "8",       "--device",  "cpu",    "--workers",  "1",       "--dist-timeout", "20"} +
           extra;
  }
  static QString runId(const QString& project, const QString& name) {
    return value(project, "SELECT id FROM runs WHERE name = '" + name + "'");
  }
  static QString status(const QString& project, const QString& run) {
    return value(project, "SELECT status FROM runs WHERE id = " + run);
  }
  // Epoch numbers of a metric in row order ("1,2,3": one row per epoch, none twice).
  static QString epochsOf(const QString& project, const QString& run, const QString& metric) {
    return rows(project, "SELECT epoch FROM run_metrics WHERE run_id = " + run + " AND name = '" + metric +
                             "' ORDER BY epoch, rowid")
        .join(',');
  }
  static QString oneToN(int n) {
    QStringList e;
    for (int i = 1; i <= n; ++i) e << QString::number(i);
    return e.join(',');
  }
  static QList<double> valMaps(const QString& project, const QString& run) {
    QList<double> v;
    for (const auto& s : rows(project, "SELECT value FROM run_metrics WHERE run_id = " + run +
                                           " AND name = 'val_map' ORDER BY epoch"))
      v << s.toDouble();
    return v;
  }
  // The newest checkpoint row names a file that exists.
  static void expectLastCheckpointFile(const QString& project, const QString& run) {
    const auto path = value(project, "SELECT path FROM checkpoints WHERE run_id = " + run + " ORDER BY epoch DESC LIMIT 1");
    QVERIFY2(!path.isEmpty(), "no checkpoint row");
    QVERIFY2(QFileInfo::exists(QDir(QFileInfo(project).absolutePath()).absoluteFilePath(path)), qPrintable(path));
  }
  static void expectFinished(const QString& project, const QString& run, int epochs) {
    QCOMPARE(status(project, run), QString("finished"));
    QCOMPARE(epochsOf(project, run, "val_map"), oneToN(epochs));
    QCOMPARE(epochsOf(project, run, "train_loss"), oneToN(epochs));
    expectLastCheckpointFile(project, run);
    const int images = value(project, "SELECT count(*) FROM images WHERE split IN ('train', 'val')").toInt();
    QCOMPARE(value(project, "SELECT count(*) FROM predictions WHERE run_id = " + run).toInt(), images);
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    qputenv("OMP_NUM_THREADS", "1");  // every rank (the launcher passes it on)
    const auto r = runCli({"demo", "--out", dir_.path() + "/demo", "--train", "96", "--val", "32", "--size", "32"});
    QVERIFY2(r.code == 0, r.err.constData());
    base_ = dir_.path() + "/demo/demo.mlsproj";
  }

  // --nproc-per-node 2 against one process with the same global batch. The LinearInit epochs train a linear
  // head on cached features (no BatchNorm, no dropout), so their val mAP must agree up to float summation
  // order; the end-to-end epoch trains the tiny CNN's BatchNorm on 4 instead of 8 images per step (per-rank
  // statistics, as DDP without SyncBatchNorm), so it only has to be close. Then the one-process run resumes
  // with two processes (1 -> 2).
  void launcherMatchesOneProcess() {
    const QString project = copyOfDemo();
    const QStringList phases{"--linear-init", "2", "--epochs", "1"};
    auto one = runCli(trainArgs(project, "one", phases));
    QVERIFY2(one.code == 0, one.err.constData());
    QElapsedTimer t;
    t.start();
    auto two = runCli(trainArgs(project, "two", phases + QStringList{"--nproc-per-node", "2"}));
    qInfo("2 processes: %.1f s; 1 process: %.1f s (the runs' own times)", lastJson(two.out)["seconds"].toDouble(),
          lastJson(one.out)["seconds"].toDouble());
    QVERIFY2(two.code == 0, two.err.constData());
    QCOMPARE(two.out.trimmed().count('\n'), 0);  // one JSON line: rank 0's
    QVERIFY2(two.err.contains("data-parallel: 2 processes (Gloo), batch 4 per process"), two.err.constData());
    QVERIFY2(!two.err.contains("[rank 1] epoch"), two.err.constData());  // rank 1 does not report progress

    const QString run_one = runId(project, "one"), run_two = runId(project, "two");
    expectFinished(project, run_two, 3);
    QVERIFY(value(project, "SELECT config FROM runs WHERE id = " + run_two).contains("\"world_size\":2"));
    QVERIFY(value(project, "SELECT message FROM runs WHERE id = " + run_two).contains("data-parallel: 2 processes"));
    const auto a = valMaps(project, run_one), b = valMaps(project, run_two);
    QCOMPARE(a.size(), 3);
    QCOMPARE(b.size(), 3);
    qInfo("val mAP per epoch, 1 process: %.4f %.4f %.4f; 2 processes: %.4f %.4f %.4f", a[0], a[1], a[2], b[0], b[1], b[2]);
    for (int e = 0; e < 2; ++e) QVERIFY2(std::abs(a[e] - b[e]) < 0.01, qPrintable(QString("LinearInit epoch %1").arg(e + 1)));
    QVERIFY2(std::abs(a[2] - b[2]) < 10.0, "end-to-end epoch");

    // 1 -> 2: the one-process run continues with two.
    auto resumed = runCli({"train", "--project", project, "--resume", "one", "--epochs", "4", "--nproc-per-node", "2",
                           "--workers", "1", "--dist-timeout", "20"});
    QVERIFY2(resumed.code == 0, resumed.err.constData());
    QVERIFY2(resumed.err.contains("resuming a run trained by 1 process with 2"), resumed.err.constData());
    expectFinished(project, run_one, 2 + 4);  // the LinearInit epochs come first
  }

  // SIGKILL of rank 1 mid-run: the launcher names it and exits non-zero within the timeout, rank 0 marks the
  // run failed, and `--resume` in one process (2 -> 1) finishes it from the last checkpoint.
  void killedWorkerFailsTheRunAndResumes() {
    const QString project = copyOfDemo();
    QElapsedTimer t;
    CliProcess launcher(trainArgs(project, "killed", {"--epochs", "12", "--nproc-per-node", "2"}));
    QVERIFY2(launcher.waitForErr("epoch 1:"), launcher.err().constData());
    const auto pids = workerPids(launcher.err());
    QCOMPARE(pids.size(), 2);
    t.start();
    QCOMPARE(::kill(static_cast<pid_t>(pids[1]), SIGKILL), 0);
    const int code = launcher.finish(60000);
    qInfo("launcher ended %.1f s after the kill", t.elapsed() / 1000.0);
    QVERIFY2(code > 0, launcher.err().constData());
    QVERIFY2(launcher.err().contains("rank 1 was killed by signal 9 (SIGKILL)"), launcher.err().constData());
    QVERIFY2(launcher.err().trimmed().split('\n').last().startsWith("error: rank 1 was killed"), launcher.err().constData());
    const QString run = runId(project, "killed");
    QCOMPARE(status(project, run), QString("failed"));
    QVERIFY2(value(project, "SELECT message FROM runs WHERE id = " + run).contains("rank 1"),
             qPrintable(value(project, "SELECT message FROM runs WHERE id = " + run)));
    expectLastCheckpointFile(project, run);

    const auto r = runCli({"train", "--project", project, "--resume", "killed", "--workers", "1"});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY2(r.err.contains("resuming from"), r.err.constData());
    QVERIFY2(r.err.contains("resuming a run trained by 2 processes with 1"), r.err.constData());
    expectFinished(project, run, 12);
  }

  // Ctrl-C (SIGINT to the launcher alone; it forwards it): every rank stops at the same step, exit 0 with
  // "cancelled", the run is cancelled with its checkpoint, and it resumes with two processes again.
  void ctrlCCancelsEveryRank() {
    const QString project = copyOfDemo();
    CliProcess launcher(trainArgs(project, "cancelled", {"--epochs", "12", "--nproc-per-node", "2"}));
    QVERIFY2(launcher.waitForErr("epoch 1:"), launcher.err().constData());
    QCOMPARE(::kill(static_cast<pid_t>(launcher.pid()), SIGINT), 0);
    const int code = launcher.finish(60000);
    QVERIFY2(code == 0, launcher.err().constData());
    QVERIFY2(launcher.err().contains("SIGINT forwarded to every rank"), launcher.err().constData());
    QVERIFY(lastJson(launcher.out())["cancelled"].toBool());
    const QString run = runId(project, "cancelled");
    QCOMPARE(status(project, run), QString("cancelled"));
    expectLastCheckpointFile(project, run);

    const auto r = runCli({"train", "--project", project, "--resume", "cancelled", "--nproc-per-node", "2", "--workers",
                           "1", "--dist-timeout", "20"});
    QVERIFY2(r.code == 0, r.err.constData());
    expectFinished(project, run, 12);
  }

  // A --master-port someone listens on, or a --batch that 2 processes cannot share: one clear line at once,
  // no run created.
  void portInUseIsOneClearLine() {
    const QString project = copyOfDemo();
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    QCOMPARE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    QCOMPARE(::listen(fd, 1), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    const QString port = QString::number(ntohs(addr.sin_port));
    QElapsedTimer t;
    t.start();
    expectCliError(trainArgs(project, "port", {"--epochs", "1", "--nproc-per-node", "2", "--master-port", port}),
                   qPrintable("port " + port + " is already in use"), 60000);
    QVERIFY2(t.elapsed() < 15000, qPrintable(QString::number(t.elapsed())));
    QCOMPARE(value(project, "SELECT count(*) FROM runs"), QString("0"));
    ::close(fd);
    // A global batch the processes cannot share evenly: refused before any worker starts.
    auto args = trainArgs(project, "odd", {"--epochs", "1", "--nproc-per-node", "2"});
    args[args.indexOf("--batch") + 1] = "7";
    const auto r = expectCliError(args, "--batch 7 is the global batch of 2 processes and must be a multiple of 2", 60000);
    QVERIFY2(!r.err.contains("launcher: started"), r.err.constData());
    QCOMPARE(value(project, "SELECT count(*) FROM runs"), QString("0"));
  }

  // A worker whose master never appears fails within its --dist-timeout with one line naming the address.
  void unreachableMasterFailsWithinTheTimeout() {
    const QString project = copyOfDemo();
    auto env = QProcessEnvironment::systemEnvironment();
    const QString port = QString::number(freePort());
    env.insert("RANK", "1");
    env.insert("WORLD_SIZE", "2");
    env.insert("LOCAL_RANK", "0");
    env.insert("MASTER_ADDR", "127.0.0.1");
    env.insert("MASTER_PORT", port);
    QElapsedTimer t;
    t.start();
    auto args = trainArgs(project, "lonely", {"--epochs", "1"});
    args[args.indexOf("--dist-timeout") + 1] = "3";
    CliProcess worker(args, env);
    const int code = worker.finish(60000);
    QVERIFY2(code > 0, worker.err().constData());
    QVERIFY2(t.elapsed() < 30000, qPrintable(QString::number(t.elapsed())));
    const auto last = worker.err().trimmed().split('\n').last();
    QVERIFY2(last.startsWith("error: ") && last.contains(qPrintable("127.0.0.1:" + port)), worker.err().constData());
  }

  // torchrun's way: two processes started with RANK / WORLD_SIZE / LOCAL_RANK / MASTER_ADDR / MASTER_PORT
  // (through mlstudio-cli, which execs mlstudio-cli-torch with the same environment). Rank 0 alone prints the
  // result and records the run.
  void torchrunStyleWorkers() {
    const QString project = copyOfDemo();
    const QString port = QString::number(freePort());
    std::vector<std::unique_ptr<CliProcess>> ranks;
    for (int rank = 0; rank < 2; ++rank) {
      auto env = QProcessEnvironment::systemEnvironment();
      env.insert("RANK", QString::number(rank));
      env.insert("LOCAL_RANK", QString::number(rank));
      env.insert("WORLD_SIZE", "2");
      env.insert("LOCAL_WORLD_SIZE", "2");
      env.insert("MASTER_ADDR", "127.0.0.1");
      env.insert("MASTER_PORT", port);
      ranks.push_back(std::make_unique<CliProcess>(trainArgs(project, "torchrun", {"--epochs", "2"}), env));
    }
    QVERIFY2(ranks[0]->finish() == 0, ranks[0]->err().constData());
    QVERIFY2(ranks[1]->finish() == 0, ranks[1]->err().constData());
    QCOMPARE(lastJson(ranks[0]->out())["epochs"].toInt(), 2);
    QVERIFY2(ranks[1]->out().trimmed().isEmpty(), ranks[1]->out().constData());
    QVERIFY2(!ranks[1]->err().contains("epoch 1:"), ranks[1]->err().constData());
    const QString run = runId(project, "torchrun");
    expectFinished(project, run, 2);
    QCOMPARE(value(project, "SELECT count(*) FROM runs"), QString("1"));
    QVERIFY(value(project, "SELECT config FROM runs WHERE id = " + run).contains("\"world_size\":2"));
  }
};

QTEST_GUILESS_MAIN(TestCliDistributed)
#include "test_cli_distributed.moc"
