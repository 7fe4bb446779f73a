// Project ▸ Relink images folder…: when a project's images moved, point one of its folders at the new place.
// The candidate folder is checked first (how many of the folder's files are there) and nothing changes
// until the user accepts.
#pragma once
#include <QDialog>
#include <vector>

#include "data/store/project_types.h"

class QLabel;
class QPushButton;
class QTableWidget;

namespace mls {
class ProjectStore;

class RelinkDialog : public QDialog {
  Q_OBJECT
 public:
  RelinkDialog(ProjectStore* store, const QString& start_dir, QWidget* parent = nullptr);

  // The folder to relink (row in the table) and the candidate directory; the dialog counts the files found.
  void selectFolder(int row);
  void setCandidate(const QString& dir);
  int64_t filesFound() const { return found_; }
  QString summary() const { return summary_; }
  QTableWidget* table() const { return table_; }
  QPushButton* relinkButton() const { return relink_; }

  void accept() override;

 private:
  void chooseCandidate();
  void reloadFolders();

  ProjectStore* store_;
  QString start_dir_;
  std::vector<ImageFolderInfo> folders_;
  QTableWidget* table_;
  QLabel* candidate_label_;
  QLabel* result_;
  QPushButton* relink_;
  QString candidate_;
  int64_t found_ = -1;
  QString summary_;
};

}  // namespace mls
