#include "train/oom_resume.h"

#include <QPushButton>
#include <stdexcept>

#include "data/store/project_store.h"
#include "data/training/run_plan.h"
#include "ml/planning/resource_planner.h"

namespace mls {

OomResume::OomResume(QObject* parent) : QObject(parent) {
  button_ = new QPushButton(tr("Resume with a configuration that fits"));  // the panel's layout owns it
  button_->setToolTip(tr("Continue this run from its last checkpoint with the resource planner's fastest "
                         "configuration (batch x accumulation, mixed precision, checkpointing) that fits the device"));
  button_->hide();
  connect(button_, &QPushButton::clicked, this, &OomResume::resumeRequested);
}

bool OomResume::isOutOfMemory(const QString& failure_message) {
  return failure_message.contains(QLatin1String("out of memory"));
}

void OomResume::noteFailure(qint64 run_id, const QString& message) {
  if (run_id <= 0 || !isOutOfMemory(message)) return;
  run_ = run_id;
  button_->show();
}

void OomResume::clear() {
  run_ = 0;
  button_->hide();
}

std::optional<TrainRequest> OomResume::fittedRequest(ProjectStore& store, const std::string& device,
                                                     qint64 budget_bytes, QString* error) const {
  try {
    if (run_ <= 0) throw std::invalid_argument("no run ran out of memory");
    const auto record = store.run(run_);
    if (!record) throw std::invalid_argument("the run is gone from the project");
    auto stored = TrainRequest::fromJson(record->config);
    stored.device = device;  // where it trains now
    const auto counts = store.counts();
    PlanDataset data;
    data.num_classes = static_cast<int>(counts.categories);
    data.train_images = counts.train;
    const qint64 budget = budget_bytes > 0 ? budget_bytes : deviceMemoryBytes(planSettingsFor(stored, data).device);
    if (budget <= 0) throw std::invalid_argument("the device's memory is unknown here");
    return fittedResume(stored, run_, data, budget);
  } catch (const std::exception& e) {
    if (error) *error = QString::fromStdString(e.what());
    return std::nullopt;
  }
}

QString OomResume::describe(const TrainRequest& fitted) const {
  return tr("Resuming run %1 with %2").arg(run_).arg(QString::fromStdString(trainFlagsFor(planSettingsFor(fitted, {}))));
}

}  // namespace mls
