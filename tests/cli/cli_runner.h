// Runs the built mlstudio-cli (MLS_CLI_PATH) for the CLI tests and captures exit code, stdout and stderr.
#pragma once
#include <QByteArray>
#include <QProcess>
#include <QStringList>
#include <QtTest/QtTest>

struct CliResult {
  int code;  // -1 when the process crashed or timed out
  QByteArray out, err;
};

inline CliResult runCli(const QStringList& args, int timeout_ms = 300000) {
  QProcess p;
  p.start(QStringLiteral(MLS_CLI_PATH), args);
  p.waitForFinished(timeout_ms);
  return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, p.readAllStandardOutput(),
          p.readAllStandardError()};
}

// The command fails (non-zero exit), says why on stderr (containing `needle`), and ends with the one-line
// "error: ..." the README promises. Returns the result for further checks.
inline CliResult expectCliError(const QStringList& args, const char* needle, int timeout_ms = 300000) {
  const auto r = runCli(args, timeout_ms);
  [&] {
    QVERIFY2(r.code > 0, r.out.constData());
    QVERIFY2(r.err.contains(needle), r.err.constData());
    QVERIFY2(r.err.trimmed().split('\n').last().startsWith("error: "), r.err.constData());
  }();
  return r;
}
