// Follows runs that another process writes into the open project (mlstudio-cli train, or another machine on
// a shared file). Every ~1.5 s a reader on its own thread, with its own store connection, reads the run list
// and the metrics stored since the previous poll for each running run; the GUI thread never waits on SQLite
// for it. Polls only while active (the Train tab shown), while a run it follows is still running, or while
// told to keep polling.
#pragma once
#include <QHash>
#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>
#include <vector>

#include "data/store/project_types.h"

class QThread;

namespace mls {

struct FollowUpdate {
  QString project;
  std::vector<RunRecord> runs;
  QHash<qint64, std::vector<RunMetric>> metrics;  // new rows of each run running now or at the previous poll
  QString error;
};

class RunFollower : public QObject {
  Q_OBJECT
 public:
  static constexpr int kDefaultIntervalMs = 1500;
  explicit RunFollower(QObject* parent = nullptr);
  ~RunFollower() override;  // joins the reader thread

  // Follows this project from scratch (empty: none): earlier cursors and any poll in flight are dropped.
  void setProject(const QString& path);
  void setInterval(int ms);
  void setActive(bool active);
  // Polls also while inactive (a run of this application trains in other processes and is drawn from here).
  void setKeepPolling(bool keep);
  bool isPolling() const { return timer_.isActive(); }
  // Starts a poll now unless one is in flight.
  void pollNow();

 Q_SIGNALS:
  void updated(const mls::FollowUpdate& update);

 private:
  class Reader;
  void onPolled(const FollowUpdate& update, quint64 generation, const QHash<qint64, qint64>& cursors);
  void updateTimer();

  QThread* thread_;
  Reader* reader_;  // lives on thread_
  QTimer timer_;
  QString project_;
  QHash<qint64, qint64> cursors_;  // run id -> last metric row seen, for runs running at the last poll
  quint64 generation_ = 0;
  bool in_flight_ = false;
  bool active_ = false;
  bool keep_polling_ = false;
};

}  // namespace mls
