#include "runs/class_ap_model.h"

#include <cmath>

namespace mls {

namespace {
const QString kNoAp = QStringLiteral("—");
}

ClassApModel::ClassApModel(QObject* parent) : QAbstractTableModel(parent) {}

void ClassApModel::setEvaluation(std::shared_ptr<const RunEvaluation> evaluation) {
  beginResetModel();
  evaluation_ = std::move(evaluation);
  endResetModel();
}

int ClassApModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !evaluation_ ? 0 : static_cast<int>(evaluation_->classes.size());
}

int ClassApModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant ClassApModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || !evaluation_ || index.row() >= rowCount()) return {};
  const ClassEvaluation& c = evaluation_->classes[static_cast<size_t>(index.row())];
  const bool has_ap = std::isfinite(c.ap);
  switch (role) {
    case IdxRole: return c.idx;
    case SortRole:
      switch (index.column()) {
        case ClassColumn: return QString::fromStdString(c.name).toLower();
        case ApColumn: return has_ap ? QVariant(c.ap) : QVariant();  // undefined sorts last
        case PositivesColumn: return QVariant(static_cast<qlonglong>(c.positives));
        case PredictedColumn: return QVariant(static_cast<qlonglong>(c.predicted));
        default: return {};
      }
    case Qt::DisplayRole:
      switch (index.column()) {
        case ClassColumn: return QString::fromStdString(c.name);
        case ApColumn: return has_ap ? QString::number(c.ap, 'f', 2) : kNoAp;
        case PositivesColumn: return QString::number(c.positives);
        case PredictedColumn: return QString::number(c.predicted);
        default: return {};
      }
    case Qt::ToolTipRole:
      if (index.column() == ApColumn && !has_ap)
        return tr("No image of this split has this class: AP is undefined and the class is left out of the mean.");
      return {};
    case Qt::TextAlignmentRole:
      return index.column() == ClassColumn ? QVariant() : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    default: return {};
  }
}

QVariant ClassApModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal) return {};
  const double t = evaluation_ ? evaluation_->threshold : 0.5;
  if (role == Qt::DisplayRole) {
    switch (section) {
      case ClassColumn: return tr("Class");
      case ApColumn: return tr("AP (%)");
      case PositivesColumn: return tr("Positives");
      case PredictedColumn: return tr("Predicted ≥ %1").arg(t);
      default: return {};
    }
  }
  if (role == Qt::ToolTipRole) {
    switch (section) {
      case ApColumn:
        return tr("Average precision (scikit-learn's average_precision_score, ties grouped).\n"
                  "\"—\": no positives in the split; such classes are left out of the mean.");
      case PositivesColumn: return tr("Images of the split that have this class in the ground truth");
      case PredictedColumn: return tr("Images whose score for this class is at least %1").arg(t);
      default: return {};
    }
  }
  return {};
}

}  // namespace mls
