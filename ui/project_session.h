// The open project as the GUI sees it: one GUI-thread store connection, the current image and run, and
// signals the panels listen to. Panels never open their own GUI-thread connection; worker threads do.
#pragma once
#include <QObject>
#include <QString>
#include <memory>
#include <vector>

#include "data/store/project_types.h"

namespace mls {
class ProjectStore;

class ProjectSession : public QObject {
  Q_OBJECT
 public:
  explicit ProjectSession(QObject* parent = nullptr);
  ~ProjectSession() override;

  // Opens the project (closing the previous one). On failure returns false, sets *error and keeps the old one.
  bool open(const QString& path, QString* error = nullptr);
  bool isOpen() const { return store_ != nullptr; }
  QString path() const { return path_; }
  ProjectStore* store() const { return store_.get(); }  // GUI thread only
  const std::vector<Category>& categories() const { return categories_; }
  const Category* categoryByIdx(int idx) const;
  const Category* categoryById(int64_t id) const;

  qint64 currentImage() const { return current_image_; }  // -1 when none
  qint64 currentRun() const { return current_run_; }      // -1 when none

 public Q_SLOTS:
  void setCurrentImage(qint64 image_id);
  void setCurrentRun(qint64 run_id);
  // Panels that changed a single positive call this so the browser, counters and other panels refresh.
  void notifyAnnotationChanged(qint64 image_id);
  void notifyRunsChanged();

 Q_SIGNALS:
  void projectOpened();
  void currentImageChanged(qint64 image_id);
  void currentRunChanged(qint64 run_id);
  void annotationChanged(qint64 image_id);
  void runsChanged();

 private:
  std::unique_ptr<ProjectStore> store_;
  QString path_;
  std::vector<Category> categories_;
  qint64 current_image_ = -1;
  qint64 current_run_ = -1;
};

}  // namespace mls
