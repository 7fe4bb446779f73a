// The project's training runs as a checkable table (newest first); checked runs are overlaid on the plots.
#pragma once
#include <QAbstractTableModel>
#include <QSet>
#include <vector>

#include "data/store/project_types.h"

namespace mls {

class RunsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { NameColumn, MethodColumn, StatusColumn, BestMapColumn, ColumnCount };
  static constexpr int RunIdRole = Qt::UserRole + 1;

  explicit RunsModel(QObject* parent = nullptr);
  // Replaces the rows; checked runs that still exist stay checked.
  void setRuns(std::vector<RunRecord> runs);
  const RunRecord* runAt(int row) const;
  int rowOfRun(qint64 run_id) const;
  QList<qint64> checkedRuns() const;
  void setChecked(qint64 run_id, bool checked);

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 Q_SIGNALS:
  void checkedChanged(qint64 run_id, bool checked);

 private:
  std::vector<RunRecord> runs_;
  QSet<qint64> checked_;
};

}  // namespace mls
