#include "browser/thumbnail_model.h"

#include <QFileInfo>
#include <QImageReader>
#include <QPainter>
#include <QPixmap>
#include <QRunnable>
#include <algorithm>

#include "data/store/project_store.h"

namespace mls {

namespace {
// A null image when the file is missing or cannot be decoded; the model shows a placeholder that says which.
QImage decodeThumbnail(const QString& path, int px) {
  QImageReader reader(path);
  const QSize full = reader.size();
  if (full.isValid()) reader.setScaledSize(full.scaled(px, px, Qt::KeepAspectRatio));  // JPEG decodes scaled
  return reader.read();
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
  store_ = std::make_unique<ProjectStore>(project_path.toStdString(), ProjectStore::Open::Existing);
  cache_.clear();
  marks_.clear();
  problems_.clear();
  run_ = -1;
  category_names_.clear();
  category_of_idx_.clear();
  for (const auto& c : store_->categories()) {  // ordered by idx
    category_names_.insert(c.id, QString::fromStdString(c.name));
    category_of_idx_.push_back(c.id);
  }
  reload();
}

void ThumbnailModel::setRun(int64_t run_id) {
  run_ = run_id;
  marks_.clear();
  repaintAll({LabelStateRole, LabelNameRole, SuggestionRole, Qt::ToolTipRole});
}

void ThumbnailModel::refreshAnnotation(int64_t image_id) {
  const QVector<int> roles{LabelStateRole, LabelNameRole, SuggestionRole, Qt::ToolTipRole};
  if (image_id < 0) {
    marks_.clear();
    repaintAll(roles);
    return;
  }
  marks_.remove(image_id);
  if (const int row = rowOfImage(image_id); row >= 0) Q_EMIT dataChanged(index(row), index(row), roles);
}

void ThumbnailModel::repaintAll(const QVector<int>& roles) {
  if (!rows_.empty()) Q_EMIT dataChanged(index(0), index(static_cast<int>(rows_.size()) - 1), roles);
}

const ThumbnailModel::Marks& ThumbnailModel::marksOf(const ImageRecord& r) const {
  auto it = marks_.find(r.id);
  if (it != marks_.end()) return *it;
  Marks m;
  try {
    if (r.split == Split::Train) {
      const auto sp = store_->singlePositive(r.id);
      m.state = sp ? labelStateOf(sp->source) : LabelState::Unlabelled;
      if (sp) m.label = category_names_.value(sp->category_id);
    }
    if (run_ >= 0) {
      if (const auto scores = store_->predictions(run_, r.id); scores && !scores->empty()) {
        const auto idx = static_cast<size_t>(std::max_element(scores->begin(), scores->end()) - scores->begin());
        if (idx < category_of_idx_.size()) m.suggestion = category_names_.value(category_of_idx_[idx]);
      }
    }
  } catch (const std::exception&) {
    // A read that fails (a locked or damaged file) leaves the thumbnail unmarked; the panels report errors.
  }
  return *marks_.insert(r.id, m);
}

// Drawn once on the GUI thread: says what is wrong, so a moved folder does not look like "still loading".
QPixmap ThumbnailModel::problemPixmap(FileProblem problem) const {
  QPixmap& pixmap = problem == FileProblem::Missing ? missing_pixmap_ : undecodable_pixmap_;
  if (pixmap.isNull()) {
    pixmap = QPixmap(thumb_px_, thumb_px_);
    pixmap.fill(QColor(90, 30, 30));
    QPainter p(&pixmap);
    p.setPen(QColor(255, 220, 220));
    p.drawText(pixmap.rect().adjusted(4, 4, -4, -4), Qt::AlignCenter | Qt::TextWordWrap,
               problem == FileProblem::Missing ? tr("missing file") : tr("cannot decode"));
  }
  return pixmap;
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
    case Qt::ToolTipRole: return toolTip(index.row());
    case LabelStateRole: return static_cast<int>(marksOf(r).state);
    case LabelNameRole: return marksOf(r).label;
    case SuggestionRole: return marksOf(r).suggestion;
    case FileProblemRole: {
      const auto it = problems_.find(r.id);
      if (it == problems_.end()) return QString();
      return *it == FileProblem::Missing ? tr("missing file") : tr("cannot decode");
    }
    case Qt::DecorationRole: {
      if (const QPixmap* pixmap = cache_.object(r.id)) return *pixmap;
      if (const auto it = problems_.find(r.id); it != problems_.end()) return problemPixmap(*it);
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

QString ThumbnailModel::toolTip(int row) const {
  const auto& r = rows_[static_cast<size_t>(row)];
  const Marks& m = marksOf(r);
  QStringList lines{QString::fromStdString(r.file_name),
                    tr("id %1 \u00b7 %2").arg(r.id).arg(QString::fromLatin1(splitName(r.split)))};
  if (m.state == LabelState::Unlabelled) lines << labelStateText(m.state);
  else if (m.state != LabelState::NotApplicable) lines << QStringLiteral("%1 (%2)").arg(m.label, labelStateText(m.state));
  if (!m.suggestion.isEmpty()) lines << tr("model suggests %1").arg(m.suggestion);
  if (const auto it = problems_.find(r.id); it != problems_.end())
    lines << (*it == FileProblem::Missing ? tr("missing file: %1") : tr("cannot decode: %1")).arg(paths_[static_cast<size_t>(row)]);
  else
    lines << paths_[static_cast<size_t>(row)];
  return lines.join(QLatin1Char('\n'));
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
    const bool exists = !img.isNull() || QFileInfo(path).isFile();
    QMetaObject::invokeMethod(self, "thumbnailReady", Qt::QueuedConnection, Q_ARG(qint64, id), Q_ARG(QImage, img),
                              Q_ARG(bool, exists));
  });
}

void ThumbnailModel::thumbnailReady(qint64 image_id, const QImage& image, bool file_exists) {
  pending_.remove(image_id);
  if (image.isNull())
    problems_.insert(image_id, file_exists ? FileProblem::Undecodable : FileProblem::Missing);
  else
    cache_.insert(image_id, new QPixmap(QPixmap::fromImage(image)));  // converted once, not per paint
  const int row = rowOfImage(image_id);
  if (row >= 0) Q_EMIT dataChanged(index(row), index(row), {Qt::DecorationRole, FileProblemRole, Qt::ToolTipRole});
}

}  // namespace mls
