#include "runs/run_evaluator.h"

#include <QFutureWatcher>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include "data/store/project_store.h"

namespace mls {

namespace {
struct Outcome {
  std::shared_ptr<const RunEvaluation> evaluation;
  QString error;
};
}  // namespace

RunEvaluator::RunEvaluator(QObject* parent) : QObject(parent), pool_(std::make_unique<QThreadPool>()) {
  // One job at a time: a COCO-size val split is ~10^6 scores per run, and the GUI shares two cores.
  pool_->setMaxThreadCount(1);
}

RunEvaluator::~RunEvaluator() { waitForDone(); }

void RunEvaluator::setProject(const QString& path) {
  path_ = path;
  ++generation_;
  results_.clear();
  errors_.clear();
  pending_.clear();
}

void RunEvaluator::forget(qint64 run_id) {
  results_.remove(run_id);
  errors_.remove(run_id);
}

void RunEvaluator::waitForDone() { pool_->waitForDone(); }

std::shared_ptr<const RunEvaluation> RunEvaluator::request(qint64 run_id, qint64 finished_at) {
  if (auto it = results_.constFind(run_id); it != results_.constEnd() && it->finished_at == finished_at) return it->result;
  if (pending_.value(run_id, -1) == finished_at || path_.isEmpty()) return nullptr;
  pending_[run_id] = finished_at;
  errors_.remove(run_id);
  auto* watcher = new QFutureWatcher<Outcome>(this);
  const int generation = generation_;
  connect(watcher, &QFutureWatcher<Outcome>::finished, this, [this, watcher, run_id, finished_at, generation] {
    watcher->deleteLater();
    const Outcome out = watcher->result();
    if (generation != generation_ || pending_.value(run_id, -1) != finished_at) return;  // superseded
    pending_.remove(run_id);
    if (!out.evaluation) {
      errors_[run_id] = out.error;
      Q_EMIT failed(run_id, out.error);
      return;
    }
    results_[run_id] = Entry{finished_at, out.evaluation};
    Q_EMIT evaluated(run_id);
  });
  const std::string path = path_.toStdString();
  watcher->setFuture(QtConcurrent::run(pool_.get(), [path, run_id]() -> Outcome {
    try {
      ProjectStore store(path, ProjectStore::Open::Existing);
      return {std::make_shared<const RunEvaluation>(evaluateRun(store, run_id, Split::Val)), {}};
    } catch (const std::exception& e) {
      return {nullptr, QString::fromUtf8(e.what())};
    }
  }));
  return nullptr;
}

}  // namespace mls
