// Sorts the runs table by any column (numbers as numbers, empty cells last in either order) and hides the settings
// columns that are the same in every run unless asked to show all, as W&B's "hide constant columns".
#pragma once
#include "runs/empty_last_proxy_model.h"

namespace mls {

class RunsTableModel;

class RunsProxyModel : public EmptyLastProxyModel {
  Q_OBJECT
 public:
  explicit RunsProxyModel(RunsTableModel* source, QObject* parent = nullptr);
  void setShowConstantColumns(bool on);
  int hiddenColumnCount() const;  // constant settings columns currently hidden

 protected:
  bool filterAcceptsColumn(int source_column, const QModelIndex& source_parent) const override;

 private:
  RunsTableModel* source_;
  bool show_constant_ = false;
};

}  // namespace mls
