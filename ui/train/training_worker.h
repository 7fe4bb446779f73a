// Runs one TrainingSession at a time on the thread it is moved to and turns the engine's observer callbacks
// into queued signals. Step losses and progress are batched (about every 30 ms) so a fast CPU run does not
// flood the GUI event queue; epochs, messages and the end of a run are sent at once.
#pragma once
#include <QObject>
#include <QString>
#include <QThread>
#include <QVector>
#include <atomic>
#include <memory>
#include <mutex>

#include "data/training/train_request.h"
#include "ml/cancel_token.h"
#include "ml/training/training_types.h"

namespace mls {

class TrainingSession;

struct StepPoint {
  qint64 global_step = 0;
  int epoch = 0;
  double loss = 0;
};

class TrainingWorker : public QObject {
  Q_OBJECT
 public:
  explicit TrainingWorker(QObject* parent = nullptr);
  ~TrainingWorker() override;

  // Blocking: call on the worker thread (queue it there). Emits runIdKnown as soon as the run exists, then
  // stepsReady/progress/epochFinished/message, and always runFinished at the end, also on failure.
  void train(const TrainRequest& request);
  // Thread-safe. Stops at the next batch boundary; also stops a run that is queued but not started yet.
  // (Requests the token of the current or next run; train() hands it to the TrainingSession.)
  void cancel();
  // The thread the engine's callbacks ran on during the latest run (for tests and assertions).
  QThread* callbackThread() const { return callback_thread_.load(); }

 Q_SIGNALS:
  void runIdKnown(qint64 run_id);
  void stepsReady(const QVector<mls::StepPoint>& points);
  void progress(const mls::ProgressInfo& info);
  void epochFinished(qint64 run_id, const mls::EpochInfo& info);
  void message(int level, const QString& text);  // level: MessageLevel as int
  void runFinished(qint64 run_id, const QString& status, const QString& message);

 private:
  class Observer;
  friend class Observer;
  std::mutex token_mutex_;  // guards replacing cancel_ (a new token per run) against cancel()
  CancelToken cancel_;      // of the run now training, or of the next one
  std::atomic<QThread*> callback_thread_{nullptr};
};

}  // namespace mls

Q_DECLARE_METATYPE(mls::StepPoint)
Q_DECLARE_METATYPE(mls::ProgressInfo)
Q_DECLARE_METATYPE(mls::EpochInfo)
