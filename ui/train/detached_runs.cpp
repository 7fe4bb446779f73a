#include "train/detached_runs.h"

#include <QThread>
#include <algorithm>

#include "train/process_run.h"
#include "train/training_worker.h"

namespace mls {

DetachedRuns::DetachedRuns(QObject* parent) : QObject(parent) {}

DetachedRuns::~DetachedRuns() {
  cancelAndWait();
  for (auto& e : runs_) {
    delete e.worker;
    delete e.thread;
  }
}

void DetachedRuns::adopt(QThread* thread, TrainingWorker* worker, const QString& project_name, qint64 run_id) {
  thread->setParent(this);
  runs_.push_back({thread, worker, project_name, run_id});
  // The run id may only become known now (a run detached while it was still preparing its data).
  connect(worker, &TrainingWorker::runIdKnown, this, [this, worker](qint64 id) {
    for (auto& e : runs_)
      if (e.worker == worker) e.run_id = id;
  });
  connect(worker, &TrainingWorker::runFinished, this,
          [this, worker](qint64 id, const QString& status, const QString& message) {
            QString project;
            for (const auto& e : runs_)
              if (e.worker == worker) {
                project = e.project;
                if (id <= 0) id = e.run_id;
              }
            retire(worker);
            Q_EMIT finished(id, project, status, message);
          });
}

void DetachedRuns::adopt(ProcessRun* run, const QString& project_name) {
  run->setParent(this);
  processes_.push_back(run);
  connect(run, &ProcessRun::runFinished, this, [this, run, project_name](qint64 id, const QString& status, const QString& message) {
    processes_.erase(std::remove(processes_.begin(), processes_.end(), run), processes_.end());
    run->deleteLater();
    Q_EMIT finished(id, project_name, status, message);
  });
}

void DetachedRuns::retire(TrainingWorker* worker) {
  for (auto it = runs_.begin(); it != runs_.end(); ++it) {
    if (it->worker != worker) continue;
    // train() has returned (runFinished is its last act): the thread stops at once.
    it->thread->quit();
    it->thread->wait();
    delete it->worker;
    delete it->thread;
    runs_.erase(it);
    return;
  }
}

void DetachedRuns::cancelAndWait() {
  for (auto& e : runs_) e.worker->cancel();
  // The window is closing: their ends are recorded in their projects, not announced.
  for (ProcessRun* run : processes_) run->stop();  // every launcher passes it on to its ranks at once
  for (ProcessRun* run : processes_) {
    run->blockSignals(true);
    run->stopAndWait();
    delete run;
  }
  processes_.clear();
  for (auto& e : runs_) {
    e.thread->quit();  // processed after train() returns
    e.thread->wait();
  }
}

}  // namespace mls
