// List model over a project's images for the thumbnail browser. Rows arrive in batches (fetchMore) so a
// 100k-image project opens at once; thumbnails are decoded on a thread pool into a bounded LRU cache.
#pragma once
#include <QAbstractListModel>
#include <QCache>
#include <QHash>
#include <QImage>
#include <QPixmap>
#include <QSet>
#include <QThreadPool>
#include <memory>
#include <vector>

#include "data/store/project_types.h"

namespace mls {
class ProjectStore;

class ThumbnailModel : public QAbstractListModel {
  Q_OBJECT
 public:
  enum Roles { ImageIdRole = Qt::UserRole + 1 };

  explicit ThumbnailModel(QObject* parent = nullptr);
  ~ThumbnailModel() override;

  // The model reads through its own connection to the project file (GUI thread only).
  void setProject(const QString& project_path);
  void setFilter(const ImageFilter& filter);
  int totalCount() const { return total_; }
  int64_t imageIdAt(int row) const;
  int rowOfImage(int64_t image_id) const;  // -1 if not loaded yet

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  bool canFetchMore(const QModelIndex& parent) const override;
  void fetchMore(const QModelIndex& parent) override;

  static constexpr int kBatch = 512;
  static constexpr int kMaxPending = 256;  // queued thumbnail decodes

 private:
  void reload();
  void requestThumbnail(int row) const;
  Q_INVOKABLE void thumbnailReady(qint64 image_id, const QImage& image);

  std::unique_ptr<ProjectStore> store_;
  ImageFilter filter_;
  std::vector<ImageRecord> rows_;
  std::vector<QString> paths_;
  QHash<qint64, int> row_of_;
  int total_ = 0;
  bool in_reset_ = false;
  bool fetching_ = false;
  const int thumb_px_ = 96;
  mutable QCache<qint64, QPixmap> cache_;  // cost = 1 per thumbnail
  mutable QPixmap placeholder_;            // shown until a thumbnail is decoded
  mutable QSet<qint64> pending_;
  mutable QThreadPool pool_;
  std::shared_ptr<int> generation_;        // invalidates decodes that finish after a reload
};

}  // namespace mls
