// Per-class scores of one image under one run, sorted by score (highest first), next to the image's ground
// truth and its single positive. A threshold decides which labels count as predicted (those rows are
// highlighted); >= matches the metrics' convention (ML-GCN evaluation, threshold 0.5).
#pragma once
#include <QAbstractTableModel>
#include <QString>
#include <vector>

namespace mls {

struct ClassScoreRow {
  int idx = 0;                   // category idx (the model's output index)
  QString name;
  float score = 0;               // sigmoid probability
  bool ground_truth = false;     // in the image's full labels
  bool single_positive = false;  // the image's observed single positive
};

class ClassScoresModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { ClassColumn, ScoreColumn, GroundTruthColumn, SinglePositiveColumn, PredictedColumn, ColumnCount };
  enum Roles { ClassIdxRole = Qt::UserRole + 1, ScoreRole, PredictedRole };

  explicit ClassScoresModel(QObject* parent = nullptr);

  // Replaces all rows (sorted here: score descending, ties by class idx). has_ground_truth says whether the
  // image has any full labels, so a predicted label outside them can be marked as a false positive.
  void setRows(std::vector<ClassScoreRow> rows, bool has_ground_truth);
  void clear();
  void setSinglePositive(int class_idx);  // -1 = none
  void setThreshold(double threshold);
  double threshold() const { return threshold_; }
  int predictedCount() const;
  int classIdxAt(int row) const;          // -1 when out of range
  int rowOfClass(int class_idx) const;    // -1 when absent

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

 private:
  std::vector<ClassScoreRow> rows_;
  bool has_ground_truth_ = false;
  double threshold_ = 0.5;
};

}  // namespace mls
