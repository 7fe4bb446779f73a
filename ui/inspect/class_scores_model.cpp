#include "inspect/class_scores_model.h"

#include <QBrush>
#include <QColor>
#include <QFont>
#include <algorithm>

namespace mls {

ClassScoresModel::ClassScoresModel(QObject* parent) : QAbstractTableModel(parent) {}

void ClassScoresModel::setRows(std::vector<ClassScoreRow> rows, bool has_ground_truth) {
  std::stable_sort(rows.begin(), rows.end(), [](const ClassScoreRow& a, const ClassScoreRow& b) {
    return a.score != b.score ? a.score > b.score : a.idx < b.idx;
  });
  beginResetModel();
  rows_ = std::move(rows);
  has_ground_truth_ = has_ground_truth;
  endResetModel();
}

void ClassScoresModel::clear() {
  if (rows_.empty()) return;
  beginResetModel();
  rows_.clear();
  has_ground_truth_ = false;
  endResetModel();
}

void ClassScoresModel::setSinglePositive(int class_idx) {
  for (size_t r = 0; r < rows_.size(); ++r) {
    const bool now = rows_[r].idx == class_idx;
    if (rows_[r].single_positive == now) continue;
    rows_[r].single_positive = now;
    const QModelIndex i = index(static_cast<int>(r), SinglePositiveColumn);
    Q_EMIT dataChanged(i, i);
  }
}

void ClassScoresModel::setThreshold(double threshold) {
  threshold = std::clamp(threshold, 0.0, 1.0);
  if (threshold == threshold_) return;
  threshold_ = threshold;
  // Whole rows change: the predicted mark and the highlight of every column.
  if (!rows_.empty()) Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, ColumnCount - 1));
}

int ClassScoresModel::predictedCount() const {
  return static_cast<int>(std::count_if(rows_.begin(), rows_.end(),
                                        [this](const ClassScoreRow& r) { return r.score >= threshold_; }));
}

int ClassScoresModel::classIdxAt(int row) const {
  return row >= 0 && row < rowCount() ? rows_[static_cast<size_t>(row)].idx : -1;
}

int ClassScoresModel::rowOfClass(int class_idx) const {
  for (size_t r = 0; r < rows_.size(); ++r)
    if (rows_[r].idx == class_idx) return static_cast<int>(r);
  return -1;
}

int ClassScoresModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int ClassScoresModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ClassScoresModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const ClassScoreRow& r = rows_[static_cast<size_t>(index.row())];
  const bool predicted = r.score >= threshold_;
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case ClassColumn: return r.name;
        case ScoreColumn: return QString::number(static_cast<double>(r.score), 'f', 3);
        case GroundTruthColumn: return r.ground_truth ? QStringLiteral("\u2713") : QString();
        case SinglePositiveColumn: return r.single_positive ? QStringLiteral("\u25CF") : QString();
        case PredictedColumn: return predicted ? QStringLiteral("\u2713") : QString();
      }
      return {};
    case Qt::TextAlignmentRole:
      if (index.column() == ClassColumn) return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
      if (index.column() == ScoreColumn) return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
      return QVariant::fromValue(Qt::AlignCenter);
    case Qt::BackgroundRole:
      // Predicted rows: green when the ground truth agrees (or there is none to check), amber for a label
      // the image's full labels do not have (a false positive).
      if (!predicted) return {};
      return QBrush(has_ground_truth_ && !r.ground_truth ? QColor(255, 226, 170) : QColor(196, 236, 196));
    case Qt::ForegroundRole:
      if (predicted) return QBrush(QColor(20, 20, 20));  // readable on the light highlight in dark themes too
      // A ground-truth label below the threshold is a miss: dark red.
      if (r.ground_truth) return QBrush(QColor(170, 30, 30));
      return {};
    case Qt::FontRole:
      if (predicted) {
        QFont f;
        f.setBold(true);
        return f;
      }
      return {};
    case Qt::ToolTipRole: {
      QString state = predicted ? (r.ground_truth ? tr("predicted, in the ground truth")
                                                  : has_ground_truth_ ? tr("predicted, not in the ground truth")
                                                                      : tr("predicted"))
                                : (r.ground_truth ? tr("missed: in the ground truth, below the threshold")
                                                  : tr("not predicted"));
      if (r.single_positive) state += tr("; the image's single positive");
      return QStringLiteral("%1: %2 (%3)").arg(r.name).arg(static_cast<double>(r.score), 0, 'f', 4).arg(state);
    }
    case ClassIdxRole: return r.idx;
    case ScoreRole: return static_cast<double>(r.score);
    case PredictedRole: return predicted;
    default: return {};
  }
}

QVariant ClassScoresModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  if (role == Qt::DisplayRole) {
    switch (section) {
      case ClassColumn: return tr("Class");
      case ScoreColumn: return tr("Score");
      case GroundTruthColumn: return tr("GT");
      case SinglePositiveColumn: return tr("SP");
      case PredictedColumn: return tr("Pred.");
    }
  } else if (role == Qt::ToolTipRole) {
    switch (section) {
      case ClassColumn: return tr("Category");
      case ScoreColumn: return tr("Sigmoid score of the chosen run");
      case GroundTruthColumn: return tr("In the image's full ground-truth labels");
      case SinglePositiveColumn: return tr("The image's single positive label");
      case PredictedColumn: return tr("Score at or above the threshold");
    }
  }
  return {};
}

}  // namespace mls
