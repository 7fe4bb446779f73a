// A training run in mlstudio-cli child processes (`train ... --nproc-per-node N`: data-parallel ranks under a
// launcher), driven like TrainingWorker: progress parsed from its stderr lines, every other stderr line as a
// message, and runFinished once the launcher has exited. The curves are not here: rank 0 records them in the
// project, where the Train tab's RunFollower reads them.
//
// Stop sends SIGINT to the launcher, which forwards it to every rank: they stop after the current step, keep
// their checkpoint and the run is marked cancelled. If it has not ended after a grace period, a second SIGINT
// makes the launcher kill the ranks. The launcher also gets SIGINT when this application dies, so no rank is
// left training unseen.
#pragma once
#include <QByteArray>
#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTimer>

#include "train/training_worker.h"  // ProgressInfo as a Qt metatype (Q_DECLARE_METATYPE there)

namespace mls {

class ProcessRun : public QObject {
  Q_OBJECT
 public:
  static constexpr int kStopGraceMs = 30000;
  explicit ProcessRun(QObject* parent = nullptr);
  ~ProcessRun() override;  // stopAndWait() if still running

  // mlstudio-cli next to this application's executable.
  static QString defaultProgram();
  // `train <the request's flags> --nproc-per-node N`; a chosen cuda:i becomes "cuda" (each rank trains on the
  // GPU of its local rank; one device would be shared by all).
  static QStringList launchArguments(const TrainRequest& request, int processes);
  // Starts `program args` training on `project`; runs created there with an id above newest_run_before may be
  // this one. runFinished always follows (queued when the program does not start).
  void start(const QString& program, const QStringList& args, const QString& project, qint64 newest_run_before);
  bool isRunning() const { return process_.state() != QProcess::NotRunning; }
  qint64 processId() const { return process_.processId(); }
  QString project() const { return project_; }
  // The run it writes, as the project shows it (0 while unknown).
  qint64 runId() const { return run_id_; }
  void setRunId(qint64 run_id) { run_id_ = run_id; }
  bool stopRequested() const { return stop_requested_; }
  // SIGINT now; a second SIGINT after grace_ms if it is still running. Returns at once.
  void stop(int grace_ms = kStopGraceMs);
  // Blocking (no event loop needed; for the window closing): stop(), wait, second SIGINT, wait, SIGKILL.
  // True when it ended before SIGKILL.
  bool stopAndWait(int grace_ms = kStopGraceMs);

  // One stderr line of `mlstudio-cli train` ("epoch 2/10  step 3/7  loss 0.41  23.5%  ETA 1m02s") as progress.
  static bool parseProgress(const QString& line, ProgressInfo* info);

 Q_SIGNALS:
  void progress(const mls::ProgressInfo& info);
  void message(int level, const QString& text);  // level: MessageLevel as int
  // status: the project's record of the run when there is one (finished / cancelled / failed); message on
  // failure: the launcher's last error line, with the first error a rank printed when that is another.
  void runFinished(qint64 run_id, const QString& status, const QString& message);

 private:
  void readErrors();
  void handleLine(const QString& line);
  void onFinished(int exit_code, QProcess::ExitStatus exit_status);
  void finish(QString status, const QString& message);
  void signalLauncher(int signal_number);

  QProcess process_;
  QTimer second_stop_;
  QString project_;
  QByteArray pending_err_;  // a stderr line not yet complete
  QString first_error_, last_error_, last_line_;
  qint64 newest_run_before_ = 0;
  qint64 run_id_ = 0;
  bool stop_requested_ = false;
  bool finished_ = false;
};

}  // namespace mls
