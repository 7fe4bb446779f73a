// The project's runs, one row each, one column per runColumns() entry. Name and notes are editable
// (setData; the view edits names in place, notes in the panel's dialog) and written straight to the project (the GUI-thread store connection). Knows which settings are the same in
// every run, so the proxy can hide them.
#pragma once
#include <QAbstractTableModel>
#include <vector>

#include "runs/run_row.h"

namespace mls {

class ProjectStore;

class RunsTableModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  static constexpr int SortRole = Qt::UserRole + 1;
  static constexpr int RunIdRole = Qt::UserRole + 2;

  explicit RunsTableModel(QObject* parent = nullptr);
  void setStore(ProjectStore* store);  // nullptr: no project (empty table)
  void reload();  // re-reads runs and their metric totals; on a store error keeps the rows and emits storeError
  void setRows(std::vector<RunRow> rows);

  const RunRow* rowAt(int row) const;
  int rowOfRun(qint64 run_id) const;
  const std::vector<RunRow>& rows() const { return rows_; }
  // A settings column whose text is the same in every run (never true with fewer than two runs).
  bool isConstantColumn(int column) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
  Qt::ItemFlags flags(const QModelIndex& index) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 Q_SIGNALS:
  void runEdited(qint64 run_id);            // name or notes written to the project
  void storeError(const QString& message);  // a read or an edit failed (the cells keep their old text)

 private:
  void updateConstantColumns();

  ProjectStore* store_ = nullptr;
  std::vector<RunRow> rows_;
  std::vector<bool> constant_;
  qint64 now_ms_ = 0;  // one "now" per reload, so running durations sort consistently
};

}  // namespace mls
