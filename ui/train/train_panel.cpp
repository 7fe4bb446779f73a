#include "train/train_panel.h"

#include <QDateTime>
#include <QTime>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSplitter>
#include <QTabWidget>
#include <QThread>
#include <QTreeView>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <optional>

#include "data/store/project_store.h"
#include "project_session.h"
#include "train/curve_plot.h"
#include "train/run_curves.h"
#include "train/runs_model.h"
#include "train/train_form.h"
#include "train/training_worker.h"

namespace mls {

namespace {

QString formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return QStringLiteral("?");
  const qint64 s = static_cast<qint64>(std::llround(seconds));
  if (s >= 3600) return QStringLiteral("%1h%2m").arg(s / 3600).arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
  if (s >= 60) return QStringLiteral("%1m%2s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
  return QStringLiteral("%1s").arg(s);
}

}  // namespace

TrainPanel::TrainPanel(ProjectSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  form_ = new TrainForm;
  auto* form_scroll = new QScrollArea;
  form_scroll->setWidget(form_);
  form_scroll->setWidgetResizable(true);
  form_scroll->setFrameShape(QFrame::NoFrame);
  form_scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
  form_scroll->setMinimumWidth(std::min(form_->sizeHint().width() + 16, 300));

  start_ = new QPushButton(tr("Start"));
  start_->setToolTip(tr("Train with these settings on the open project"));
  stop_ = new QPushButton(tr("Stop"));
  stop_->setToolTip(tr("Stop after the current batch; the run is kept as cancelled"));
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(start_);
  buttons->addWidget(stop_);

  progress_ = new QProgressBar;
  progress_->setRange(0, 1000);
  progress_->setValue(0);
  progress_->setTextVisible(true);
  progress_->setFormat(tr("Idle"));
  status_ = new QLabel;
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* left = new QWidget;
  auto* left_layout = new QVBoxLayout(left);
  left_layout->setContentsMargins(0, 0, 4, 0);
  left_layout->addWidget(form_scroll, 1);
  left_layout->addLayout(buttons);
  left_layout->addWidget(progress_);
  left_layout->addWidget(status_);

  plot_ = new CurvePlot;
  runs_model_ = new RunsModel(this);
  runs_view_ = new QTreeView;
  runs_view_->setModel(runs_model_);
  runs_view_->setRootIsDecorated(false);
  runs_view_->setUniformRowHeights(true);
  runs_view_->setAlternatingRowColors(true);
  runs_view_->setToolTip(tr("Tick runs to overlay their curves; double-click makes a run current for Inspect"));
  runs_view_->header()->setStretchLastSection(false);
  runs_view_->header()->setSectionResizeMode(RunsModel::NameColumn, QHeaderView::Stretch);
  for (int c : {RunsModel::MethodColumn, RunsModel::StatusColumn, RunsModel::BestMapColumn})
    runs_view_->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  messages_ = new QPlainTextEdit;
  messages_->setReadOnly(true);
  messages_->setMaximumBlockCount(5000);
  messages_->setPlaceholderText(tr("Training messages, warnings and errors appear here."));

  // Tabs rather than side by side: the panel usually lives in a dock, where width is scarce.
  bottom_tabs_ = new QTabWidget;
  bottom_tabs_->setDocumentMode(true);
  bottom_tabs_->addTab(runs_view_, tr("Runs"));
  bottom_tabs_->addTab(messages_, tr("Messages"));
  auto* right = new QSplitter(Qt::Vertical);
  right->addWidget(plot_);
  right->addWidget(bottom_tabs_);
  right->setStretchFactor(0, 3);
  right->setStretchFactor(1, 1);
  right->setChildrenCollapsible(false);
  auto* main = new QSplitter(Qt::Horizontal);
  main->addWidget(left);
  main->addWidget(right);
  main->setStretchFactor(0, 0);
  main->setStretchFactor(1, 1);
  main->setChildrenCollapsible(false);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addWidget(main);

  probe_ = new LatencyProbe(this);
  thread_ = new QThread(this);
  thread_->setObjectName(QStringLiteral("mls-training"));
  worker_ = new TrainingWorker;  // no parent: it moves to thread_ and is deleted after the thread stops
  worker_->moveToThread(thread_);
  connect(worker_, &TrainingWorker::runIdKnown, this, &TrainPanel::onRunIdKnown);
  connect(worker_, &TrainingWorker::stepsReady, this, &TrainPanel::onSteps);
  connect(worker_, &TrainingWorker::progress, this, &TrainPanel::onProgress);
  connect(worker_, &TrainingWorker::epochFinished, this, &TrainPanel::onEpoch);
  connect(worker_, &TrainingWorker::message, this, &TrainPanel::onMessage);
  connect(worker_, &TrainingWorker::runFinished, this, &TrainPanel::onRunFinished);
  thread_->start();

  connect(start_, &QPushButton::clicked, this, [this] { start(); });
  connect(stop_, &QPushButton::clicked, this, &TrainPanel::stop);
  connect(runs_model_, &RunsModel::checkedChanged, this, &TrainPanel::onOverlayToggled);
  connect(runs_view_, &QTreeView::activated, this, [this](const QModelIndex& index) {
    if (session_) session_->setCurrentRun(runs_model_->data(index, RunsModel::RunIdRole).toLongLong());
  });
  if (session_) {
    connect(session_, &ProjectSession::projectOpened, this, [this] {
      plot_->clearOverlays();
      runs_model_->setRuns({});  // run ids of another project must not stay ticked
      if (!training_) plot_->startLive(-1, QString());
      refreshRuns();
      updateButtons();
    });
    connect(session_, &ProjectSession::runsChanged, this, &TrainPanel::refreshRuns);
    // Show the current run's curves while nothing else is overlaid (e.g. right after opening a project).
    connect(session_, &ProjectSession::currentRunChanged, this, [this](qint64 run_id) {
      if (run_id >= 0 && !training_ && runs_model_->checkedRuns().isEmpty()) runs_model_->setChecked(run_id, true);
    });
  }
  refreshRuns();
  updateButtons();
}

TrainPanel::~TrainPanel() {
  shutdown();
  delete worker_;
}

void TrainPanel::shutdown() {
  if (training_) worker_->cancel();
  thread_->quit();  // processed once a running train() has returned
  thread_->wait();
  probe_->stop();
}

bool TrainPanel::start() { return startWith(form_->request()); }

bool TrainPanel::startWith(const TrainRequest& request) {
  if (training_) return false;
  if (!session_ || !session_->isOpen()) {
    addMessage(static_cast<int>(MessageLevel::Error), tr("Open a project before training."));
    return false;
  }
  TrainRequest r = request;
  r.project = session_->path().toStdString();
  try {
    TrainRequest check = r;  // the session resolves again; this only catches bad values before a run exists
    check.resolveDefaults();
  } catch (const std::exception& e) {
    addMessage(static_cast<int>(MessageLevel::Error), tr("Cannot start: %1").arg(QString::fromUtf8(e.what())));
    return false;
  }
  training_ = true;
  stopping_ = false;
  run_id_ = -1;
  run_label_.clear();
  last_status_.clear();
  plot_->startLive(-1, QString());
  progress_->setValue(0);
  progress_->setFormat(tr("Starting…"));
  status_->setStyleSheet(QString());
  status_->setText(tr("Preparing data and model…"));
  addMessage(static_cast<int>(MessageLevel::Info),
             tr("Starting %1 / %2 / %3 labels / %4")
                 .arg(QString::fromStdString(r.method), QString::fromStdString(r.loss),
                      QString::fromStdString(r.labels), QString::fromStdString(r.backbone)));
  updateButtons();
  probe_->start();
  if (!thread_->isRunning()) thread_->start();
  QMetaObject::invokeMethod(worker_, [w = worker_, r] { w->train(r); }, Qt::QueuedConnection);
  Q_EMIT backgroundProgress(0, tr("Training: starting"));
  return true;
}

void TrainPanel::stop() {
  if (!training_ || stopping_) return;
  stopping_ = true;
  worker_->cancel();
  addMessage(static_cast<int>(MessageLevel::Info), tr("Stopping after the current batch…"));
  progress_->setFormat(tr("Stopping…"));
  updateButtons();
}

void TrainPanel::refreshRuns() {
  if (!session_ || !session_->isOpen()) {
    runs_model_->setRuns({});
    return;
  }
  try {
    runs_model_->setRuns(session_->store()->runs());
  } catch (const std::exception& e) {
    addMessage(static_cast<int>(MessageLevel::Warning), tr("Could not read the runs: %1").arg(QString::fromUtf8(e.what())));
  }
}

void TrainPanel::onRunIdKnown(qint64 run_id) {
  run_id_ = run_id;
  run_label_ = QStringLiteral("#%1").arg(run_id);
  if (session_ && session_->isOpen()) {
    try {
      if (const auto r = session_->store()->run(run_id)) run_label_ += QLatin1Char(' ') + QString::fromStdString(r->name);
    } catch (const std::exception&) {
    }
  }
  plot_->setLiveRun(run_id, run_label_);
  status_->setText(tr("Run %1 training").arg(run_label_));
  if (session_) session_->notifyRunsChanged();  // refreshes our list and every other panel's
  Q_EMIT runStarted(run_id);
}

void TrainPanel::onSteps(const QVector<StepPoint>& points) {
  QVector<double> steps, losses;
  steps.reserve(points.size());
  losses.reserve(points.size());
  for (const auto& p : points) {
    steps.push_back(static_cast<double>(p.global_step));
    losses.push_back(p.loss);
  }
  plot_->addLossPoints(steps, losses);
}

void TrainPanel::onProgress(const ProgressInfo& p) {
  if (!training_) return;
  progress_->setValue(static_cast<int>(std::lround(1000.0 * std::clamp(p.fraction, 0.0, 1.0))));
  const QString text = tr("Epoch %1/%2 · step %3/%4 · ETA %5")
                           .arg(p.epoch)
                           .arg(p.epochs)
                           .arg(p.step)
                           .arg(p.steps_per_epoch)
                           .arg(formatDuration(p.eta_seconds));
  if (!stopping_) progress_->setFormat(QStringLiteral("%p% · ") + text);
  const int percent = static_cast<int>(std::floor(100.0 * std::clamp(p.fraction, 0.0, 1.0)));
  Q_EMIT backgroundProgress(percent, tr("Training %1: %2").arg(run_label_, text));
}

void TrainPanel::onEpoch(qint64, const EpochInfo& e) {
  plot_->addEpoch(e.epoch, e.val_map_raw, e.val_map_ema);
  QString text = tr("epoch %1: train loss %2").arg(e.epoch).arg(e.train_loss, 0, 'f', 4);
  if (std::isfinite(e.val_map)) text += tr(", val mAP %1").arg(e.val_map, 0, 'f', 2);
  if (std::isfinite(e.val_map_ema))
    text += tr(" (raw %1, EMA %2)").arg(e.val_map_raw, 0, 'f', 2).arg(e.val_map_ema, 0, 'f', 2);
  text += tr(", %1 s").arg(e.seconds, 0, 'f', 1);
  if (e.improved) text += QStringLiteral("  *");
  addMessage(static_cast<int>(MessageLevel::Info), text);
}

void TrainPanel::onMessage(int level, const QString& text) { addMessage(level, text); }

void TrainPanel::onRunFinished(qint64 run_id, const QString& worker_status, const QString& message) {
  plot_->flush();
  probe_->stop();
  training_ = false;
  stopping_ = false;
  if (run_id > 0) run_id_ = run_id;
  // The store's record is the truth (TrainingSession marks failures there); the worker's view is the fallback.
  QString status = worker_status;
  std::optional<double> best;
  if (run_id > 0 && session_ && session_->isOpen()) {
    try {
      if (const auto r = session_->store()->run(run_id)) {
        if (!r->status.empty()) status = QString::fromStdString(r->status);
        best = r->best_val_map;
      }
    } catch (const std::exception&) {
    }
  }
  last_status_ = status;
  const QString who = run_id > 0 ? tr("Run %1").arg(run_label_.isEmpty() ? QStringLiteral("#%1").arg(run_id) : run_label_)
                                 : tr("Training");
  if (status == QLatin1String("failed")) {
    addMessage(static_cast<int>(MessageLevel::Error), tr("%1 failed: %2").arg(who, message));
    progress_->setFormat(tr("Failed"));
    status_->setStyleSheet(QStringLiteral("color: #c82828;"));
    status_->setText(tr("%1 failed: %2").arg(who, message));
  } else {
    if (!message.isEmpty()) addMessage(static_cast<int>(MessageLevel::Warning), message);
    const QString best_text = best ? tr(", best val mAP %1").arg(*best, 0, 'f', 2) : QString();
    if (status == QLatin1String("cancelled")) {
      progress_->setFormat(tr("Stopped"));
      status_->setText(tr("%1 stopped%2").arg(who, best_text));
    } else {
      progress_->setValue(progress_->maximum());
      progress_->setFormat(tr("Finished"));
      status_->setText(tr("%1 finished%2").arg(who, best_text));
    }
    status_->setStyleSheet(QString());
    addMessage(static_cast<int>(MessageLevel::Info), status_->text());
  }
  updateButtons();
  if (session_) session_->notifyRunsChanged();
  Q_EMIT backgroundProgress(-1, QString());
  Q_EMIT runFinished(run_id, status);
}

void TrainPanel::onOverlayToggled(qint64 run_id, bool checked) {
  if (!checked) {
    plot_->removeOverlay(run_id);
    return;
  }
  if (!session_ || !session_->isOpen()) return;
  try {
    const auto r = session_->store()->run(run_id);
    const QString label = QStringLiteral("#%1 %2").arg(run_id).arg(r ? QString::fromStdString(r->name) : QString());
    plot_->setOverlay(run_id, label, loadRunCurves(*session_->store(), run_id));
  } catch (const std::exception& e) {
    addMessage(static_cast<int>(MessageLevel::Warning),
               tr("Could not load the curves of run %1: %2").arg(run_id).arg(QString::fromUtf8(e.what())));
  }
}

void TrainPanel::addMessage(int level, const QString& text) {
  const auto lvl = static_cast<MessageLevel>(level);
  const QString time = QTime::currentTime().toString(QStringLiteral("HH:mm:ss"));
  QString prefix, color;
  if (lvl == MessageLevel::Error) {
    prefix = tr("error: ");
    color = QStringLiteral("#c82828");
  } else if (lvl == MessageLevel::Warning) {
    prefix = tr("warning: ");
    color = QStringLiteral("#b06a00");
  }
  const QString body = (prefix + text).toHtmlEscaped().replace(QLatin1Char('\n'), QStringLiteral("<br>"));
  const QString line = QStringLiteral("<span style=\"color:#888\">%1</span> ").arg(time) +
                       (color.isEmpty() ? body : QStringLiteral("<span style=\"color:%1\">%2</span>").arg(color, body));
  messages_->appendHtml(line);
  if (lvl != MessageLevel::Info) bottom_tabs_->setCurrentWidget(messages_);
}

void TrainPanel::updateButtons() {
  const bool open = session_ && session_->isOpen();
  start_->setEnabled(open && !training_);
  stop_->setEnabled(training_ && !stopping_);
  form_->setEnabled(!training_);
}

}  // namespace mls
