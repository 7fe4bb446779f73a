// The Train tab: settings form and presets, Start/Stop, progress with ETA, live loss and mAP curves with
// earlier runs overlaid, and a message panel. Training runs in a TrainingWorker on its own QThread; the GUI
// thread only receives queued signals and replots on a throttle.
#pragma once
#include <QPointer>
#include <QWidget>

#include "data/training/train_request.h"
#include "train/latency_probe.h"

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QThread;
class QTreeView;

namespace mls {

class CurvePlot;
class ProjectSession;
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
  // GUI event-loop lateness measured during the latest (or current) run.
  LatencyStats latencyStats() const { return probe_->stats(); }

  TrainForm* form() const { return form_; }
  CurvePlot* curvePlot() const { return plot_; }
  RunsModel* runsModel() const { return runs_model_; }
  TrainingWorker* worker() const { return worker_; }
  QPlainTextEdit* messagesView() const { return messages_; }
  QProgressBar* progressBar() const { return progress_; }
  QPushButton* startButton() const { return start_; }
  QPushButton* stopButton() const { return stop_; }

 public Q_SLOTS:
  // Starts a run with the form's settings. Returns false (with a message in the panel) when it cannot start.
  bool start();
  bool startWith(const TrainRequest& request);
  void stop();
  // Cancels a running training and waits for the worker to return (the window is closing).
  void shutdown();
  void refreshRuns();

 Q_SIGNALS:
  void runStarted(qint64 run_id);
  void runFinished(qint64 run_id, const QString& status);
  void backgroundProgress(int percent, const QString& text);  // percent -1 = idle

 private:
  void onRunIdKnown(qint64 run_id);
  void onSteps(const QVector<mls::StepPoint>& points);
  void onProgress(const mls::ProgressInfo& info);
  void onEpoch(qint64 run_id, const mls::EpochInfo& info);
  void onMessage(int level, const QString& text);
  void onRunFinished(qint64 run_id, const QString& status, const QString& message);
  void onOverlayToggled(qint64 run_id, bool checked);
  void addMessage(int level, const QString& text);
  void updateButtons();

  QPointer<ProjectSession> session_;
  TrainForm* form_;
  QPushButton* start_;
  QPushButton* stop_;
  QProgressBar* progress_;
  QLabel* status_;
  CurvePlot* plot_;
  RunsModel* runs_model_;
  QTreeView* runs_view_;
  QPlainTextEdit* messages_;
  QTabWidget* bottom_tabs_;
  LatencyProbe* probe_;
  QThread* thread_;
  TrainingWorker* worker_;  // lives on thread_; deleted after the thread has stopped

  bool training_ = false;
  bool stopping_ = false;
  qint64 run_id_ = -1;
  QString run_label_;
  QString last_status_;
};

}  // namespace mls
