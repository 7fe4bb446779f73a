#include "train/process_run.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>

#include <QCoreApplication>
#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <algorithm>
#include <cmath>

#include "data/store/project_store.h"
#include "data/training/train_arguments.h"

namespace mls {

namespace {

// "[rank 1] " or similar in front of a line is allowed: the launcher may tag its ranks' lines.
const QRegularExpression kLevelLine(QStringLiteral("^(?:\\[[^\\]]*\\]\\s*)?(error|warning): (.*)$"));
const QRegularExpression kProgressLine(
    QStringLiteral("epoch (\\d+)/(\\d+)\\s+step (\\d+)/(\\d+)\\s+loss \\S+\\s+([0-9.]+)%\\s+ETA (\\S+)"));
const QRegularExpression kEta(QStringLiteral("^(?:(\\d+)h)?(\\d+)m(\\d+)s$"));

}  // namespace

ProcessRun::ProcessRun(QObject* parent) : QObject(parent) {
  process_.setProcessChannelMode(QProcess::SeparateChannels);
  // In the child between fork and exec: SIGINT when this application dies (graceful stop, checkpoint kept),
  // and writes to the then closed stderr pipe fail instead of killing it before it has marked the run.
  process_.setChildProcessModifier([] {
    ::prctl(PR_SET_PDEATHSIG, SIGINT);
    ::signal(SIGPIPE, SIG_IGN);
  });
  second_stop_.setSingleShot(true);
  connect(&second_stop_, &QTimer::timeout, this, [this] {
    if (!isRunning()) return;
    Q_EMIT message(static_cast<int>(MessageLevel::Warning),
                   tr("The processes did not stop within %1 s: stopping them now").arg(second_stop_.interval() / 1000));
    signalLauncher(SIGINT);
  });
  connect(&process_, &QProcess::readyReadStandardError, this, &ProcessRun::readErrors);
  connect(&process_, &QProcess::finished, this, &ProcessRun::onFinished);
  connect(&process_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
    if (error != QProcess::FailedToStart) return;  // the others end in finished()
    const QString text = tr("cannot run %1: %2").arg(process_.program(), process_.errorString());
    project_.clear();  // no run of ours can be in the project
    QMetaObject::invokeMethod(this, [this, text] { finish(QStringLiteral("failed"), text); }, Qt::QueuedConnection);
  });
}

ProcessRun::~ProcessRun() {
  if (!isRunning()) return;
  blockSignals(true);  // whoever listened may be half destroyed; the run's end is recorded in the project
  stopAndWait();
}

QString ProcessRun::defaultProgram() {
  return QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("mlstudio-cli"));
}

QStringList ProcessRun::launchArguments(const TrainRequest& request, int processes) {
  TrainRequest r = request;
  if (r.device.rfind("cuda:", 0) == 0) r.device = "cuda";
  QStringList args{QStringLiteral("train")};
  for (const auto& a : trainArguments(r)) args << QString::fromStdString(a);
  args << QStringLiteral("--nproc-per-node") << QString::number(processes);
  return args;
}

void ProcessRun::start(const QString& program, const QStringList& args, const QString& project,
                       qint64 newest_run_before) {
  project_ = project;
  newest_run_before_ = newest_run_before;
  process_.start(program, args, QIODevice::ReadOnly);
}

void ProcessRun::signalLauncher(int signal_number) {
  const qint64 pid = process_.processId();
  if (pid > 0) ::kill(static_cast<pid_t>(pid), signal_number);
}

void ProcessRun::stop(int grace_ms) {
  if (!isRunning() || stop_requested_) return;
  stop_requested_ = true;
  signalLauncher(SIGINT);
  second_stop_.start(grace_ms);
}

bool ProcessRun::stopAndWait(int grace_ms) {
  if (!isRunning()) return true;
  if (!stop_requested_) {
    stop_requested_ = true;
    signalLauncher(SIGINT);
  }
  second_stop_.stop();
  if (process_.waitForFinished(grace_ms)) return true;
  signalLauncher(SIGINT);  // the launcher kills its ranks
  if (process_.waitForFinished(10000)) return true;
  process_.kill();
  process_.waitForFinished(5000);
  return false;
}

bool ProcessRun::parseProgress(const QString& line, ProgressInfo* info) {
  const auto m = kProgressLine.match(line);
  if (!m.hasMatch()) return false;
  info->epoch = m.captured(1).toInt();
  info->epochs = m.captured(2).toInt();
  info->step = m.captured(3).toLongLong();
  info->steps_per_epoch = m.captured(4).toLongLong();
  info->fraction = std::clamp(m.captured(5).toDouble() / 100.0, 0.0, 1.0);
  const auto eta = kEta.match(m.captured(6));
  info->eta_seconds = eta.hasMatch() ? eta.captured(1).toDouble() * 3600 + eta.captured(2).toDouble() * 60 +
                                           eta.captured(3).toDouble()
                                     : NAN;
  return true;
}

void ProcessRun::readErrors() {
  pending_err_ += process_.readAllStandardError();
  for (;;) {
    // A line ends in '\n', or in '\r' where a progress line is redrawn in place.
    const auto end = std::find_if(pending_err_.begin(), pending_err_.end(), [](char c) { return c == '\n' || c == '\r'; });
    if (end == pending_err_.end()) return;
    const auto n = static_cast<qsizetype>(end - pending_err_.begin());
    const QString line = QString::fromUtf8(pending_err_.left(n)).remove(QStringLiteral("\033[K")).trimmed();
    pending_err_.remove(0, n + 1);
    if (!line.isEmpty()) handleLine(line);
  }
}

void ProcessRun::handleLine(const QString& line) {
  ProgressInfo p;
  if (parseProgress(line, &p)) {
    Q_EMIT progress(p);
    return;
  }
  last_line_ = line;
  const auto m = kLevelLine.match(line);
  if (m.hasMatch() && m.captured(1) == QLatin1String("error")) {
    last_error_ = m.captured(2);
    if (first_error_.isEmpty()) first_error_ = last_error_;
    Q_EMIT message(static_cast<int>(MessageLevel::Error), last_error_);
  } else if (m.hasMatch()) {
    Q_EMIT message(static_cast<int>(MessageLevel::Warning), m.captured(2));
  } else {
    Q_EMIT message(static_cast<int>(MessageLevel::Info), line);
  }
}

void ProcessRun::onFinished(int exit_code, QProcess::ExitStatus exit_status) {
  second_stop_.stop();
  readErrors();
  if (!pending_err_.trimmed().isEmpty()) handleLine(QString::fromUtf8(pending_err_).trimmed());
  pending_err_.clear();
  QString status, text;
  if (exit_status == QProcess::NormalExit && exit_code == 0) {
    // `train` ends with one JSON line on stdout: {"run": 7, ..., "cancelled": true}.
    const QList<QByteArray> lines = process_.readAllStandardOutput().trimmed().split('\n');
    const QJsonObject j = QJsonDocument::fromJson(lines.last()).object();
    if (j.value(QStringLiteral("run")).toInteger() > 0) run_id_ = j.value(QStringLiteral("run")).toInteger();
    const bool cancelled = j.value(QStringLiteral("cancelled")).toBool() || stop_requested_;
    status = cancelled ? QStringLiteral("cancelled") : QStringLiteral("finished");
  } else {
    status = stop_requested_ ? QStringLiteral("cancelled") : QStringLiteral("failed");
    // The launcher's last line names the rank that failed; the rank's own error says why (out of memory...).
    text = !last_error_.isEmpty() ? (first_error_ != last_error_ ? last_error_ + QStringLiteral(": ") + first_error_ : last_error_)
           : exit_status == QProcess::CrashExit
               ? tr("mlstudio-cli was killed")
               : tr("mlstudio-cli exited with code %1%2").arg(exit_code).arg(last_line_.isEmpty() ? QString() : QStringLiteral(": ") + last_line_);
  }
  finish(status, text);
}

void ProcessRun::finish(QString status, const QString& text) {
  if (finished_) return;
  finished_ = true;
  // The project's record is the truth. One still "running" now has no process left to write it: it ended as
  // this process did (killed after a second stop, or a crash).
  if (!project_.isEmpty()) {
    try {
      ProjectStore store(project_.toStdString(), ProjectStore::Open::Existing);
      if (run_id_ <= 0)
        for (const auto& r : store.runs())
          if (r.id > newest_run_before_ && (run_id_ <= 0 || r.id < run_id_)) run_id_ = r.id;
      if (run_id_ > 0)
        if (const auto r = store.run(run_id_)) {
          if (r->status == RunStatus::Running) store.setRunStatus(run_id_, parseRunStatus(status.toStdString()));
          else status = QString::fromLatin1(runStatusName(r->status));
        }
    } catch (const std::exception& e) {
      Q_EMIT message(static_cast<int>(MessageLevel::Warning), tr("Could not read the run's record: %1").arg(QString::fromUtf8(e.what())));
    }
  }
  Q_EMIT runFinished(run_id_, status, text);
}

}  // namespace mls
