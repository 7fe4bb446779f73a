// The Train tab: Start/Stop, progress with ETA, a collapsible settings form with presets, live loss and mAP
// curves (the largest part) with earlier runs overlaid, and the run list and messages. Training runs in a
// TrainingWorker on its own QThread; the GUI thread only receives queued signals and replots on a throttle.
// Runs written by another process into the same project file are followed live (RunFollower). A data-parallel
// run (Processes > 1 in the form) trains in mlstudio-cli child processes (ProcessRun) and is drawn live from
// what its rank 0 records in the project. The run list, overlays and followed runs are in train_panel_runs.cpp.
#pragma once
#include <QHash>
#include <QPointer>
#include <QSet>
#include <QWidget>

#include "data/training/train_request.h"
#include "train/run_curves.h"

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QThread;
class QToolButton;
class QTreeView;

namespace mls {

class CurvePlot;
class DetachedRuns;
class OomResume;
class ProcessRun;
class ProjectSession;
class RunFollower;
struct FollowUpdate;
class RunsModel;
class TrainForm;
class TrainingWorker;
struct EpochInfo;
struct ProgressInfo;
struct StepPoint;

class TrainPanel : public QWidget {
  Q_OBJECT
 public:
  explicit TrainPanel(ProjectSession* session, QWidget* parent = nullptr);
  ~TrainPanel() override;

  bool isTraining() const { return training_; }
  qint64 currentRunId() const { return run_id_; }
  QString lastStatus() const { return last_status_; }
  TrainForm* form() const { return form_; }
  CurvePlot* curvePlot() const { return plot_; }
  RunsModel* runsModel() const { return runs_model_; }
  TrainingWorker* worker() const { return worker_; }
  // The run in child processes now going, or null (an in-process run, or none).
  ProcessRun* processRun() const { return process_; }
  // mlstudio-cli for data-parallel runs; by default the one next to this application's executable.
  void setCliProgram(const QString& path) { cli_program_ = path; }
  QString cliProgram() const;
  QPlainTextEdit* messagesView() const { return messages_; }
  QProgressBar* progressBar() const { return progress_; }
  QPushButton* startButton() const { return start_; }
  QPushButton* stopButton() const { return stop_; }
  // Shown after a run died of out-of-memory: resumes it with the resource planner's configuration that fits.
  QPushButton* resumeFitButton() const;
  QToolButton* settingsButton() const { return settings_button_; }
  RunFollower* follower() const { return follower_; }
  QString statusText() const;
  // Runs of earlier projects still training in the background (see detachRun).
  int backgroundRuns() const;

 public Q_SLOTS:
  // Starts a run with the form's settings. Returns false (with a message in the panel) when it cannot start.
  bool start();
  // processes: data-parallel processes (> 1 runs mlstudio-cli children); -1 = the form's choice.
  bool startWith(const TrainRequest& request, int processes = -1);
  // The failed run resumed from its last checkpoint with the planner's fastest configuration that fits the
  // device (same effective batch). budget_bytes 0 = the device's memory. False (with a message) if none fits.
  bool resumeWithFittingConfiguration(qint64 budget_bytes = 0);
  void stop();
  // Cancels a running training and waits for the worker to return (the window is closing).
  void shutdown();
  // For "Stop the run" when another project is about to open: cancels after the current batch and waits,
  // with the event loop running, until the run is recorded as stopped. False if it had not ended in time.
  bool stopAndWait(int timeout_ms = 60000);
  // For "Keep it training in the background": the run goes on with its own worker and store connection but
  // no longer draws here; statusMessage says "Run N of <project> finished" when it ends. The panel is then
  // free for the next project. Opening another project while a run trains does this by itself.
  bool detachRun();
  void refreshRuns();
  void setSettingsVisible(bool visible);

 Q_SIGNALS:
  void runStarted(qint64 run_id);
  void runFinished(qint64 run_id, const QString& status);
  void backgroundProgress(int percent, const QString& text);  // percent -1 = idle
  // One line for the status bar: a run ended (also one of an earlier project), or a start was refused.
  void statusMessage(const QString& text);

 private:
  void onRunIdKnown(qint64 run_id);
  void onSteps(const QVector<mls::StepPoint>& points);
  void onProgress(const mls::ProgressInfo& info);
  void onEpoch(qint64 run_id, const mls::EpochInfo& info);
  void onMessage(int level, const QString& text);
  void onRunFinished(qint64 run_id, const QString& status, const QString& message);
  void createWorker();
  void startProcessRun(const TrainRequest& request, int processes);
  void resetForProject();
  void refuseStart(const QString& reason);
  void setStatus(const QString& text, bool error = false);
  // Makes the plot draw exactly the ticked runs: the live run's curves when it is ticked, overlays for others.
  void syncOverlays();
  void drawOverlay(qint64 run_id);
  void onFollowUpdate(const mls::FollowUpdate& update);
  bool isOwnRun(qint64 run_id) const;
  void addMessage(int level, const QString& text);
  void updateButtons();
  void showEvent(QShowEvent* event) override;
  void hideEvent(QHideEvent* event) override;

  QPointer<ProjectSession> session_;
  TrainForm* form_;
  QPushButton* start_;
  QPushButton* stop_;
  OomResume* oom_resume_;  // "Resume with a configuration that fits" after out-of-memory
  QProgressBar* progress_;
  QLabel* status_;
  CurvePlot* plot_;
  RunsModel* runs_model_;
  QTreeView* runs_view_;
  QPlainTextEdit* messages_;
  QTabWidget* bottom_tabs_;
  QToolButton* settings_button_;
  QWidget* form_scroll_;
  QThread* thread_ = nullptr;
  TrainingWorker* worker_ = nullptr;  // lives on thread_; deleted after the thread has stopped
  ProcessRun* process_ = nullptr;     // a data-parallel run in child processes, while it goes
  QString cli_program_;
  RecordedLiveCurves process_curves_;  // the process run's curves read so far, drawn as they come
  DetachedRuns* detached_;
  RunFollower* follower_;
  // Runs another process is writing, as read so far; user_unticked_ keeps a followed run off once unticked.
  QHash<qint64, RunCurves> followed_;
  QSet<qint64> user_unticked_;

  bool training_ = false;
  bool stopping_ = false;
  qint64 run_id_ = -1;
  qint64 newest_run_at_start_ = 0;  // runs above it may be ours until the worker names its run
  QString run_project_;             // the project file the current run trains on
  QString run_label_;
  QString last_status_;
};

}  // namespace mls
