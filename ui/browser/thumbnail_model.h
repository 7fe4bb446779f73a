// List model over a project's images for the thumbnail browser. Rows arrive in batches (fetchMore) so a
// 100k-image project opens at once; thumbnails are decoded on a thread pool into a bounded LRU cache. Each
// row also says how the image is labelled and what the current run suggests, read lazily for the rows a
// view paints, so marking thumbnails costs nothing for rows never shown.
#pragma once
#include <QAbstractListModel>
#include <QCache>
#include <QHash>
#include <QImage>
#include <QPixmap>
#include <QSet>
#include <QStringList>
#include <QThreadPool>
#include <memory>
#include <optional>
#include <vector>

#include "browser/label_state.h"
#include "data/store/project_types.h"

namespace mls {
class ProjectStore;

class ThumbnailModel : public QAbstractListModel {
  Q_OBJECT
 public:
  enum Roles {
    ImageIdRole = Qt::UserRole + 1,
    LabelStateRole,    // int(LabelState)
    LabelNameRole,     // the single positive's class name, or empty
    SuggestionRole,    // the current run's top class name, or empty (no run, or no scores for the image)
    FileProblemRole,   // "missing file" / "cannot decode" once the thumbnail decode found out, else empty
  };

  explicit ThumbnailModel(QObject* parent = nullptr);
  ~ThumbnailModel() override;

  // The model reads through its own connection to the project file (GUI thread only).
  void setProject(const QString& project_path);
  void setFilter(const ImageFilter& filter);
  // The run whose stored scores give the "model suggests" mark; -1 for none. Also rereads the scores.
  void setRun(int64_t run_id);
  // A single positive changed (image id, or -1 for many): its marks are read again.
  void refreshAnnotation(int64_t image_id);
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
  struct Marks {
    LabelState state = LabelState::NotApplicable;
    QString label, suggestion;
  };
  enum class FileProblem { Missing, Undecodable };

  void reload();
  void requestThumbnail(int row) const;
  const Marks& marksOf(const ImageRecord& r) const;
  QPixmap problemPixmap(FileProblem problem) const;
  QString toolTip(int row) const;
  void repaintAll(const QVector<int>& roles);
  Q_INVOKABLE void thumbnailReady(qint64 image_id, const QImage& image, bool file_exists);

  std::unique_ptr<ProjectStore> store_;
  ImageFilter filter_;
  std::vector<ImageRecord> rows_;
  std::vector<QString> paths_;
  QHash<qint64, int> row_of_;
  QHash<qint64, QString> category_names_;
  std::vector<int64_t> category_of_idx_;   // model output index -> category id
  int64_t run_ = -1;
  int total_ = 0;
  bool in_reset_ = false;
  bool fetching_ = false;
  const int thumb_px_ = 96;
  mutable QCache<qint64, QPixmap> cache_;  // cost = 1 per thumbnail
  mutable QHash<qint64, Marks> marks_;     // read on first paint; dropped when the label or run changes
  mutable QHash<qint64, FileProblem> problems_;
  mutable QPixmap placeholder_;            // shown until a thumbnail is decoded
  mutable QPixmap missing_pixmap_, undecodable_pixmap_;
  mutable QSet<qint64> pending_;
  mutable QThreadPool pool_;
  std::shared_ptr<int> generation_;        // invalidates decodes that finish after a reload
};

}  // namespace mls
