// Data-parallel tests across real processes: this test executable started again as the ranks of a run on
// 127.0.0.1, each told where it sits through torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT) and MLS_DIST_TIMEOUT, with one Torch thread (the ranks share the test machine's cores).
#pragma once
#include <QCoreApplication>
#include <QProcess>
#include <QProcessEnvironment>
#include <QStringList>
#include <QtTest/QtTest>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace mls::test {

// A TCP port on the loopback nobody listens on right now.
inline uint16_t freeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t length = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class SelfRanks {
 public:
  // Starts `world` copies of this executable with `arguments`; QVERIFY-fails the calling test when one
  // does not start.
  void start(int world, const QStringList& arguments, double timeout_seconds) {
    const uint16_t port = freeLoopbackPort();
    for (int r = 0; r < world; ++r) {
      auto process = std::make_unique<QProcess>();
      QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
      env.insert("RANK", QString::number(r));
      env.insert("WORLD_SIZE", QString::number(world));
      env.insert("LOCAL_RANK", QString::number(r));
      env.insert("MASTER_ADDR", "127.0.0.1");
      env.insert("MASTER_PORT", QString::number(port));
      env.insert("MLS_DIST_TIMEOUT", QString::number(timeout_seconds));
      env.insert("OMP_NUM_THREADS", "1");
      process->setProcessEnvironment(env);
      process->start(QCoreApplication::applicationFilePath(), arguments);
      QVERIFY(process->waitForStarted());
      processes_.push_back(std::move(process));
    }
  }
  // Waits for a rank; its exit code, -1 when it did not finish within `seconds` (then killed), -2 when it
  // crashed.
  int finish(int rank, int seconds) {
    QProcess& p = *processes_[size_t(rank)];
    if (!p.waitForFinished(seconds * 1000)) {
      p.kill();
      p.waitForFinished();
      return -1;
    }
    return p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
  }
  QString errors(int rank) { return QString::fromUtf8(processes_[size_t(rank)]->readAllStandardError()); }
  QProcess& process(int rank) { return *processes_[size_t(rank)]; }

  ~SelfRanks() {
    for (auto& p : processes_)
      if (p->state() != QProcess::NotRunning) {
        p->kill();
        p->waitForFinished();
      }
  }

 private:
  std::vector<std::unique_ptr<QProcess>> processes_;
};

}  // namespace mls::test
