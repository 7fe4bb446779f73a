// The Train form's resource plan: a bar of the predicted peak memory against the device's memory (itemised
// in its tooltip), the estimated time per epoch, and "Fit to this device", which asks for the planner's best
// configuration at the same effective batch. Plans are computed on a worker thread (building a large model
// to read its layers takes seconds) and cached per model; the newest request wins.
#pragma once
#include <QFutureWatcher>
#include <QWidget>

#include <memory>
#include <optional>

#include "data/training/train_request.h"
#include "ml/planning/plan_types.h"

class QLabel;
class QProgressBar;
class QPushButton;
class QTimer;

namespace mls {

struct MemoryPlanResult {
  int generation = 0;
  std::optional<ResourcePlan> plan;
  std::optional<PlanSettings> best_fit;  // the fastest configuration at the same effective batch that fits
  int64_t budget = 0;                    // the device's memory (0 = unknown here)
  QString error;
};

class MemoryPlanBar : public QWidget {
  Q_OBJECT
 public:
  struct Cache;  // planners by model, shared with the worker threads

  explicit MemoryPlanBar(QWidget* parent = nullptr);
  ~MemoryPlanBar() override;

  // The open project's classes and training images (epoch time); 0 images = unknown.
  void setDataset(int num_classes, qint64 train_images);
  // Replans for these settings (debounced; the result arrives with planned()).
  void setRequest(const TrainRequest& request);
  // Compare against this budget instead of the device's memory (0 = the device's).
  void setBudgetOverride(qint64 bytes);

  const std::optional<ResourcePlan>& plan() const { return result_.plan; }
  qint64 budget() const { return result_.budget; }
  bool isPlanning() const;
  QProgressBar* bar() const { return bar_; }
  QLabel* timeLabel() const { return time_; }
  QPushButton* fitButton() const { return fit_; }
  // The request with the best fitting configuration applied (nullopt when nothing fits or no plan yet).
  std::optional<TrainRequest> fittedRequest() const;

 Q_SIGNALS:
  void planned();
  // "Fit to this device" was clicked: the form should take these settings.
  void fitRequested(const mls::TrainRequest& request);

 private:
  void startPlanning();
  void display(const MemoryPlanResult& result);

  QProgressBar* bar_;
  QLabel* time_;
  QPushButton* fit_;
  QTimer* debounce_;
  QFutureWatcher<MemoryPlanResult>* watcher_;
  TrainRequest request_;
  int num_classes_ = 80;
  qint64 train_images_ = 0;
  qint64 budget_override_ = 0;
  int generation_ = 0;
  bool pending_ = false;
  MemoryPlanResult result_;
  std::shared_ptr<Cache> cache_;
};

}  // namespace mls
