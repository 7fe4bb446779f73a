// A child process for the fault trials: started once, its stdout and stderr collected while the test waits
// for something it printed (or for a row in the project), then killed with SIGKILL or waited for.
// Waits have generous deadlines and end on observable state, never on elapsed time.
#pragma once
#include <QByteArray>
#include <QElapsedTimer>
#include <QProcess>
#include <QStringList>
#include <QThread>
#include <functional>

class FaultChild {
 public:
  // `before_exec` runs in the child between fork and exec (setrlimit, signal dispositions).
  FaultChild(const QString& program, const QStringList& args, std::function<void()> before_exec = {}) {
    if (before_exec) p_.setChildProcessModifier(before_exec);
    p_.start(program, args);
    p_.waitForStarted(60000);
  }
  ~FaultChild() {
    if (p_.state() != QProcess::NotRunning) {
      p_.kill();
      p_.waitForFinished(60000);
    }
  }
  FaultChild(const FaultChild&) = delete;
  FaultChild& operator=(const FaultChild&) = delete;

  // Whether the child still runs (QProcess notices an exit only inside its wait functions).
  bool running() {
    if (p_.state() != QProcess::NotRunning) p_.waitForFinished(0);
    return p_.state() != QProcess::NotRunning;
  }
  const QByteArray& out() const { return out_; }
  const QByteArray& err() const { return err_; }

  // Polls until cond() holds (true) or the child has exited without it holding, or the deadline passed (false).
  bool waitUntil(const std::function<bool()>& cond, int timeout_ms = 180000) {
    QElapsedTimer timer;
    timer.start();
    while (true) {
      collect(20);
      if (cond()) return true;
      if (!running()) {
        collect(0);
        return cond();
      }
      if (timer.elapsed() > timeout_ms) return false;
    }
  }
  bool waitForErr(const QByteArray& needle, int timeout_ms = 180000) {
    return waitUntil([&] { return err_.contains(needle); }, timeout_ms);
  }

  // SIGKILL (QProcess::kill on Unix), then reap the child so its pid is really gone.
  void killNow() {
    p_.kill();
    p_.waitForFinished(60000);
    collect(0);
  }
  // Waits for a normal exit; the exit code, or -1 when it crashed or did not end in time.
  int finish(int timeout_ms = 300000) {
    p_.waitForFinished(timeout_ms);
    collect(0);
    if (running()) return -1;
    return p_.exitStatus() == QProcess::NormalExit ? p_.exitCode() : -1;
  }

 private:
  void collect(int wait_ms) {
    if (wait_ms > 0 && p_.state() != QProcess::NotRunning) {
      if (!p_.waitForReadyRead(wait_ms)) QThread::msleep(1);
    }
    out_ += p_.readAllStandardOutput();
    err_ += p_.readAllStandardError();
  }

  QProcess p_;
  QByteArray out_, err_;
};
