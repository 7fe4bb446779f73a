// mlstudio-cli train / eval / predict on a small demo project: JSON outputs, attention PNG, resume, and the
// bad-input cases (unknown run, wrong CSV shape, NaN scores, undecodable image, MLSPL attention).
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "cli_runner.h"
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

class TestCliTrain : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString project_;

  CliResult cli(const QStringList& args) { return runCli(args, 300000); }
  static QJsonObject lastJson(const QByteArray& out) {
    const auto lines = out.trimmed().split('\n');
    return QJsonDocument::fromJson(lines.last()).object();
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
