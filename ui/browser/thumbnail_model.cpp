#include "browser/thumbnail_model.h"

#include <QImageReader>
#include <QPixmap>
#include <QRunnable>

#include "data/store/project_store.h"

namespace mls {

namespace {
QImage decodeThumbnail(const QString& path, int px) {
  QImageReader reader(path);
  const QSize full = reader.size();
  if (full.isValid()) reader.setScaledSize(full.scaled(px, px, Qt::KeepAspectRatio));  // JPEG decodes scaled
  QImage img = reader.read();
  if (img.isNull()) {
    img = QImage(px, px, QImage::Format_RGB32);
    img.fill(QColor(90, 30, 30));  // visible marker for missing / corrupt files
  }
  return img;
}
}  // namespace

ThumbnailModel::ThumbnailModel(QObject* parent) : QAbstractListModel(parent), cache_(2000) {
  pool_.setMaxThreadCount(std::max(1, QThread::idealThreadCount() - 1));
}

ThumbnailModel::~ThumbnailModel() {
  pool_.clear();
  pool_.waitForDone();
}

void ThumbnailModel::setProject(const QString& project_path) {
  store_ = std::make_unique<ProjectStore>(project_path.toStdString());
  cache_.clear();
  reload();
}

void ThumbnailModel::setFilter(const ImageFilter& filter) {
  filter_ = filter;
  reload();
}

void ThumbnailModel::reload() {
  beginResetModel();
  pool_.clear();
  generation_ = std::make_shared<int>(0);
  rows_.clear();
  paths_.clear();
  row_of_.clear();
  pending_.clear();  // thumbnails stay cached: they are keyed by image id, valid under any filter
  total_ = store_ ? static_cast<int>(store_->countImages(filter_)) : 0;
  // Rows arrive when a view (or the caller) asks via fetchMore, but not from inside the reset notification:
  // inserting rows while listeners are still handling modelReset confuses them (QAbstractItemModelTester).
  in_reset_ = true;
  endResetModel();
  in_reset_ = false;
}

int64_t ThumbnailModel::imageIdAt(int row) const {
  return row >= 0 && row < static_cast<int>(rows_.size()) ? rows_[static_cast<size_t>(row)].id : -1;
}

int ThumbnailModel::rowOfImage(int64_t image_id) const {
  return row_of_.value(image_id, -1);
}

int ThumbnailModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

bool ThumbnailModel::canFetchMore(const QModelIndex& parent) const {
  return !parent.isValid() && store_ && !in_reset_ && !fetching_ && static_cast<int>(rows_.size()) < total_;
}

void ThumbnailModel::fetchMore(const QModelIndex& parent) {
  if (!canFetchMore(parent)) return;
  auto batch = store_->images(filter_, static_cast<int64_t>(rows_.size()), kBatch);
  if (batch.empty()) {
    total_ = static_cast<int>(rows_.size());
    return;
  }
  // Listeners of the insert signals may ask for more rows again; one batch at a time keeps rows in order.
  fetching_ = true;
  const int first = static_cast<int>(rows_.size());
  beginInsertRows({}, first, first + static_cast<int>(batch.size()) - 1);
  for (auto& r : batch) {
    row_of_.insert(r.id, static_cast<int>(rows_.size()));
    paths_.push_back(QString::fromStdString(store_->imagePath(r)));
    rows_.push_back(std::move(r));
  }
  endInsertRows();
  fetching_ = false;
}

QVariant ThumbnailModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= static_cast<int>(rows_.size())) return {};
  const auto& r = rows_[static_cast<size_t>(index.row())];
  switch (role) {
    case Qt::DisplayRole: return QString::fromStdString(r.file_name);
    case Qt::ToolTipRole:
      return QStringLiteral("%1\nid %2 · %3%4")
          .arg(paths_[static_cast<size_t>(index.row())])
          .arg(r.id)
          .arg(splitName(r.split))
          .arg(r.missing ? " · file missing" : "");
    case Qt::DecorationRole: {
      if (const QPixmap* pixmap = cache_.object(r.id)) return *pixmap;
      requestThumbnail(index.row());
      if (placeholder_.isNull()) {
        placeholder_ = QPixmap(thumb_px_, thumb_px_);
        placeholder_.fill(QColor(60, 60, 60));
      }
      return placeholder_;
    }
    case ImageIdRole: return QVariant::fromValue<qint64>(r.id);
    default: return {};
  }
}

void ThumbnailModel::requestThumbnail(int row) const {
  const qint64 id = rows_[static_cast<size_t>(row)].id;
  if (pending_.contains(id)) return;
  // Fast scrolling requests thumbnails of rows that are long gone; drop the not-yet-started ones so work
  // and memory stay bounded (rows still on screen ask again on their next paint).
  if (pending_.size() > kMaxPending) {
    pool_.clear();
    pending_.clear();
  }
  pending_.insert(id);
  const QString path = paths_[static_cast<size_t>(row)];
  const int px = thumb_px_;
  std::weak_ptr<int> generation = generation_;
  auto* self = const_cast<ThumbnailModel*>(this);
  pool_.start([self, id, path, px, generation] {
    QImage img = decodeThumbnail(path, px);
    if (generation.expired()) return;
    QMetaObject::invokeMethod(self, "thumbnailReady", Qt::QueuedConnection, Q_ARG(qint64, id), Q_ARG(QImage, img));
  });
}

void ThumbnailModel::thumbnailReady(qint64 image_id, const QImage& image) {
  pending_.remove(image_id);
  cache_.insert(image_id, new QPixmap(QPixmap::fromImage(image)));  // converted once, not per paint
  const int row = rowOfImage(image_id);
  if (row >= 0) Q_EMIT dataChanged(index(row), index(row), {Qt::DecorationRole});
}

}  // namespace mls
