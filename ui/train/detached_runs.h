// Runs of a project that is no longer open, left training in the background on their own worker thread
// (each TrainingSession has its own store connection to its project) or in mlstudio-cli child processes.
// Nothing of theirs is drawn; when one ends, finished() says which run of which project and how, and its
// thread and worker, or its process, are cleaned up.
#pragma once
#include <QObject>
#include <QString>
#include <vector>

class QThread;

namespace mls {

class ProcessRun;
class TrainingWorker;

class DetachedRuns : public QObject {
  Q_OBJECT
 public:
  explicit DetachedRuns(QObject* parent = nullptr);
  ~DetachedRuns() override;  // cancels and joins what still trains (the window is closing)

  // Takes over thread and worker (a run in progress; the caller has disconnected from the worker).
  void adopt(QThread* thread, TrainingWorker* worker, const QString& project_name, qint64 run_id);
  // Takes over a run in child processes (the caller has disconnected from it).
  void adopt(ProcessRun* run, const QString& project_name);
  int count() const { return static_cast<int>(runs_.size() + processes_.size()); }
  // Asks every background run to stop after its current batch and waits until all have returned.
  void cancelAndWait();

 Q_SIGNALS:
  void finished(qint64 run_id, const QString& project_name, const QString& status, const QString& message);

 private:
  struct Entry {
    QThread* thread;
    TrainingWorker* worker;
    QString project;
    qint64 run_id;
  };
  void retire(TrainingWorker* worker);

  std::vector<Entry> runs_;
  std::vector<ProcessRun*> processes_;  // children of this object until they end
};

}  // namespace mls
