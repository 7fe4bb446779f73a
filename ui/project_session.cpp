#include "project_session.h"


#include "data/store/project_store.h"

namespace mls {

ProjectSession::ProjectSession(QObject* parent) : QObject(parent) {}
ProjectSession::~ProjectSession() = default;

bool ProjectSession::open(const QString& path, QString* error) {
  try {
    auto store = std::make_unique<ProjectStore>(path.toStdString(), ProjectStore::Open::Existing);
    auto cats = store->categories();
    store_ = std::move(store);
    categories_ = std::move(cats);
    path_ = path;
  } catch (const std::exception& e) {
    if (error) *error = QString::fromUtf8(e.what());
    return false;
  }
  current_image_ = -1;
  current_run_ = -1;
  const auto runs = store_->runs();
  for (auto it = runs.rbegin(); it != runs.rend(); ++it)
    if (it->status == RunStatus::Finished) {
      current_run_ = it->id;
      break;
    }
  Q_EMIT projectOpened();
  Q_EMIT currentRunChanged(current_run_);
  return true;
}

const Category* ProjectSession::categoryByIdx(int idx) const {
  for (const auto& c : categories_)
    if (c.idx == idx) return &c;
  return nullptr;
}

const Category* ProjectSession::categoryById(int64_t id) const {
  for (const auto& c : categories_)
    if (c.id == id) return &c;
  return nullptr;
}

void ProjectSession::setCurrentImage(qint64 image_id) {
  if (image_id == current_image_) return;
  current_image_ = image_id;
  Q_EMIT currentImageChanged(image_id);
}

void ProjectSession::setCurrentRun(qint64 run_id) {
  if (run_id == current_run_) return;
  current_run_ = run_id;
  Q_EMIT currentRunChanged(run_id);
}

void ProjectSession::notifyAnnotationChanged(qint64 image_id) { Q_EMIT annotationChanged(image_id); }
void ProjectSession::notifyRunsChanged() { Q_EMIT runsChanged(); }

}  // namespace mls
