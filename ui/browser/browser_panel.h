// The thumbnail browser with its filter bar: split, annotated / not annotated, class (ground truth or single
// positive) and file-name search, and a legend for the thumbnails' label marks. Selecting a thumbnail makes it the session's current image; the session's
// current image is selected here (fetching rows as needed).
#pragma once
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QTimer;

namespace mls {
class ProjectSession;
class ThumbnailModel;
struct ImageFilter;

class BrowserPanel : public QWidget {
  Q_OBJECT
 public:
  explicit BrowserPanel(ProjectSession* session, QWidget* parent = nullptr);
  ThumbnailModel* model() const { return model_; }
  QListView* view() const { return view_; }
  ImageFilter filter() const;
  // Filter controls (also for tests): split "all|train|val|test", annotated "all|yes|no",
  // category id (-1 = any) looked up in ground truth or single positives.
  void setFilterControls(const QString& split, const QString& annotated, qint64 category_id, bool ground_truth,
                         const QString& search);

 private:
  void projectOpened();
  void applyFilter();
  void selectImage(qint64 image_id);
  void rebuildCategoryCombo();
  static QString legendText();  // what the thumbnail marks mean, in their colours

  ProjectSession* session_;
  ThumbnailModel* model_;
  QListView* view_;
  QComboBox* split_;
  QComboBox* annotated_;
  QComboBox* category_;
  QComboBox* category_source_;
  QLineEdit* search_;
  QLabel* count_;
  QLabel* legend_;
  QTimer* search_delay_;
  bool selecting_ = false;
};

}  // namespace mls
