#include "train/training_worker.h"

#include <chrono>

#include "data/store/project_types.h"
#include "data/training/training_session.h"

namespace mls {

namespace {
// Batches of step points and progress records leave the training thread at most this often.
constexpr auto kEmitInterval = std::chrono::milliseconds(30);
}  // namespace

class TrainingWorker::Observer : public TrainObserver {
 public:
  explicit Observer(TrainingWorker& worker) : worker_(worker) {}
  void setSession(const TrainingSession* session) { session_ = session; }

  void onStep(const StepInfo& s) override {
    announceRun();
    // The trainer numbers steps and epochs over the whole run (LinearInit's phases, resumes): drawn as they come.
    pending_.push_back({s.global_step, s.epoch, s.loss});
    // The last batch of an epoch goes out now: validation may take a while before the next callback.
    if (s.step >= s.steps_per_epoch || std::chrono::steady_clock::now() - last_steps_ >= kEmitInterval) flushSteps();
  }

  void onProgress(const ProgressInfo& p) override {
    announceRun();
    const auto now = std::chrono::steady_clock::now();
    if (p.step < p.steps_per_epoch && now - last_progress_ < kEmitInterval) return;
    last_progress_ = now;
    Q_EMIT worker_.progress(p);
  }

  void onEpoch(const EpochInfo& e) override {
    announceRun();
    flushSteps();
    worker_.callback_thread_ = QThread::currentThread();
    Q_EMIT worker_.epochFinished(session_ ? session_->runId() : 0, e);
  }

  void onMessage(MessageLevel level, const std::string& text) override {
    announceRun();
    Q_EMIT worker_.message(static_cast<int>(level), QString::fromStdString(text));
  }

  void onCheckpoint(int epoch, const std::string& path, double) override {
    Q_EMIT worker_.message(static_cast<int>(MessageLevel::Info),
                           QStringLiteral("epoch %1: checkpoint %2").arg(epoch).arg(QString::fromStdString(path)));
  }

  void flushSteps() {
    last_steps_ = std::chrono::steady_clock::now();
    if (pending_.isEmpty()) return;
    Q_EMIT worker_.stepsReady(pending_);
    pending_.clear();
  }

  // The run id exists once the session created the run, before its first callback.
  void announceRun() {
    if (announced_ || !session_) return;
    if (const auto id = session_->runId(); id > 0) {
      announced_ = true;
      Q_EMIT worker_.runIdKnown(id);
    }
  }
  bool announced() const { return announced_; }

 private:
  TrainingWorker& worker_;
  const TrainingSession* session_ = nullptr;
  QVector<StepPoint> pending_;
  std::chrono::steady_clock::time_point last_steps_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_progress_{};
  bool announced_ = false;
};

TrainingWorker::TrainingWorker(QObject* parent) : QObject(parent) {
  qRegisterMetaType<mls::StepPoint>();
  qRegisterMetaType<QVector<mls::StepPoint>>();
  qRegisterMetaType<mls::ProgressInfo>();
  qRegisterMetaType<mls::EpochInfo>();
}

TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::cancel() {
  std::lock_guard<std::mutex> lock(token_mutex_);
  cancel_.request();
}

void TrainingWorker::train(const TrainRequest& request) {
  callback_thread_ = nullptr;
  // Run statuses travel to the GUI thread as their stored names.
  auto name = [](RunStatus s) { return QString::fromLatin1(runStatusName(s)); };
  QString status = name(RunStatus::Finished), text;
  int64_t run_id = 0;
  CancelToken cancel;
  {
    std::lock_guard<std::mutex> lock(token_mutex_);
    cancel = cancel_;
  }
  {
    Observer observer(*this);
    TrainingSession session(request, &observer, cancel);
    observer.setSession(&session);
    try {
      const auto outcome = session.run();
      if (outcome.cancelled) status = name(RunStatus::Cancelled);
      if (outcome.skipped_images > 0)
        text = QStringLiteral("%1 images could not be read and were skipped").arg(outcome.skipped_images);
    } catch (const std::exception& e) {
      status = name(RunStatus::Failed);
      text = QString::fromUtf8(e.what());
    } catch (...) {
      status = name(RunStatus::Failed);
      text = QStringLiteral("unknown error");
    }
    observer.flushSteps();
    run_id = session.runId();
    if (run_id > 0 && !observer.announced()) Q_EMIT runIdKnown(run_id);
  }
  {
    // A Stop meant for this run does not carry over to the next one.
    std::lock_guard<std::mutex> lock(token_mutex_);
    cancel_ = CancelToken();
  }
  Q_EMIT runFinished(run_id, status, text);
}

}  // namespace mls
