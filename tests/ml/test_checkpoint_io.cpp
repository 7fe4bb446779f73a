// saveArchiveAtomically when the write fails: a file-size limit (what a full disk looks like to the writer)
// and a folder that is not a folder. The earlier file stays byte-for-byte, no temp file is left, the error
// names the reason, and the process survives (LibTorch's zip writer used to terminate it on a short write).
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <signal.h>
#include <sys/resource.h>

#include "ml/training/checkpoint_io.h"

namespace {

void writeArchive(const std::string& path, int64_t floats) {
  torch::serialize::OutputArchive archive;
  archive.write("weights", torch::arange(floats, torch::kFloat));
  mls::saveArchiveAtomically(archive, path);
}

int64_t readBack(const std::string& path) {
  torch::serialize::InputArchive archive;
  archive.load_from(path);
  torch::Tensor weights;
  archive.read("weights", weights);
  return weights.numel();
}

QByteArray bytesOf(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Lowers this process's soft RLIMIT_FSIZE for one scope; SIGXFSZ is ignored so the write fails with EFBIG.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &saved_);
    old_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit lower = saved_;
    lower.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &lower);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved_);
    signal(SIGXFSZ, old_handler_);
  }

 private:
  rlimit saved_{};
  sighandler_t old_handler_;
};

}  // namespace

class TestCheckpointIo : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private Q_SLOTS:
  void replacesTheFileWhole() {
    const std::string path = (dir_.path() + "/a/b/epoch_001.pt").toStdString();  // missing folders are made
    writeArchive(path, 10);
    writeArchive(path, 20);
    QCOMPARE(readBack(path), int64_t(20));
    QVERIFY(!QFile::exists(QString::fromStdString(path) + ".tmp"));
  }

  void fullDiskKeepsThePreviousFile() {
    const QString path = dir_.path() + "/best.pt";
    writeArchive(path.toStdString(), 1000);
    const QByteArray before = bytesOf(path);
    QString message;
    {
      FileSizeLimit limit(64 * 1024);
      try {
        writeArchive(path.toStdString(), 1 << 20);  // 4 MB of floats
      } catch (const std::runtime_error& e) {
        message = e.what();
      }
    }
    QCOMPARE(message, "cannot write '" + path + "': File too large");
    QCOMPARE(bytesOf(path), before);
    QCOMPARE(readBack(path.toStdString()), int64_t(1000));
    QCOMPARE(QDir(dir_.path()).entryList({"*.tmp"}, QDir::Files), QStringList());
  }

  void folderThatIsAFileIsNamed() {
    const QString blocker = dir_.path() + "/run_9";
    QFile f(blocker);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.close();
    try {
      writeArchive((blocker + "/epoch_001.pt").toStdString(), 10);
      QFAIL("no error");
    } catch (const std::runtime_error& e) {
      QCOMPARE(QString(e.what()), "cannot write '" + blocker + "/epoch_001.pt': Not a directory");
    }
  }
};

QTEST_GUILESS_MAIN(TestCheckpointIo)
#include "test_checkpoint_io.moc"
