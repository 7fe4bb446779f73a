// TrainPanel's list of runs and the curves of runs other than its live one: the Runs table, ticked runs drawn
// as overlays, and runs another process writes into the project, followed live (RunFollower), including this
// panel's own run when it trains in child processes.
#include <QTreeView>

#include "data/store/project_store.h"
#include "project_session.h"
#include "train/curve_plot.h"
#include "train/process_run.h"
#include "train/run_curves.h"
#include "train/run_follower.h"
#include "train/runs_model.h"
#include "train/train_panel.h"

namespace mls {

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
  syncOverlays();  // a run that is gone is no longer drawn
}

void TrainPanel::syncOverlays() {
  const QList<qint64> checked = runs_model_->checkedRuns();
  const qint64 live = plot_->liveRunId();
  // Before the live run has an id (or a row) its curves are the run being started: always shown.
  plot_->setLiveVisible(live < 0 || runs_model_->rowOfRun(live) < 0 || checked.contains(live));
  for (qint64 id : plot_->overlayIds())
    if (id == live || !checked.contains(id)) plot_->removeOverlay(id);
  for (qint64 id : checked)
    if (id != live && !plot_->hasOverlay(id)) drawOverlay(id);
}

void TrainPanel::drawOverlay(qint64 run_id) {
  const int row = runs_model_->rowOfRun(run_id);
  const RunRecord* r = runs_model_->runAt(row);
  const QString label = QStringLiteral("#%1 %2").arg(run_id).arg(r ? QString::fromStdString(r->name) : QString());
  if (followed_.contains(run_id)) {  // read by the follower, off the GUI thread
    plot_->setOverlay(run_id, label, followed_.value(run_id));
    return;
  }
  if (!session_ || !session_->isOpen()) return;
  try {
    plot_->setOverlay(run_id, label, loadRunCurves(*session_->store(), run_id));
  } catch (const std::exception& e) {
    addMessage(static_cast<int>(MessageLevel::Warning),
               tr("Could not load the curves of run %1: %2").arg(run_id).arg(QString::fromUtf8(e.what())));
  }
}

bool TrainPanel::isOwnRun(qint64 run_id) const {
  // Until the worker names its run, a new run in the file is probably ours: not followed yet.
  return training_ && (run_id == run_id_ || (run_id_ < 0 && run_id > newest_run_at_start_));
}

void TrainPanel::onFollowUpdate(const FollowUpdate& u) {
  if (!session_ || !session_->isOpen() || u.project != session_->path() || !u.error.isEmpty()) return;
  // A run that appeared or changed status (a CLI run started or ended) concerns every panel (Inspect's run
  // choice, Annotate's suggestions); a better best mAP only our list, which takes the rows just read.
  bool changed = static_cast<int>(u.runs.size()) != runs_model_->rowCount();
  bool improved = false;
  for (const auto& r : u.runs) {
    const RunRecord* mine = runs_model_->runAt(runs_model_->rowOfRun(r.id));
    if (!mine || mine->status != r.status) changed = true;
    if (mine && mine->best_val_map != r.best_val_map) improved = true;
  }
  if (changed) {
    session_->notifyRunsChanged();  // ours via refreshRuns
  } else if (improved) {
    runs_model_->setRuns(u.runs);
    syncOverlays();
  }
  if (process_) {
    // Our run in child processes: the first run that appeared since the start, drawn live from its records.
    if (run_id_ <= 0) {
      qint64 first = 0;
      for (auto it = u.metrics.constBegin(); it != u.metrics.constEnd(); ++it)
        if (isOwnRun(it.key()) && (first == 0 || it.key() < first)) first = it.key();
      if (first > 0) {
        process_->setRunId(first);
        onRunIdKnown(first);
      }
    }
    if (run_id_ > 0 && u.metrics.contains(run_id_)) {
      for (const auto& m : u.metrics.value(run_id_)) process_curves_.append(m);
      process_curves_.drawNew(*plot_);
    }
  }
  for (auto it = u.metrics.constBegin(); it != u.metrics.constEnd(); ++it) {
    const qint64 id = it.key();
    if (isOwnRun(id) || id == plot_->liveRunId()) continue;  // drawn live by our own worker or process run
    const bool first = !followed_.contains(id);
    RunCurves& curves = followed_[id];
    for (const auto& m : it.value()) appendRunMetric(curves, m);
    // A run started elsewhere is drawn as it trains, unless the user has unticked it.
    if (first && !user_unticked_.contains(id))
      runs_model_->setChecked(id, true);  // -> syncOverlays draws it
    else if (runs_model_->checkedRuns().contains(id))
      drawOverlay(id);
  }
}

}  // namespace mls
