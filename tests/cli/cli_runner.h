// Runs the built mlstudio-cli (MLS_CLI_PATH) for the CLI tests and captures exit code, stdout and stderr.
#pragma once
#include <QByteArray>
#include <QProcess>
#include <QStringList>

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
