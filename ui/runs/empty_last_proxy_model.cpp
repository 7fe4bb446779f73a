#include "runs/empty_last_proxy_model.h"

namespace mls {

bool EmptyLastProxyModel::lessThan(const QModelIndex& left, const QModelIndex& right) const {
  const bool l = left.data(sortRole()).isValid(), r = right.data(sortRole()).isValid();
  // Descending order puts "greater" first, so an empty cell must compare as the smaller there.
  const bool ascending = sortOrder() == Qt::AscendingOrder;
  if (!l && r) return !ascending;
  if (l && !r) return ascending;
  if (!l && !r) return false;
  return QSortFilterProxyModel::lessThan(left, right);
}

}  // namespace mls
