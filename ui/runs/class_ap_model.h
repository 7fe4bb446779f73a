// Per-class results of one run (RunEvaluation): class, AP, positives in the split, predicted positives at
// the threshold. A class without positives has no AP ("—", left out of the mean).
#pragma once
#include <QAbstractTableModel>
#include <memory>

#include "data/eval/run_evaluation.h"

namespace mls {

class ClassApModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { ClassColumn, ApColumn, PositivesColumn, PredictedColumn, ColumnCount };
  static constexpr int SortRole = Qt::UserRole + 1;
  static constexpr int IdxRole = Qt::UserRole + 2;  // the class's dense index

  explicit ClassApModel(QObject* parent = nullptr);
  void setEvaluation(std::shared_ptr<const RunEvaluation> evaluation);  // nullptr clears
  const RunEvaluation* evaluation() const { return evaluation_.get(); }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  std::shared_ptr<const RunEvaluation> evaluation_;
};

}  // namespace mls
