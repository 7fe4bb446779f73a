// Project ▸ Generate single positives…: the MLSPL protocol (Cole et al. 2021) for experiments — one of each
// training image's ground-truth labels, drawn with a seed — without leaving the app for the CLI.
#pragma once
#include <QDialog>

class QCheckBox;
class QLabel;
class QSpinBox;

namespace mls {
class ProjectStore;

class SinglePositiveDialog : public QDialog {
  Q_OBJECT
 public:
  SinglePositiveDialog(ProjectStore* store, QWidget* parent = nullptr);

  QSpinBox* seedBox() const { return seed_; }
  QCheckBox* overwriteBox() const { return overwrite_; }
  // Set after accept(): what the generation did, in words for the status bar.
  QString summary() const { return summary_; }

  void accept() override;

 private:
  ProjectStore* store_;
  QSpinBox* seed_;
  QCheckBox* overwrite_;
  QLabel* error_;
  QString summary_;
};

}  // namespace mls
