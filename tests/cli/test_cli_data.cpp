// mlstudio-cli data commands: exit codes, info --json, export, one-line errors.
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "cli_runner.h"

class TestCliData : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString project_;

  CliResult cli(const QStringList& args) { return runCli(args, 120000); }

 private Q_SLOTS:
  void initTestCase() {
    const auto r = cli({"demo", "--out", dir_.path() + "/demo", "--train", "60", "--val", "20", "--size", "64"});
    QVERIFY2(r.code == 0, r.err.constData());
    project_ = dir_.path() + "/demo/demo.mlsproj";
    QVERIFY(QFile::exists(project_));
    QVERIFY(QFile::exists(dir_.path() + "/demo/annotations/instances_train.json"));
    QVERIFY(QFile::exists(dir_.path() + "/demo/annotations/instances_val.json"));
  }

  void infoJson() {
    const auto r = cli({"info", "--project", project_, "--json"});
    QCOMPARE(r.code, 0);
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["images"].toObject()["train"].toInt(), 60);
    QCOMPARE(j["images"].toObject()["val"].toInt(), 20);
    QCOMPARE(j["images"].toObject()["test"].toInt(), 0);
    QCOMPARE(j["categories"].toInt(), 12);
    QCOMPARE(j["single_positives"].toInt(), 60);
    QCOMPARE(j["missing_files"].toInt(), 0);
    QVERIFY(j["labels"].toInt() >= 80);
  }

  void importTestSplitAndExport() {
    const QString p = dir_.path() + "/second.mlsproj";
    auto r = cli({"import-coco", "--project", p, "--annotations", dir_.path() + "/demo/annotations/instances_val.json",
                  "--images", dir_.path() + "/demo/images", "--split", "test"});
    QVERIFY2(r.code == 0, r.err.constData());
    r = cli({"info", "--project", p, "--json"});
    QCOMPARE(QJsonDocument::fromJson(r.out).object()["images"].toObject()["test"].toInt(), 20);
    r = cli({"export", "--project", project_, "--format", "csv", "--out", dir_.path() + "/x.csv"});
    QCOMPARE(r.code, 0);
    QFile f(dir_.path() + "/x.csv");
    QVERIFY(f.open(QIODevice::ReadOnly));
    const auto lines = f.readAll().trimmed().split('\n');
    QCOMPARE(lines.size(), 81);
    QCOMPARE(lines[0], QByteArray("image_id,file_name,split,single_positive,labels"));
    QVERIFY(lines[1].startsWith("1,train_000001.jpg,train,"));
    r = cli({"export", "--project", project_, "--format", "coco", "--out", dir_.path() + "/x.json"});
    QCOMPARE(r.code, 0);
    QFile j(dir_.path() + "/x.json");
    QVERIFY(j.open(QIODevice::ReadOnly));
    QCOMPARE(QJsonDocument::fromJson(j.readAll()).object()["annotations"].toArray().size(), 60);
  }

  void singlePositiveCommand() {
    const auto r = cli({"single-positive", "--project", project_, "--seed", "3"});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY(r.out.contains("60 written"));
  }

  void badInputs() {
    const auto missing = expectCliError({"info", "--project", dir_.path() + "/missing.mlsproj"}, "does not exist");
    QCOMPARE(missing.err.trimmed().count('\n'), 0);  // errors are one line
    QVERIFY(!QFile::exists(dir_.path() + "/missing.mlsproj"));
    expectCliError({"import-coco", "--project", dir_.path() + "/new.mlsproj", "--annotations", dir_.path() + "/nope.json",
                   "--images", dir_.path()},
                   "does not exist");
    QVERIFY(!QFile::exists(dir_.path() + "/new.mlsproj"));  // failed import leaves no half project
    expectCliError({"import-coco", "--project", dir_.path() + "/new.mlsproj", "--annotations", "x.json", "--images",
                   dir_.path() + "/no-folder"},
                   "image folder");
    QFile bad(dir_.path() + "/bad.json");
    bad.open(QIODevice::WriteOnly);
    bad.write("{\"images\": [");
    bad.close();
    expectCliError({"import-coco", "--project", project_, "--annotations", bad.fileName(), "--images", dir_.path()},
                   "malformed JSON at byte");
    expectCliError({"import-coco", "--project", project_, "--annotations", bad.fileName(), "--images", dir_.path(),
                   "--split", "bogus"},
                   "bogus");
    expectCliError({"export", "--project", project_, "--format", "xml", "--out", "x"}, "xml");
    expectCliError({"demo"}, "--out");
    const auto none = cli({});
    QVERIFY(none.code != 0);
  }
};

QTEST_GUILESS_MAIN(TestCliData)
#include "test_cli_data.moc"
