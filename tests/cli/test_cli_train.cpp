// mlstudio-cli train / eval / predict on a small demo project: JSON outputs, attention PNG, resume, and the
// bad-input cases (unknown run, wrong CSV shape, NaN scores, undecodable image, MLSPL attention).
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "cli_runner.h"
#include "data/store/project_types.h"
#include "ml/loss_kind.h"
#include "ml/method.h"
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <sqlite3.h>

#include <csignal>
#include <sys/types.h>

class TestCliTrain : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString project_;

  CliResult cli(const QStringList& args) { return runCli(args, 300000); }
  static QJsonObject lastJson(const QByteArray& out) {
    const auto lines = out.trimmed().split('\n');
    return QJsonDocument::fromJson(lines.last()).object();
  }
  // A small demo project of its own (20 train, 10 val images) under `name`, for tests that damage it.
  QString smallDemo(const QString& name) {
    const auto r = cli({"demo", "--out", dir_.path() + "/" + name, "--train", "20", "--val", "10", "--size", "32"});
    [&] { QVERIFY2(r.code == 0, r.err.constData()); }();
    return dir_.path() + "/" + name + "/demo.mlsproj";
  }
  // An 8x8 JPEG whose SOF0 header is patched to claim width x height, like a crafted 1 kB file.
  static void writeJpegClaiming(const QString& file, int width, int height) {
    std::vector<uchar> bytes;
    QVERIFY(cv::imencode(".jpg", cv::Mat(8, 8, CV_8UC3, cv::Scalar(10, 200, 30)), bytes));
    size_t sof = 0;
    for (size_t i = 2; i + 9 < bytes.size() && sof == 0; ++i)
      if (bytes[i] == 0xFF && bytes[i + 1] == 0xC0) sof = i;
    QVERIFY(sof > 0);
    bytes[sof + 5] = static_cast<uchar>(height >> 8);  // FF C0, length(2), precision(1), height(2), width(2)
    bytes[sof + 6] = static_cast<uchar>(height & 0xFF);
    bytes[sof + 7] = static_cast<uchar>(width >> 8);
    bytes[sof + 8] = static_cast<uchar>(width & 0xFF);
    QFile f(file);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<qint64>(bytes.size()));
  }
  // Runs one statement on a project file; returns the first column of the first row, or "sqlite: ..." on error.
  static QString sql(const QString& file, const char* statement) {
    sqlite3* db = nullptr;
    QString out;
    if (sqlite3_open(file.toUtf8().constData(), &db) != SQLITE_OK) return "sqlite: cannot open";
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, statement, -1, &st, nullptr) != SQLITE_OK) {
      out = QString("sqlite: ") + sqlite3_errmsg(db);
    } else {
      const int rc = sqlite3_step(st);
      if (rc == SQLITE_ROW) out = QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
      else if (rc != SQLITE_DONE) out = QString("sqlite: ") + sqlite3_errmsg(db);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }
  void writeFile(const QString& name, const QByteArray& text) {
    QFile f(dir_.path() + "/" + name);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(text);
  }

 private Q_SLOTS:
  void initTestCase() {
    const auto r = cli({"demo", "--out", dir_.path() + "/demo", "--train", "160", "--val", "60", "--size", "64"});
    QVERIFY2(r.code == 0, r.err.constData());
    project_ = dir_.path() + "/demo/demo.mlsproj";
  }

  void trainQ2lEvalPredict() {
    auto r = cli({"train", "--project", project_, "--method", "q2l", "--loss", "asl", "--labels", "full", "--backbone",
                  "tiny", "--image-size", "48", "--epochs", "2", "--batch", "32", "--run-name", "q2l-small"});
    QVERIFY2(r.code == 0, r.err.constData());
    const auto j = lastJson(r.out);
    QCOMPARE(j["epochs"].toInt(), 2);
    QVERIFY(j["run"].toInt() >= 1);
    QVERIFY(j["best_val_map"].toDouble() > 0 && j["best_val_map"].toDouble() <= 100);
    QVERIFY(j.contains("final_val_map") && j.contains("seconds"));
    QVERIFY(r.err.contains("epoch 2:"));  // progress on stderr

    r = cli({"eval", "--project", project_, "--run", "q2l-small", "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const auto e = lastJson(r.out);
    QCOMPARE(e["map"].toDouble(), j["best_val_map"].toDouble());  // same weights, same split
    QVERIFY(e["classes_evaluated"].toInt() + e["classes_skipped"].toInt() == 12);
    for (const char* key : {"cp", "cr", "cf1", "op", "or", "of1"}) QVERIFY2(e.contains(key), key);

    const QString png = dir_.path() + "/att.png";
    r = cli({"predict", "--project", project_, "--run", QString::number(j["run"].toInt()), "--image",
             dir_.path() + "/demo/images/val_000161.jpg", "--attention", png, "--label", "red circle"});
    QVERIFY2(r.code == 0, r.err.constData());
    const auto p = lastJson(r.out);
    QCOMPARE(p["scores"].toObject().size(), 12);
    const double s = p["scores"].toObject()["blue star"].toDouble();
    QVERIFY(s > 0.0 && s < 1.0);
    const cv::Mat overlay = cv::imread(png.toStdString());
    QCOMPARE(overlay.cols, 64);
    QCOMPARE(overlay.rows, 64);
    cv::Scalar mean, stddev;
    cv::meanStdDev(overlay, mean, stddev);
    QVERIFY(stddev[0] + stddev[1] + stddev[2] > 5.0);  // a real picture, not a flat fill

    // Resume: two more epochs on the same run continue from its checkpoint.
    // Memory/speed switches may be turned on for the resumed part; --profile prints the step phases.
    r = cli({"train", "--project", project_, "--resume", "q2l-small", "--epochs", "3", "--checkpoint-backbone",
             "--channels-last", "--profile"});
    QVERIFY2(r.code == 0, r.err.constData());
    QCOMPARE(lastJson(r.out)["run"].toInt(), j["run"].toInt());
    QVERIFY(r.err.contains("epoch 3:"));
    QVERIFY(!r.err.contains("epoch 1:"));
    QVERIFY2(r.err.contains("step phases (mean ms): data"), r.err.constData());
  }

  void trainRoleSinglePositives() {
    auto r = cli({"train", "--project", project_, "--method", "mlspl", "--loss", "role", "--labels", "single",
                  "--backbone", "tiny", "--image-size", "48", "--epochs", "1", "--run-name", "role", "--amp-dtype", "bf16"});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY2(r.err.contains("mixed precision needs CUDA"), r.err.constData());  // --amp-dtype implies --amp
    // MLSPL has no decoder: asking for attention is a clear error.
    expectCliError({"predict", "--project", project_, "--run", "role", "--image", dir_.path() + "/demo/images/val_000161.jpg",
                    "--attention", dir_.path() + "/x.png", "--label", "red circle"},
                   "no attention");
  }

  // Ctrl-C: the SIGINT handler requests the run's cancel token; the run stops after the current batch, exits 0
  // with "cancelled" in its JSON line, and keeps the finished epoch's checkpoint (README).
  void sigintCancelsAfterTheCurrentBatch() {
    const auto project = smallDemo("sigint");
    QProcess p;
    p.setReadChannel(QProcess::StandardError);
    p.start(QStringLiteral(MLS_CLI_PATH), {"train", "--project", project, "--method", "mlspl", "--loss", "bce",
                                           "--backbone", "tiny", "--image-size", "32", "--batch", "4", "--epochs",
                                           "1000", "--device", "cpu", "--workers", "1", "--run-name", "interrupted"});
    QVERIFY(p.waitForStarted());
    QByteArray err;
    // The first epoch's line; its checkpoint is written before the next batch.
    while (!err.contains("epoch 1:") && p.state() == QProcess::Running) {
      p.waitForReadyRead(1000);
      err += p.readAllStandardError();
    }
    QVERIFY2(err.contains("epoch 1:"), err.constData());
    QCOMPARE(::kill(static_cast<pid_t>(p.processId()), SIGINT), 0);
    QVERIFY(p.waitForFinished(120000));
    err += p.readAllStandardError();
    QCOMPARE(p.exitStatus(), QProcess::NormalExit);
    QVERIFY2(p.exitCode() == 0, err.constData());
    QVERIFY2(err.contains("interrupted: stopping after this batch"), err.constData());
    const auto j = lastJson(p.readAllStandardOutput());
    QVERIFY(j["cancelled"].toBool());
    QVERIFY(j["epochs"].toInt() >= 1 && j["epochs"].toInt() < 1000);
    QCOMPARE(sql(project, "SELECT status FROM runs WHERE name = 'interrupted'"), QString("cancelled"));
    const auto checkpoint = sql(project,
                                "SELECT c.path FROM checkpoints c JOIN runs r ON r.id = c.run_id "
                                "WHERE r.name = 'interrupted' ORDER BY c.epoch DESC LIMIT 1");
    QVERIFY2(!checkpoint.isEmpty() && QFile::exists(checkpoint), qPrintable(checkpoint));
  }

  // The choices the CLI checks are the engine's name tables (CLI11 lists them when a value is not one).
  void choicesAreTheEngineTables() {
    auto listed = [](const std::vector<std::string>& names) {
      QByteArray s = "{";
      for (size_t i = 0; i < names.size(); ++i) s += (i ? "," : "") + QByteArray::fromStdString(names[i]);
      return s + "}";
    };
    auto r = cli({"train", "--project", project_, "--method", "bogus"});
    QVERIFY(r.code > 0);
    QVERIFY2(r.err.contains(listed(mls::methodNames())), r.err.constData());
    r = cli({"train", "--project", project_, "--loss", "hinge"});
    QVERIFY(r.code > 0);
    QVERIFY2(r.err.contains(listed(mls::lossNames())), r.err.constData());
    r = cli({"eval", "--project", project_, "--run", "1", "--split", "holdout"});
    QVERIFY(r.code > 0);
    QVERIFY2(r.err.contains(listed(mls::splitNames())), r.err.constData());
  }

  void evalCsvFiles() {
    writeFile("scores.csv", "image_id,a,b\n1,0.9,0.1\n2,0.2,0.8\n3,0.7,0.3\n");
    writeFile("labels.csv", "image_id,a,b\n1,1,0\n2,0,1\n3,0,0\n");
    auto r = cli({"eval", "--scores", dir_.path() + "/scores.csv", "--labels", dir_.path() + "/labels.csv", "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const auto e = lastJson(r.out);
    // a: ranking 0.9(+),0.7(-),0.2(-) -> AP 1; b: 0.8(+) first -> AP 1.
    QCOMPARE(e["map"].toDouble(), 100.0);
    QCOMPARE(e["classes_evaluated"].toInt(), 2);
    writeFile("nan.csv", "image_id,a,b\n1,nan,0.1\n2,0.2,0.8\n3,0.7,0.3\n");
    expectCliError({"eval", "--scores", dir_.path() + "/nan.csv", "--labels", dir_.path() + "/labels.csv"}, "NaN");
    writeFile("ragged.csv", "image_id,a,b\n1,0.5\n");
    expectCliError({"eval", "--scores", dir_.path() + "/ragged.csv", "--labels", dir_.path() + "/labels.csv"}, "fields");
    writeFile("other.csv", "image_id,a,c\n1,1,0\n2,0,1\n3,0,0\n");
    expectCliError({"eval", "--scores", dir_.path() + "/scores.csv", "--labels", dir_.path() + "/other.csv"},
                   "different class columns");
  }

  // Any "error:" line means a non-zero exit and a failed run (issue 11 §4.1): here the project refuses to
  // record checkpoints, as a damaged file would.
  void checkpointThatCannotBeRecordedFailsTheRun() {
    const QString damaged = dir_.path() + "/demo/damaged.mlsproj";
    QVERIFY(QFile::copy(project_, damaged));
    QCOMPARE(sql(damaged, "CREATE TRIGGER no_checkpoints BEFORE INSERT ON checkpoints "
                          "BEGIN SELECT RAISE(ABORT, 'database disk image is malformed'); END;"),
             QString());
    const auto r = expectCliError({"train", "--project", damaged, "--epochs", "2", "--image-size", "32", "--run-name",
                                   "no-checkpoints"},
                                  "could not save the checkpoint of epoch 1");
    QVERIFY2(!r.out.contains("\"run\""), r.out.constData());  // no success JSON
    QVERIFY2(!r.err.contains("epoch 2:"), r.err.constData());   // stopped at the first failure
    const QString run = sql(damaged, "SELECT status || ': ' || message FROM runs WHERE name = 'no-checkpoints'");
    QVERIFY2(run.startsWith("failed: could not save the checkpoint of epoch 1"), qPrintable(run));
  }

  // Bad numbers are refused in one line before any run is created, never replaced by a default (§4.2).
  void outOfRangeTrainSettingsAreRefused() {
    const QString before = sql(project_, "SELECT count(*) FROM runs");
    auto r = expectCliError({"train", "--project", project_, "--lr", "-1"}, "--lr must be > 0 (got -1)");
    QCOMPARE(r.err.trimmed().split('\n').size(), 1);
    expectCliError({"train", "--project", project_, "--lr", "0"}, "--lr must be > 0 (got 0)");
    expectCliError({"train", "--project", project_, "--epochs", "0"}, "--epochs must be >= 1 (got 0)");
    expectCliError({"train", "--project", project_, "--epochs", "-2"}, "--epochs must be >= 1 (got -2)");
    expectCliError({"train", "--project", project_, "--batch", "0"}, "--batch must be >= 1 (got 0)");
    expectCliError({"train", "--project", project_, "--image-size", "-64"}, "--image-size must be in [16, 2048]");
    expectCliError({"train", "--project", project_, "--ema", "1"}, "--ema must be in [0, 1)");
    expectCliError({"train", "--project", project_, "--grad-accum", "0"}, "--grad-accum must be >= 1 (got 0)");
    expectCliError({"train", "--project", project_, "--resume", "q2l-small", "--epochs", "-1"}, "--epochs must be >= 1");
    QCOMPARE(sql(project_, "SELECT count(*) FROM runs"), before);
  }

  // A diverging run names only settings that exist (§4.3: there is no max_grad_norm option).
  void nanLossAdvisesExistingOptions() {
    const auto r = expectCliError({"train", "--project", project_, "--epochs", "1", "--image-size", "32", "--lr", "1e30",
                                   "--method", "mlspl", "--loss", "bce", "--run-name", "diverges"},
                                  "loss became");
    QVERIFY2(r.err.contains("--lr"), r.err.constData());
    QVERIFY2(!r.err.contains("max_grad_norm"), r.err.constData());
  }

  // Unreadable training images (corrupt, or a header claiming 30000x30000) are skipped and named the same way
  // at every batch size: on stderr, in the JSON count and in the run's record (§4.5, §4.6).
  void skippedImagesAreNamedAtEveryBatchSize() {
    const QString small = smallDemo("skips");
    const QString images = dir_.path() + "/skips/images/";
    writeFile("skips/images/train_000002.jpg", "this is not a jpeg");
    writeJpegClaiming(images + "train_000005.jpg", 30000, 30000);
    for (const char* batch : {"8", "32"}) {
      const QString name = QString("skips-b") + batch;
      QElapsedTimer timer;
      timer.start();
      const auto r = cli({"train", "--project", small, "--epochs", "1", "--image-size", "32", "--batch", batch,
                          "--run-name", name});
      QVERIFY2(r.code == 0, r.err.constData());
      QVERIFY(timer.elapsed() < 60000);
      QCOMPARE(lastJson(r.out)["skipped_images"].toInt(), 2);
      QVERIFY2(r.err.contains("warning: 2 images could not be read and were skipped: "), r.err.constData());
      QVERIFY2(r.err.contains("train_000002.jpg (cannot decode image"), r.err.constData());
      QVERIFY2(r.err.contains("train_000005.jpg (image too large to decode (30000x30000 pixels"), r.err.constData());
      const QString message = sql(small, qPrintable("SELECT message FROM runs WHERE name = '" + name + "'"));
      QVERIFY2(message.contains("train_000002.jpg") && message.contains("train_000005.jpg"), qPrintable(message));
    }
    // predict refuses the crafted file at once, in one line.
    QElapsedTimer timer;
    timer.start();
    const auto r = expectCliError({"predict", "--project", small, "--run", "skips-b8", "--image", images + "train_000005.jpg"},
                                  "too large");
    QCOMPARE(r.err.trimmed().split('\n').size(), 1);
    QVERIFY(timer.elapsed() < 20000);
  }

  // A moved images folder: the error names the folder and a missing file and points at relink; info counts
  // the files missing now, not at import time (§4.4).
  void missingImagesFolderSuggestsRelink() {
    const QString small = smallDemo("moved");
    QVERIFY(QDir(dir_.path() + "/moved").rename("images", "images-elsewhere"));
    const auto r = expectCliError({"train", "--project", small, "--epochs", "1", "--image-size", "32"},
                                  "mlstudio-cli relink");
    QVERIFY2(r.err.contains(QDir(dir_.path() + "/moved/images").absolutePath().toUtf8()), r.err.constData());
    QVERIFY2(r.err.contains("train_0000"), r.err.constData());
    QCOMPARE(r.err.trimmed().split('\n').size(), 1);
    const auto info = cli({"info", "--project", small, "--json"});
    QVERIFY2(info.code == 0, info.err.constData());
    QCOMPARE(lastJson(info.out)["missing_files"].toInt(), 30);
    QCOMPARE(sql(small, "SELECT count(*) FROM runs"), QString("0"));  // refused before a run was created
  }

  void evalCsvMapConventions() {
    // a: + - - + + (scikit-learn 70, VOC 73.33), b: AP 100, c: no positives (MLSPL counts it 0).
    writeFile("conv_scores.csv", "image_id,a,b,c\n1,0.9,0.1,0.5\n2,0.8,0.8,0.5\n3,0.7,0.3,0.5\n4,0.6,0.2,0.5\n5,0.5,0.4,0.2\n");
    writeFile("conv_labels.csv", "image_id,a,b,c\n1,1,0,0\n2,0,1,0\n3,0,0,0\n4,1,0,0\n5,1,0,0\n");
    const QStringList args = {"eval", "--scores", dir_.path() + "/conv_scores.csv", "--labels", dir_.path() + "/conv_labels.csv"};
    auto r = cli(args + QStringList{"--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    const auto e = lastJson(r.out);
    QVERIFY(qAbs(e["map"].toDouble() - 85.0) < 1e-3);
    QVERIFY(qAbs(e["map_mlspl"].toDouble() - 170.0 / 3) < 1e-3);
    QVERIFY(qAbs(e["map_q2l_voc"].toDouble() - (220.0 / 3 + 100) / 2) < 1e-3);
    r = cli(args);
    QVERIFY2(r.out.contains("scikit-learn 85.00  MLSPL 56.67  Q2L-VOC 86.67"), r.out.constData());
  }

  void badInputs() {
    expectCliError({"eval", "--project", project_, "--run", "no-such-run"}, "unknown run");
    expectCliError({"predict", "--project", project_, "--run", "999", "--image", "x.jpg"}, "unknown run");
    writeFile("broken.jpg", "this is not a jpeg");
    expectCliError({"predict", "--project", project_, "--run", "q2l-small", "--image", dir_.path() + "/broken.jpg"},
                   "broken.jpg");
    expectCliError({"train", "--project", project_, "--method", "nope"}, "nope");
    expectCliError({"train", "--project", dir_.path() + "/none.mlsproj"}, "does not exist");
    expectCliError({"train", "--project", project_, "--backbone", "vgg"}, "vgg");
  }
};

QTEST_GUILESS_MAIN(TestCliTrain)
#include "test_cli_train.moc"
