#include "train/memory_plan_bar.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <cmath>
#include <map>
#include <mutex>

#include "data/training/run_model_spec.h"
#include "data/training/run_plan.h"
#include "ml/planning/resource_planner.h"

namespace mls {

// Planners by model (building one to read its layers is the slow part; the arithmetic is instant).
struct MemoryPlanBar::Cache {
  std::mutex mutex;
  std::map<std::string, std::shared_ptr<ResourcePlanner>> planners;

  std::shared_ptr<ResourcePlanner> plannerFor(const TrainRequest& r, int classes) {
    const auto spec = modelSpecFor(r, classes);
    const std::string key = std::string(methodName(spec.method)) + "|" + spec.backbone + "|" + std::to_string(classes) + "|" +
                            std::to_string(spec.small_q2l) + std::to_string(spec.frozen_bn) + std::to_string(spec.freeze_stem);
    std::lock_guard<std::mutex> lock(mutex);
    auto it = planners.find(key);
    if (it == planners.end()) it = planners.emplace(key, std::make_shared<ResourcePlanner>(planningModel(r, classes))).first;
    return it->second;
  }
};

namespace {

MemoryPlanResult computePlan(const std::shared_ptr<MemoryPlanBar::Cache>& cache, TrainRequest r, int classes,
                             qint64 images, qint64 budget_override, int generation) {
  MemoryPlanResult out;
  out.generation = generation;
  try {
    r.resolveDefaults();
    PlanDataset data;
    data.num_classes = classes;
    data.train_images = images;
    const auto settings = planSettingsFor(r, data);
    out.budget = budget_override > 0 ? budget_override : deviceMemoryBytes(settings.device);
    const auto planner = cache->plannerFor(r, classes);
    out.plan = planner->plan(settings);
    if (out.budget > 0) {
      const auto fit = planner->fit(settings, out.budget, settings.batch * settings.grad_accum);
      if (!fit.candidates.empty()) out.best_fit = fit.candidates.front().settings;
    }
  } catch (const std::exception& e) {
    out.error = QString::fromStdString(e.what());
  }
  return out;
}

QString gib(qint64 bytes) { return QString::fromStdString(formatBytes(bytes)); }

QString duration(double seconds) {
  if (seconds < 1) return QObject::tr("%1 ms").arg(seconds * 1000, 0, 'f', 0);
  if (seconds < 120) return QObject::tr("%1 s").arg(seconds, 0, 'f', seconds < 10 ? 1 : 0);
  if (seconds < 7200) return QObject::tr("%1 min").arg(seconds / 60, 0, 'f', 1);
  return QObject::tr("%1 h").arg(seconds / 3600, 0, 'f', 1);
}

QString itemisedTooltip(const ResourcePlan& p, qint64 budget) {
  const auto& m = p.memory;
  const bool cuda = p.settings.onCuda();
  QString rows;
  auto row = [&](const QString& name, qint64 bytes) {
    if (bytes != 0) rows += QStringLiteral("<tr><td>%1</td><td align=right>%2</td></tr>").arg(name, gib(bytes));
  };
  row(QObject::tr("Weights"), m.weights);
  row(QObject::tr("Gradients"), m.gradients);
  row(QObject::tr("Optimizer state (Adam)"), m.optimizer_state);
  row(QObject::tr("EMA copy"), m.ema);
  row(QObject::tr("Label estimator (ROLE)"), m.label_estimator);
  row(QObject::tr("Activations for backward"), m.activations);
  row(QObject::tr("Largest transient"), m.transient);
  if (!cuda) row(QObject::tr("Loader buffers"), m.loader);
  row(QObject::tr("CUDA context + allocator"), m.runtime);
  QString text = QObject::tr("<b>Predicted peak %1</b>%2<table>%3</table>")
                     .arg(gib(p.peak_bytes), budget > 0 ? QObject::tr(" of %1").arg(gib(budget)) : QString(), rows);
  if (cuda) text += QObject::tr("<br>Loader: %1 of pinned host memory (not on the card).").arg(gib(m.loader));
  for (const auto& n : p.notes) text += QStringLiteral("<br>") + QString::fromStdString(n).toHtmlEscaped();
  return text;
}

}  // namespace

MemoryPlanBar::MemoryPlanBar(QWidget* parent) : QWidget(parent), cache_(std::make_shared<Cache>()) {
  bar_ = new QProgressBar;
  bar_->setRange(0, 1000);
  bar_->setValue(0);
  bar_->setTextVisible(true);
  bar_->setFormat(tr("Planning…"));
  time_ = new QLabel;
  time_->setWordWrap(true);
  fit_ = new QPushButton(tr("Fit to this device"));
  fit_->setToolTip(tr("Apply the planner's fastest configuration (mixed precision, checkpointing, channels-last, "
                      "batch x accumulation) that keeps this effective batch within the device's memory"));
  fit_->setEnabled(false);
  auto* top = new QHBoxLayout;
  top->setContentsMargins(0, 0, 0, 0);
  top->addWidget(bar_, 1);
  top->addWidget(fit_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(top);
  layout->addWidget(time_);

  debounce_ = new QTimer(this);
  debounce_->setSingleShot(true);
  debounce_->setInterval(150);
  connect(debounce_, &QTimer::timeout, this, &MemoryPlanBar::startPlanning);
  watcher_ = new QFutureWatcher<MemoryPlanResult>(this);
  connect(watcher_, &QFutureWatcher<MemoryPlanResult>::finished, this, [this] {
    const auto result = watcher_->result();
    if (pending_) {  // the settings changed meanwhile: plan again, show this one only if nothing newer comes
      pending_ = false;
      startPlanning();
    }
    if (result.generation == generation_) display(result);
  });
  connect(fit_, &QPushButton::clicked, this, [this] {
    if (const auto fitted = fittedRequest()) Q_EMIT fitRequested(*fitted);
  });
}

MemoryPlanBar::~MemoryPlanBar() { watcher_->waitForFinished(); }

void MemoryPlanBar::setDataset(int num_classes, qint64 train_images) {
  num_classes_ = std::max(1, num_classes);
  train_images_ = std::max<qint64>(0, train_images);
  debounce_->start();
}

void MemoryPlanBar::setRequest(const TrainRequest& request) {
  request_ = request;
  request_.project.clear();  // the panel's; planning uses setDataset()
  debounce_->start();
}

void MemoryPlanBar::setBudgetOverride(qint64 bytes) {
  budget_override_ = std::max<qint64>(0, bytes);
  debounce_->start();
}

bool MemoryPlanBar::isPlanning() const { return debounce_->isActive() || watcher_->isRunning() || pending_; }

void MemoryPlanBar::startPlanning() {
  if (watcher_->isRunning()) {
    pending_ = true;
    return;
  }
  ++generation_;
  watcher_->setFuture(QtConcurrent::run(computePlan, cache_, request_, num_classes_, train_images_, budget_override_, generation_));
}

std::optional<TrainRequest> MemoryPlanBar::fittedRequest() const {
  if (!result_.best_fit) return std::nullopt;
  TrainRequest r = request_;
  applyPlanSettings(r, *result_.best_fit);
  return r;
}

void MemoryPlanBar::display(const MemoryPlanResult& result) {
  result_ = result;
  if (!result.plan) {
    bar_->setValue(0);
    bar_->setFormat(tr("No memory plan"));
    bar_->setToolTip(result.error);
    time_->setText(tr("No plan: %1").arg(result.error));
    fit_->setEnabled(false);
    Q_EMIT planned();
    return;
  }
  const auto& p = *result.plan;
  const bool over = result.budget > 0 && p.peak_bytes > result.budget;
  if (result.budget > 0) {
    bar_->setValue(static_cast<int>(std::min<double>(1000.0, 1000.0 * static_cast<double>(p.peak_bytes) / static_cast<double>(result.budget))));
    bar_->setFormat(tr("%1 of %2%3").arg(gib(p.peak_bytes), gib(result.budget), over ? tr(" — does not fit") : QString()));
  } else {
    bar_->setValue(0);
    bar_->setFormat(tr("%1 (this device's memory is unknown here)").arg(gib(p.peak_bytes)));
  }
  // Red when the plan does not fit (the palette's highlight otherwise, as every other bar).
  bar_->setStyleSheet(over ? QStringLiteral("QProgressBar::chunk { background-color: #c82828; }") : QString());
  bar_->setToolTip(itemisedTooltip(p, result.budget));
  QString time = p.time.epoch_seconds > 0 ? tr("≈ %1 per epoch, %2 per step").arg(duration(p.time.epoch_seconds), duration(p.time.step_seconds))
                                          : tr("≈ %1 per step").arg(duration(p.time.step_seconds));
  time_->setText(time + (p.calibrated ? QString() : tr(" (uncalibrated estimate)")));
  bool differs = false;
  if (result.best_fit) {
    const auto& f = *result.best_fit;
    const auto& s = p.settings;
    differs = f.batch != s.batch || f.grad_accum != s.grad_accum || f.amp != s.amp ||
              (f.amp && f.amp_dtype != s.amp_dtype) || f.checkpoint_backbone != s.checkpoint_backbone ||
              f.channels_last != s.channels_last;
  }
  fit_->setEnabled(differs);
  fit_->setToolTip(result.best_fit ? tr("Apply: %1").arg(QString::fromStdString(trainFlagsFor(*result.best_fit)))
                                   : tr("Nothing reaches this effective batch within the device's memory"));
  Q_EMIT planned();
}

}  // namespace mls
