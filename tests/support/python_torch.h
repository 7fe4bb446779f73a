// The Python the cross-checks against PyTorch run: /usr/bin/python3 (scripts/setup installs python3-torch and
// python3-torchvision for it), or the interpreter MLS_TEST_PYTHON names.
#pragma once
#include <QByteArray>
#include <QProcess>
#include <QString>

namespace mls::test {

inline QString testPython() {
  const QByteArray chosen = qgetenv("MLS_TEST_PYTHON");
  return chosen.isEmpty() ? QStringLiteral("/usr/bin/python3") : QString::fromLocal8Bit(chosen);
}

// Empty when the test Python imports torch and torchvision; otherwise why it cannot be used.
inline QString pythonTorchMissing() {
  QProcess p;
  p.setProcessChannelMode(QProcess::MergedChannels);
  p.start(testPython(), {"-c", "import torch, torchvision"});
  if (!p.waitForStarted(10000)) return "cannot start " + testPython();
  if (!p.waitForFinished(120000)) return testPython() + " did not import torch/torchvision within 2 minutes";
  if (p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0) return {};
  return testPython() + " lacks torch/torchvision: " + QString::fromLocal8Bit(p.readAll()).trimmed().right(200);
}

// CI must run every cross-check (CI=true, as CI services and .ci/run set it): a missing interpreter fails
// there instead of skipping.
inline bool runningOnCi() {
  const QByteArray ci = qgetenv("CI").trimmed().toLower();
  return !ci.isEmpty() && ci != "0" && ci != "false";
}

}  // namespace mls::test
