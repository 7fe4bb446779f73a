// mlstudio-cli runs its data commands without loading LibTorch or OpenCV and hands the other commands to
// mlstudio-cli-torch: the libraries each process loads (LD_DEBUG), one --help listing every command, help and
// errors of the handed-over commands unchanged, and a clear error when the sibling binary is missing.
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QMap>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "cli_runner.h"

namespace {

const QString kCli = QStringLiteral(MLS_CLI_PATH);
const QString kTorchCli = QFileInfo(kCli).absolutePath() + "/mlstudio-cli-torch";

CliResult run(const QString& program, const QStringList& args, const QProcessEnvironment& env = QProcessEnvironment::systemEnvironment()) {
  QProcess p;
  p.setProcessEnvironment(env);
  p.start(program, args);
  p.waitForFinished(120000);
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
          p.readAllStandardError()};
}

// Runs `args` with the dynamic loader reporting every library it opens (on stderr, also after an exec).
CliResult runTracingLibraries(const QString& program, const QStringList& args) {
  auto env = QProcessEnvironment::systemEnvironment();
  env.insert("LD_DEBUG", "files");
  return run(program, args, env);
}

bool loads(const CliResult& r, const char* library) {
  return r.err.contains(QByteArray("file=") + library);
}

// "name -> description" of the Subcommands: section of a CLI11 --help.
QMap<QString, QString> subcommands(const QByteArray& help) {
  QMap<QString, QString> out;
  const auto lines = QString::fromUtf8(help).split('\n');
  bool in_section = false;
  static const QRegularExpression row(R"(^\s+(\S+)\s+(.*\S)\s*$)");
  for (const auto& line : lines) {
    if (line.startsWith("Subcommands:")) {
      in_section = true;
      continue;
    }
    if (!in_section) continue;
    const auto m = row.match(line);
    if (m.hasMatch()) out.insert(m.captured(1), m.captured(2));
  }
  return out;
}

void writeFile(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(bytes);
}

}  // namespace

class TestCliSplit : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString project_, json_, images_;

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(QFile::exists(kTorchCli));
    images_ = dir_.path() + "/images";
    QVERIFY(QDir().mkpath(images_));
    writeFile(images_ + "/a.jpg", "x");
    writeFile(images_ + "/b.jpg", "x");
    json_ = dir_.path() + "/coco.json";
    writeFile(json_, R"({"images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4},
                                     {"id": 2, "file_name": "b.jpg", "width": 4, "height": 4}],
                         "annotations": [{"id": 1, "image_id": 1, "category_id": 3},
                                         {"id": 2, "image_id": 2, "category_id": 5}],
                         "categories": [{"id": 3, "name": "cat"}, {"id": 5, "name": "dog"}]})");
    project_ = dir_.path() + "/p.mlsproj";
  }

  void dataCommandsLoadNeitherTorchNorOpenCv() {
    auto r = runTracingLibraries(kCli, {"import-coco", "--project", project_, "--annotations", json_, "--images", images_});
    QVERIFY2(r.code == 0, r.err.right(2000).constData());
    QVERIFY(r.out.contains("imported 2 images, 2 labels"));
    QVERIFY2(loads(r, "libsqlite3"), "LD_DEBUG=files reports the libraries opened");
    QVERIFY(!loads(r, "libtorch"));
    QVERIFY(!loads(r, "libc10"));
    QVERIFY(!loads(r, "libopencv"));
    for (const QStringList& args : {QStringList{"info", "--project", project_, "--json"}, QStringList{"--help"}}) {
      r = runTracingLibraries(kCli, args);
      QVERIFY2(r.code == 0, qPrintable(args.join(' ')));
      QVERIFY2(!loads(r, "libtorch") && !loads(r, "libopencv"), qPrintable(args.join(' ')));
    }
  }

  void torchCommandsRunInTheSibling() {
    const auto r = runTracingLibraries(kCli, {"train", "--help"});
    QCOMPARE(r.code, 0);
    QVERIFY(loads(r, "libtorch"));
    QVERIFY(r.out.contains("--epochs"));
    QVERIFY(r.out.contains("train"));
  }

  // The light binary's --help lists every command of both binaries, the handed-over ones with the sibling's
  // own one-line descriptions.
  void helpListsEveryCommand() {
    const auto light = run(kCli, {"--help"});
    const auto heavy = run(kTorchCli, {"--help"});
    QCOMPARE(light.code, 0);
    QCOMPARE(heavy.code, 0);
    const auto listed = subcommands(light.out);
    const auto torch = subcommands(heavy.out);
    QVERIFY(torch.size() >= 5);
    for (auto it = torch.begin(); it != torch.end(); ++it) {
      QVERIFY2(listed.contains(it.key()), qPrintable("mlstudio-cli --help misses " + it.key()));
      QCOMPARE(listed.value(it.key()), it.value());
    }
    for (const char* name : {"import-coco", "single-positive", "info", "export", "relink"}) {
      QVERIFY2(listed.contains(name), name);
      QVERIFY(!torch.contains(name));
    }
    QCOMPARE(listed.size(), torch.size() + 5);
  }

  // Exit code, stdout and stderr of a handed-over command are the sibling's, byte for byte.
  void outputAndExitCodePassThrough() {
    const QStringList bad_flag = {"eval", "--project", project_, "--no-such-flag"};
    const QStringList bad_run = {"eval", "--project", project_, "--run", "nope"};
    const QStringList bad_path = {"export-weights", "--project", dir_.path() + "/none.mlsproj", "--run", "1", "--out",
                                  dir_.path() + "/w.pth"};
    for (const auto& args : {bad_flag, bad_run, bad_path}) {
      const auto via_light = run(kCli, args);
      const auto direct = run(kTorchCli, args);
      QVERIFY2(via_light.code > 0, via_light.err.constData());
      QCOMPARE(via_light.code, direct.code);
      QCOMPARE(via_light.out, direct.out);
      QCOMPARE(via_light.err, direct.err);
      QVERIFY(via_light.err.startsWith("error: "));
    }
  }

  void missingSiblingIsOneLineError() {
    QTemporaryDir alone;
    const QString copy = alone.path() + "/mlstudio-cli";
    QVERIFY(QFile::copy(kCli, copy));
    QVERIFY(QFile::setPermissions(copy, QFile::permissions(kCli)));
    const auto r = run(copy, {"train", "--project", project_});
    QCOMPARE(r.code, 1);
    QVERIFY(r.out.isEmpty());
    const auto err = r.err.trimmed();
    QVERIFY2(!err.contains('\n'), err.constData());
    const QString expected_path = QFileInfo(alone.path()).canonicalFilePath() + "/mlstudio-cli-torch";
    QVERIFY2(err.startsWith("error: 'train' runs in " + QFile::encodeName(expected_path)),
             err.constData());
    QVERIFY2(err.contains("is missing"), err.constData());
    // The data commands need no sibling.
    QCOMPARE(run(copy, {"info", "--project", project_}).code, 0);
  }
};

QTEST_GUILESS_MAIN(TestCliSplit)
#include "test_cli_split.moc"
