// Computes runs' per-class evaluations (evaluateRun) on a worker thread, each job with its own project
// connection, and keeps the results by run. A result is reused while the run's finish time is unchanged
// (its stored scores are written once, when it finishes or is resumed and finishes again).
#pragma once
#include <QHash>
#include <QObject>
#include <QSet>
#include <QString>
#include <memory>

#include "data/eval/run_evaluation.h"

class QThreadPool;

namespace mls {

class RunEvaluator : public QObject {
  Q_OBJECT
 public:
  explicit RunEvaluator(QObject* parent = nullptr);
  ~RunEvaluator() override;

  void setProject(const QString& path);  // clears every result; jobs still running are ignored on arrival
  // The finished result, or nullptr (then one job is started unless already running, and `evaluated` or
  // `failed` follows). finished_at identifies the run's stored scores.
  std::shared_ptr<const RunEvaluation> request(qint64 run_id, qint64 finished_at);
  QString errorFor(qint64 run_id) const { return errors_.value(run_id); }
  bool busy() const { return !pending_.isEmpty(); }
  void forget(qint64 run_id);
  void waitForDone();  // tests and shutdown

 Q_SIGNALS:
  void evaluated(qint64 run_id);
  void failed(qint64 run_id, const QString& message);

 private:
  struct Entry {
    qint64 finished_at = 0;
    std::shared_ptr<const RunEvaluation> result;
  };
  QString path_;
  int generation_ = 0;  // bumped by setProject: results of older projects are dropped
  QHash<qint64, Entry> results_;
  QHash<qint64, QString> errors_;
  QHash<qint64, qint64> pending_;  // run -> finished_at being computed
  std::unique_ptr<QThreadPool> pool_;
};

}  // namespace mls
