// After a run dies of out-of-memory, the Train tab offers "Resume with a configuration that fits": the run
// continues from its last checkpoint with the resource planner's fastest configuration (batch x accumulation,
// mixed precision, checkpointing) at the same effective batch that fits the device. This class owns that
// offer: the button, which run it resumes, and the fitted request; the panel starts the run.
#pragma once
#include <QObject>
#include <QString>
#include <optional>

#include "data/training/train_request.h"

class QPushButton;

namespace mls {

class ProjectStore;

class OomResume : public QObject {
  Q_OBJECT
 public:
  explicit OomResume(QObject* parent = nullptr);

  // The offer's button (hidden until a run ran out of memory); the panel places it in its layout.
  QPushButton* button() const { return button_; }
  // The run the offer resumes, 0 when there is none.
  qint64 run() const { return run_; }
  static bool isOutOfMemory(const QString& failure_message);
  // A run failed with this message: offers to resume it when the failure was out-of-memory.
  void noteFailure(qint64 run_id, const QString& message);
  // Withdraws the offer (a new run starts, or the resume is under way).
  void clear();

  // The offered run's stored request resumed on `device` with the planner's configuration that fits
  // budget_bytes (0 = the device's memory). Empty with *error set when the run is gone or nothing fits.
  std::optional<TrainRequest> fittedRequest(ProjectStore& store, const std::string& device, qint64 budget_bytes,
                                            QString* error) const;
  // One line for the messages: "Resuming run N with --batch 8 --grad-accum 4 ...".
  QString describe(const TrainRequest& fitted) const;

 Q_SIGNALS:
  void resumeRequested();  // the button was clicked

 private:
  QPushButton* button_;
  qint64 run_ = 0;
};

}  // namespace mls
