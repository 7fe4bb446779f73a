// mlstudio-cli data commands: exit codes, info --json, export, relink, one-line errors, foreign files untouched.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "cli_runner.h"
#include "data/store/sqlite_db.h"

class TestCliData : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString project_;

  CliResult cli(const QStringList& args) { return runCli(args, 120000); }

  static void writeFile(const QString& path, const QByteArray& bytes) {
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
  }
  static QByteArray readFile(const QString& path) {
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
  }

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

  // Every command refuses a file that is not a project and leaves it byte-for-byte unchanged.
  void foreignFilesAreNeverModified() {
    const QString empty = dir_.path() + "/empty.mlsproj", noise = dir_.path() + "/noise.mlsproj",
                  foreign = dir_.path() + "/foreign.db";
    writeFile(empty, {});
    QByteArray bytes(3000, '\0');
    for (int i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 31 + 7) % 253);
    writeFile(noise, bytes);
    {  // a database of another program
      mls::Database db(foreign.toStdString());
      db.exec("create table t(x); insert into t values(42);");
    }
    const QString json = dir_.path() + "/demo/annotations/instances_val.json", images = dir_.path() + "/demo/images";
    for (const QString& file : {empty, noise, foreign}) {
      const QByteArray before = readFile(file);
      const QList<QStringList> commands = {
          {"info", "--project", file},
          {"info", "--project", file, "--json"},
          {"train", "--project", file, "--epochs", "1"},
          {"import-coco", "--project", file, "--annotations", json, "--images", images},
          {"single-positive", "--project", file},
          {"export", "--project", file, "--format", "csv", "--out", dir_.path() + "/never.csv"},
          {"eval", "--project", file, "--run", "1"},
          {"relink", "--project", file, "--folder", "1", "--to", images},
      };
      for (const auto& args : commands) {
        const auto r = expectCliError(args, "is not a Multi-Label Studio project");
        QCOMPARE(r.err.trimmed().count('\n'), 0);
        QVERIFY2(QFile::exists(file) && readFile(file) == before, qPrintable(args.join(' ')));
      }
      QVERIFY(!QFile::exists(file + "-wal") && !QFile::exists(file + "-shm"));
    }
  }

  // Inspection opens read-only, so it works where SQLite cannot create the -wal/-shm files (a read-only
  // folder; tests run as root, who may write anywhere, so a directory in the -wal file's place stands in).
  void inspectionWorksWithoutWriteAccess() {
    const QString copy = dir_.path() + "/locked.mlsproj";
    QVERIFY(QFile::copy(project_, copy));
    QVERIFY(QDir().mkdir(copy + "-wal"));
    const QByteArray before = readFile(copy);
    auto r = cli({"info", "--project", copy, "--json"});
    QVERIFY2(r.code == 0, r.err.constData());
    QCOMPARE(QJsonDocument::fromJson(r.out).object()["images"].toObject()["train"].toInt(), 60);
    r = cli({"export", "--project", copy, "--format", "csv", "--out", dir_.path() + "/locked.csv"});
    QVERIFY2(r.code == 0, r.err.constData());
    QCOMPARE(readFile(copy), before);
  }

  void importRefusesNamesLeavingTheImagesFolder() {
    QDir(dir_.path()).mkpath("escape/imgs");
    writeFile(dir_.path() + "/escape/imgs/a.jpg", "x");
    writeFile(dir_.path() + "/escape/secret.jpg", "x");
    writeFile(dir_.path() + "/escape/coco.json", R"({"images": [{"id": 1, "file_name": "a.jpg"},
        {"id": 2, "file_name": "../secret.jpg"}, {"id": 3, "file_name": "/etc/passwd"}],
        "categories": [{"id": 1, "name": "x"}], "annotations": [{"id": 5, "image_id": 2, "category_id": 1}]})");
    const QString p = dir_.path() + "/escape/p.mlsproj";
    auto r = cli({"import-coco", "--project", p, "--annotations", dir_.path() + "/escape/coco.json", "--images",
                  dir_.path() + "/escape/imgs"});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY2(r.err.contains("2 images not imported because their file_name leaves the images folder: "
                            "../secret.jpg, /etc/passwd"),
             r.err.constData());
    r = cli({"info", "--project", p, "--json"});
    const auto j = QJsonDocument::fromJson(r.out).object();
    QCOMPARE(j["images"].toObject()["train"].toInt(), 1);
    QCOMPARE(j["labels"].toInt(), 0);
    QCOMPARE(j["missing_files"].toInt(), 0);
  }

  void relinkMovedImageFolder() {
    QDir d(dir_.path());
    d.mkpath("moving/old");
    for (const char* n : {"a.jpg", "b.jpg", "c.jpg"}) writeFile(dir_.path() + "/moving/old/" + n, "x");
    writeFile(dir_.path() + "/moving/coco.json", R"({"images": [{"id": 1, "file_name": "a.jpg"},
        {"id": 2, "file_name": "b.jpg"}, {"id": 3, "file_name": "c.jpg"}], "categories": [{"id": 1, "name": "x"}],
        "annotations": []})");
    const QString p = dir_.path() + "/other/p.mlsproj";  // outside the images' folder: stored absolute
    d.mkpath("other");
    auto r = cli({"import-coco", "--project", p, "--annotations", dir_.path() + "/moving/coco.json", "--images",
                  dir_.path() + "/moving/old"});
    QVERIFY2(r.code == 0, r.err.constData());
    QVERIFY(d.rename("moving/old", "moving/new"));
    r = cli({"info", "--project", p});
    QVERIFY2(r.out.contains("image folder 1:   " + (dir_.path() + "/moving/old").toUtf8() + " (0 of 3 files present)"),
             r.out.constData());
    r = cli({"relink", "--project", p, "--from", dir_.path() + "/moving/old/", "--to", dir_.path() + "/moving/new",
             "--dry-run"});
    QVERIFY2(r.code == 0 && r.out.contains("would relink image folder 1") && r.out.contains("3 of 3 files found"),
             r.out.constData());
    r = cli({"info", "--project", p, "--json"});
    QCOMPARE(QJsonDocument::fromJson(r.out).object()["image_folders"].toArray()[0].toObject()["present"].toInt(), 0);
    r = cli({"relink", "--project", p, "--folder", "1", "--to", dir_.path() + "/moving/new"});
    QVERIFY2(r.code == 0 && r.out.contains("relinked image folder 1") && r.out.contains("3 of 3 files found"),
             r.out.constData());
    r = cli({"info", "--project", p, "--json"});
    const auto folder = QJsonDocument::fromJson(r.out).object()["image_folders"].toArray()[0].toObject();
    QCOMPARE(folder["path"].toString(), dir_.path() + "/moving/new");
    QCOMPARE(folder["present"].toInt(), 3);
    expectCliError({"relink", "--project", p, "--from", dir_.path() + "/nowhere", "--to", dir_.path()},
                   "has no image folder");
    expectCliError({"relink", "--project", p, "--folder", "1", "--to", dir_.path() + "/nowhere"}, "does not exist");
    expectCliError({"relink", "--project", p, "--to", dir_.path()}, "--from OLD or --folder ID");
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
