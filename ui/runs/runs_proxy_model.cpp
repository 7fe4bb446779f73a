#include "runs/runs_proxy_model.h"

#include "runs/runs_table_model.h"

namespace mls {

RunsProxyModel::RunsProxyModel(RunsTableModel* source, QObject* parent) : EmptyLastProxyModel(parent), source_(source) {
  setSourceModel(source);
  setSortRole(RunsTableModel::SortRole);
  setSortCaseSensitivity(Qt::CaseInsensitive);
}

void RunsProxyModel::setShowConstantColumns(bool on) {
  if (on == show_constant_) return;
  show_constant_ = on;
  invalidateColumnsFilter();
}

int RunsProxyModel::hiddenColumnCount() const {
  if (show_constant_) return 0;
  int n = 0;
  for (int c = 0; c < source_->columnCount(); ++c) n += source_->isConstantColumn(c);
  return n;
}

bool RunsProxyModel::filterAcceptsColumn(int source_column, const QModelIndex&) const {
  return show_constant_ || !source_->isConstantColumn(source_column);
}

}  // namespace mls
