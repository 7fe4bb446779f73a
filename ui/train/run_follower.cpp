#include "train/run_follower.h"

#include <QThread>

#include "data/store/project_store.h"

namespace mls {

// Owns the follower's store connection; every call runs on the follower's thread.
class RunFollower::Reader : public QObject {
 public:
  FollowUpdate poll(const QString& project, QHash<qint64, qint64>& cursors) {
    FollowUpdate u;
    u.project = project;
    try {
      if (!store_ || store_->path() != project.toStdString())
        store_ = std::make_unique<ProjectStore>(project.toStdString(), ProjectStore::Open::Existing);
      u.runs = store_->runs();
      QHash<qint64, qint64> next;
      for (const auto& r : u.runs) {
        // A run that stopped since the previous poll is read once more: its last rows land after the status.
        const bool was = cursors.contains(r.id);
        if (r.status != RunStatus::Running && !was) continue;
        auto& rows = u.metrics[r.id];
        qint64 seq = cursors.value(r.id, 0);
        for (auto& [s, m] : store_->runMetricsAfter(r.id, seq)) {
          seq = s;
          rows.push_back(std::move(m));
        }
        if (r.status == RunStatus::Running) next.insert(r.id, seq);
      }
      cursors = next;
    } catch (const std::exception& e) {
      store_.reset();  // reopened at the next poll (the file may be back by then)
      u.error = QString::fromUtf8(e.what());
    }
    return u;
  }

 private:
  std::unique_ptr<ProjectStore> store_;
};

RunFollower::RunFollower(QObject* parent) : QObject(parent), thread_(new QThread(this)), reader_(new Reader) {
  thread_->setObjectName(QStringLiteral("mls-run-follower"));
  reader_->moveToThread(thread_);
  connect(thread_, &QThread::finished, reader_, &QObject::deleteLater);
  thread_->start();
  timer_.setInterval(kDefaultIntervalMs);
  connect(&timer_, &QTimer::timeout, this, &RunFollower::pollNow);
}

RunFollower::~RunFollower() {
  thread_->quit();
  thread_->wait();
}

void RunFollower::setProject(const QString& path) {
  project_ = path;
  cursors_.clear();
  ++generation_;
  in_flight_ = false;  // a poll of the previous project is ignored when it returns
  updateTimer();
  if (active_) pollNow();
}

void RunFollower::setInterval(int ms) { timer_.setInterval(ms); }

void RunFollower::setActive(bool active) {
  active_ = active;
  updateTimer();
  if (active_) pollNow();
}

void RunFollower::setKeepPolling(bool keep) {
  keep_polling_ = keep;
  updateTimer();
}

void RunFollower::updateTimer() {
  const bool want = !project_.isEmpty() && (active_ || keep_polling_ || !cursors_.isEmpty());
  if (want && !timer_.isActive()) timer_.start();
  if (!want) timer_.stop();
}

void RunFollower::pollNow() {
  if (project_.isEmpty() || in_flight_) return;
  in_flight_ = true;
  const quint64 generation = generation_;
  QMetaObject::invokeMethod(
      reader_,
      [this, reader = reader_, project = project_, before = cursors_, generation] {
        QHash<qint64, qint64> cursors = before;
        FollowUpdate u = reader->poll(project, cursors);
        // Back on the GUI thread; dropped by Qt if the follower is gone by then.
        QMetaObject::invokeMethod(this, [this, u = std::move(u), generation, cursors] { onPolled(u, generation, cursors); },
                                  Qt::QueuedConnection);
      },
      Qt::QueuedConnection);
}

void RunFollower::onPolled(const FollowUpdate& update, quint64 generation, const QHash<qint64, qint64>& cursors) {
  if (generation != generation_) return;  // of a project no longer followed
  in_flight_ = false;
  if (update.error.isEmpty()) cursors_ = cursors;
  updateTimer();
  Q_EMIT updated(update);
}

}  // namespace mls
