// A sort proxy that keeps cells without a value (an invalid sort-role QVariant: a run without mAP, a class
// without AP) at the bottom in both sort orders, as spreadsheets and W&B's runs table do.
#pragma once
#include <QSortFilterProxyModel>

namespace mls {

class EmptyLastProxyModel : public QSortFilterProxyModel {
  Q_OBJECT
 public:
  using QSortFilterProxyModel::QSortFilterProxyModel;

 protected:
  bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;
};

}  // namespace mls
