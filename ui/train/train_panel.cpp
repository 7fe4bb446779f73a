#include "train/train_panel.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QEventLoop>
#include <QFileInfo>
#include <QTimer>
#include <QToolButton>
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
#include <utility>

#include "data/store/project_store.h"
#include "data/training/train_arguments.h"
#include "project_session.h"
#include "train/curve_plot.h"
#include "train/detached_runs.h"
#include "train/run_follower.h"
#include "train/run_curves.h"
#include "train/runs_model.h"
#include "train/memory_plan_bar.h"
#include "train/oom_resume.h"
#include "train/process_run.h"
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
  form_scroll_ = form_scroll;

  // The settings fold away so the curves get the room while training; the button says what is chosen.
  settings_button_ = new QToolButton;
  settings_button_->setText(tr("Settings"));
  settings_button_->setCheckable(true);
  settings_button_->setChecked(true);
  settings_button_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
  settings_button_->setArrowType(Qt::DownArrow);
  settings_button_->setToolTip(tr("Show or hide the training settings"));
  start_ = new QPushButton(tr("Start"));
  stop_ = new QPushButton(tr("Stop"));
  stop_->setToolTip(tr("Stop after the current batch; the run is kept as cancelled"));
  auto* buttons = new QHBoxLayout;
  buttons->addWidget(settings_button_);
  buttons->addStretch(1);
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
  status_->hide();  // shown while it has something to say
  oom_resume_ = new OomResume(this);
  connect(oom_resume_, &OomResume::resumeRequested, this, [this] { resumeWithFittingConfiguration(); });

  plot_ = new CurvePlot;
  runs_model_ = new RunsModel(this);
  runs_view_ = new QTreeView;
  runs_view_->setModel(runs_model_);
  runs_view_->setRootIsDecorated(false);
  runs_view_->setUniformRowHeights(true);
  runs_view_->setAlternatingRowColors(true);
  runs_view_->setToolTip(tr("Tick runs to draw their curves; double-click makes a run current for Inspect"));
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
  // One column: a dock is narrow, and the plots are what is watched.
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(form_scroll);
  split->addWidget(plot_);
  split->addWidget(bottom_tabs_);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 5);
  split->setStretchFactor(2, 1);
  split->setChildrenCollapsible(false);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(buttons);
  layout->addWidget(progress_);
  layout->addWidget(status_);
  layout->addWidget(oom_resume_->button(), 0, Qt::AlignLeft);
  layout->addWidget(split, 1);

  detached_ = new DetachedRuns(this);
  connect(detached_, &DetachedRuns::finished, this,
          [this](qint64 run_id, const QString& project, const QString& status, const QString& message) {
            const QString text = run_id > 0 ? tr("Run %1 of %2 %3").arg(run_id).arg(project, status)
                                            : tr("Training on %1 did not start: %2").arg(project, message);
            addMessage(static_cast<int>(status == QLatin1String(runStatusName(RunStatus::Failed)) ? MessageLevel::Warning : MessageLevel::Info),
                       message.isEmpty() || run_id <= 0 ? text : text + QStringLiteral(": ") + message);
            Q_EMIT statusMessage(text);
          });
  createWorker();

  follower_ = new RunFollower(this);
  connect(follower_, &RunFollower::updated, this, &TrainPanel::onFollowUpdate);

  connect(settings_button_, &QToolButton::toggled, this, &TrainPanel::setSettingsVisible);
  connect(start_, &QPushButton::clicked, this, [this] { start(); });
  connect(form_, &TrainForm::changed, this, &TrainPanel::updateButtons);  // batch vs processes
  connect(stop_, &QPushButton::clicked, this, &TrainPanel::stop);
  connect(runs_model_, &RunsModel::checkedChanged, this, [this](qint64 run_id, bool checked) {
    if (checked)
      user_unticked_.remove(run_id);
    else
      user_unticked_.insert(run_id);
    syncOverlays();
  });
  connect(runs_view_, &QTreeView::activated, this, [this](const QModelIndex& index) {
    if (session_) session_->setCurrentRun(runs_model_->data(index, RunsModel::RunIdRole).toLongLong());
  });
  if (session_) {
    connect(session_, &ProjectSession::projectOpened, this, &TrainPanel::resetForProject);
    connect(session_, &ProjectSession::runsChanged, this, &TrainPanel::refreshRuns);
    connect(session_, &ProjectSession::annotationChanged, form_, &TrainForm::noteSinglePositive);
    // Show the current run's curves while nothing else is drawn (e.g. right after opening a project).
    connect(session_, &ProjectSession::currentRunChanged, this, [this](qint64 run_id) {
      if (run_id >= 0 && !training_ && runs_model_->checkedRuns().isEmpty()) runs_model_->setChecked(run_id, true);
    });
    if (session_->isOpen()) follower_->setProject(session_->path());
  }
  refreshRuns();
  updateButtons();
}

TrainPanel::~TrainPanel() {
  shutdown();
  delete worker_;
}

void TrainPanel::createWorker() {
  thread_ = new QThread(this);
  thread_->setObjectName(QStringLiteral("mls-training"));
  auto* w = new TrainingWorker;  // no parent: it moves to thread_ and is deleted after the thread stops
  worker_ = w;
  w->moveToThread(thread_);
  // Each handler checks that the worker is still ours: signals queued before detachRun() are dropped.
  connect(w, &TrainingWorker::runIdKnown, this, [this, w](qint64 id) { if (w == worker_) onRunIdKnown(id); });
  connect(w, &TrainingWorker::stepsReady, this, [this, w](const QVector<StepPoint>& p) { if (w == worker_) onSteps(p); });
  connect(w, &TrainingWorker::progress, this, [this, w](const ProgressInfo& p) { if (w == worker_) onProgress(p); });
  connect(w, &TrainingWorker::epochFinished, this,
          [this, w](qint64 id, const EpochInfo& e) { if (w == worker_) onEpoch(id, e); });
  connect(w, &TrainingWorker::message, this, [this, w](int level, const QString& t) { if (w == worker_) onMessage(level, t); });
  connect(w, &TrainingWorker::runFinished, this, [this, w](qint64 id, const QString& status, const QString& text) {
    if (w == worker_) onRunFinished(id, status, text);
  });
  thread_->start();
}

void TrainPanel::shutdown() {
  if (process_) {
    // The window is closing: the run's end is recorded in the project, and nothing is drawn or announced.
    ProcessRun* p = std::exchange(process_, nullptr);
    p->blockSignals(true);
    p->stopAndWait();
    delete p;
  }
  if (training_) worker_->cancel();
  thread_->quit();  // processed once a running train() has returned
  thread_->wait();
  detached_->cancelAndWait();
}

bool TrainPanel::stopAndWait(int timeout_ms) {
  if (!training_) return true;
  stop();
  QDeadlineTimer deadline(timeout_ms);
  QEventLoop loop;
  QTimer check;
  check.setInterval(20);
  connect(&check, &QTimer::timeout, &loop, [&] {
    if (!training_ || deadline.hasExpired()) loop.quit();
  });
  check.start();
  loop.exec(QEventLoop::ExcludeUserInputEvents);  // the queued end-of-run signals must be delivered
  return !training_;
}

bool TrainPanel::detachRun() {
  if (!training_) return false;
  if (process_) {
    detached_->adopt(process_, QFileInfo(run_project_).completeBaseName());
    process_ = nullptr;  // whatever it still sends is no longer drawn here
    follower_->setKeepPolling(false);
  } else {
    thread_->setParent(nullptr);
    detached_->adopt(thread_, worker_, QFileInfo(run_project_).completeBaseName(), run_id_);
    createWorker();  // worker_ changes: whatever the old one still sends is no longer drawn here
  }
  training_ = false;
  stopping_ = false;
  Q_EMIT statusMessage(tr("Run %1 of %2 keeps training in the background")
                          .arg(run_id_ > 0 ? QString::number(run_id_) : tr("(starting)"),
                               QFileInfo(run_project_).completeBaseName()));
  run_id_ = -1;
  updateButtons();
  Q_EMIT backgroundProgress(-1, QString());
  return true;
}

void TrainPanel::setStatus(const QString& text, bool error) {
  status_->setText(text);
  status_->setStyleSheet(error ? QStringLiteral("color: #c82828;") : QString());
  status_->setVisible(!text.isEmpty());
}

int TrainPanel::backgroundRuns() const { return detached_->count(); }

QPushButton* TrainPanel::resumeFitButton() const { return oom_resume_->button(); }

QString TrainPanel::statusText() const { return status_->text(); }

void TrainPanel::resetForProject() {
  // Nothing of the previous project may stay: a run of it goes on in the background, unseen here.
  if (training_) detachRun();
  plot_->reset();
  if (session_ && session_->isOpen()) plot_->setExportDir(QFileInfo(session_->path()).absolutePath());
  followed_.clear();
  user_unticked_.clear();
  runs_model_->setRuns({});  // run ids of another project must not stay ticked
  run_id_ = -1;
  run_label_.clear();
  last_status_.clear();
  progress_->setValue(0);
  progress_->setFormat(tr("Idle"));
  setStatus(QString());
  messages_->clear();
  if (detached_->count() > 0)
    addMessage(static_cast<int>(MessageLevel::Info),
               tr("%n run(s) of an earlier project still train in the background; the end is reported here.", "",
                  detached_->count()));
  ProjectCounts counts;
  counts.labels = counts.single_positives = 1;  // no project: nothing to grey
  if (session_ && session_->isOpen()) {
    try {
      counts = session_->store()->counts();
    } catch (const std::exception&) {
    }
  }
  form_->resetForProject(counts.labels > 0, counts.single_positives > 0);
  if (counts.categories > 0) form_->memoryPlanBar()->setDataset(static_cast<int>(counts.categories), counts.train);
  follower_->setProject(session_ && session_->isOpen() ? session_->path() : QString());
  refreshRuns();
  updateButtons();
}

void TrainPanel::setSettingsVisible(bool visible) {
  form_scroll_->setVisible(visible);
  settings_button_->setArrowType(visible ? Qt::DownArrow : Qt::RightArrow);
  if (settings_button_->isChecked() != visible) {
    const QSignalBlocker block(settings_button_);
    settings_button_->setChecked(visible);
  }
}

void TrainPanel::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  follower_->setActive(true);
}

void TrainPanel::hideEvent(QHideEvent* event) {
  QWidget::hideEvent(event);
  follower_->setActive(false);  // still polls while a followed run is running
}

bool TrainPanel::start() { return startWith(form_->request()); }

bool TrainPanel::resumeWithFittingConfiguration(qint64 budget_bytes) {
  if (training_ || oom_resume_->run() <= 0 || !session_ || !session_->isOpen()) return false;
  QString error;
  const auto fitted = oom_resume_->fittedRequest(*session_->store(), form_->request().device, budget_bytes, &error);
  if (!fitted) {
    addMessage(static_cast<int>(MessageLevel::Error), tr("Cannot resume with a configuration that fits: %1").arg(error));
    return false;
  }
  addMessage(static_cast<int>(MessageLevel::Info), oom_resume_->describe(*fitted));
  oom_resume_->clear();
  return startWith(*fitted);
}

QString TrainPanel::cliProgram() const {
  return cli_program_.isEmpty() ? ProcessRun::defaultProgram() : cli_program_;
}

bool TrainPanel::startWith(const TrainRequest& request, int processes) {
  if (training_) return false;
  if (processes < 0) processes = form_->processes();
  oom_resume_->clear();  // a new start leaves the out-of-memory offer behind
  if (!session_ || !session_->isOpen()) {
    refuseStart(tr("open a project first"));
    return false;
  }
  TrainRequest r = request;
  r.project = session_->path().toStdString();
  TrainRequest check = r;  // the session resolves again; this only catches bad values before a run exists
  try {
    check.resolveDefaults();
    if (check.resume.empty()) check.checkLossChoice();
  } catch (const std::exception& e) {
    refuseStart(QString::fromUtf8(e.what()));
    return false;
  }
  if (processes > 1 && check.batch % processes != 0) {
    refuseStart(tr("batch %1 does not split evenly over %2 processes").arg(check.batch).arg(processes));
    return false;
  }
  training_ = true;
  stopping_ = false;
  run_id_ = -1;
  run_project_ = session_->path();
  newest_run_at_start_ = 0;
  for (int row = 0; row < runs_model_->rowCount(); ++row)
    newest_run_at_start_ = std::max<qint64>(newest_run_at_start_, runs_model_->runAt(row)->id);
  run_label_.clear();
  last_status_.clear();
  plot_->startLive(-1, QString());
  plot_->setLiveVisible(true);
  // LinearInit epochs come first and are counted on (TrainingWorker continues the numbering).
  plot_->setPlannedEpochs(check.epochs + (check.method == Method::MLSPL ? check.linear_init : 0));
  syncOverlays();  // the previous live run, if ticked, is now drawn as an overlay
  setSettingsVisible(false);
  progress_->setValue(0);
  progress_->setFormat(tr("Starting…"));
  setStatus(tr("Preparing data and model…"));
  addMessage(static_cast<int>(MessageLevel::Info),
             tr("Starting %1 / %2 / %3 labels / %4")
                 .arg(QString::fromLatin1(methodName(r.method)), QString::fromStdString(r.loss),
                      QString::fromStdString(r.labels), QString::fromStdString(r.backbone)));
  updateButtons();
  if (processes > 1) {
    startProcessRun(r, processes);
  } else {
    if (!thread_->isRunning()) thread_->start();
    QMetaObject::invokeMethod(worker_, [w = worker_, r] { w->train(r); }, Qt::QueuedConnection);
  }
  Q_EMIT backgroundProgress(0, tr("Training: starting"));
  return true;
}

void TrainPanel::startProcessRun(const TrainRequest& request, int processes) {
  const QStringList args = ProcessRun::launchArguments(request, processes);
  const QString program = cliProgram();
  std::vector<std::string> command{QFileInfo(program).fileName().toStdString()};
  for (const auto& a : args) command.push_back(a.toStdString());
  addMessage(static_cast<int>(MessageLevel::Info),
             tr("%n processes: %1", "", processes).arg(QString::fromStdString(shellCommand(command))));
  auto* p = new ProcessRun(this);
  process_ = p;
  process_curves_.reset();
  // Each handler checks that the run is still ours: a detached one no longer draws here.
  connect(p, &ProcessRun::progress, this, [this, p](const ProgressInfo& info) { if (p == process_) onProgress(info); });
  connect(p, &ProcessRun::message, this, [this, p](int level, const QString& t) { if (p == process_) onMessage(level, t); });
  connect(p, &ProcessRun::runFinished, this, [this, p](qint64 id, const QString& status, const QString& text) {
    if (p != process_) return;
    process_ = nullptr;
    p->deleteLater();
    follower_->setKeepPolling(false);
    if (id > 0 && run_id_ <= 0) onRunIdKnown(id);
    if (id > 0 && session_ && session_->isOpen()) {
      try {  // the rows recorded since the follower's last poll
        process_curves_.replace(loadRunCurves(*session_->store(), id));
        process_curves_.drawNew(*plot_);
      } catch (const std::exception&) {
      }
    }
    onRunFinished(id, status, text);
  });
  p->start(program, args, run_project_, newest_run_at_start_);
  follower_->setKeepPolling(true);  // drawn from the project, also while the tab is hidden
  follower_->pollNow();
}

void TrainPanel::refuseStart(const QString& reason) {
  // No run exists: nothing may speak of a run id ("Run 0 failed"); the reason is what the user needs.
  const QString text = tr("Training did not start: %1").arg(reason);
  addMessage(static_cast<int>(MessageLevel::Error), text);
  setStatus(text, true);
  Q_EMIT statusMessage(text);
}

void TrainPanel::stop() {
  if (!training_ || stopping_) return;
  stopping_ = true;
  if (process_)
    process_->stop();  // SIGINT to the launcher: every rank stops after its step; again if it takes too long
  else
    worker_->cancel();
  addMessage(static_cast<int>(MessageLevel::Info), tr("Stopping after the current batch…"));
  progress_->setFormat(tr("Stopping…"));
  updateButtons();
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
  setStatus(tr("Run %1 training").arg(run_label_));
  if (session_) session_->notifyRunsChanged();  // refreshes our list and every other panel's
  followed_.remove(run_id);  // if the follower saw it before we knew it was ours
  runs_model_->setChecked(run_id, true);  // drawn live, so ticked
  syncOverlays();
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
  training_ = false;
  stopping_ = false;
  if (run_id <= 0) {
    // Refused before a run existed (e.g. no single positives yet): say why, claim no run.
    last_status_ = worker_status;
    progress_->setFormat(tr("Not started"));
    refuseStart(message);
    updateButtons();
    Q_EMIT backgroundProgress(-1, QString());
    return;
  }
  run_id_ = run_id;
  // The store's record is the truth (TrainingSession marks failures there); the worker's view is the fallback.
  QString status = worker_status;
  std::optional<double> best;
  if (run_id > 0 && session_ && session_->isOpen()) {
    try {
      if (const auto r = session_->store()->run(run_id)) {
        status = QString::fromLatin1(runStatusName(r->status));
        best = r->best_val_map;
      }
    } catch (const std::exception&) {
    }
  }
  last_status_ = status;
  const QString who = tr("Run %1").arg(run_label_.isEmpty() ? QStringLiteral("#%1").arg(run_id) : run_label_);
  if (status == QLatin1String(runStatusName(RunStatus::Failed))) {
    addMessage(static_cast<int>(MessageLevel::Error), tr("%1 failed: %2").arg(who, message));
    oom_resume_->noteFailure(run_id, message);
    progress_->setFormat(tr("Failed"));
    setStatus(tr("%1 failed: %2").arg(who, message), true);
  } else {
    if (!message.isEmpty()) addMessage(static_cast<int>(MessageLevel::Warning), message);
    const QString best_text = best ? tr(", best val mAP %1").arg(*best, 0, 'f', 2) : QString();
    if (status == QLatin1String(runStatusName(RunStatus::Cancelled))) {
      progress_->setFormat(tr("Stopped"));
      setStatus(tr("%1 stopped%2").arg(who, best_text));
    } else {
      progress_->setValue(progress_->maximum());
      progress_->setFormat(tr("Finished"));
      setStatus(tr("%1 finished%2").arg(who, best_text));
    }
    addMessage(static_cast<int>(MessageLevel::Info), status_->text());
  }
  updateButtons();
  if (session_) session_->notifyRunsChanged();
  Q_EMIT backgroundProgress(-1, QString());
  Q_EMIT statusMessage(status_->text());
  Q_EMIT runFinished(run_id, status);
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
  // The Start button says why the processes cannot take this batch.
  const QString problem = form_->processesProblem();
  start_->setEnabled(open && !training_ && problem.isEmpty());
  start_->setToolTip(problem.isEmpty() ? tr("Train with these settings on the open project") : problem);
  stop_->setEnabled(training_ && !stopping_);
  form_->setEnabled(!training_);
}

}  // namespace mls
