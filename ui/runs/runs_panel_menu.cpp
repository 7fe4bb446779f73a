// The runs table's context menu, keys and double-clicks: rename, notes in a multi-line editor, show a run in the other
// tabs (the session's current run), delete (also the Delete key).
#include <QAction>
#include <QInputDialog>
#include <QMenu>
#include <QTableView>

#include "project_session.h"
#include "runs/run_columns.h"
#include "runs/runs_panel.h"
#include "runs/runs_proxy_model.h"
#include "runs/runs_table_model.h"

namespace mls {

void RunsPanel::setUpContextMenu() {
  table_->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(table_, &QWidget::customContextMenuRequested, this, &RunsPanel::showContextMenu);
  auto* del = new QAction(tr("Delete…"), table_);
  del->setShortcut(QKeySequence::Delete);
  del->setShortcutContext(Qt::WidgetShortcut);  // not while a cell editor has the focus
  connect(del, &QAction::triggered, this, &RunsPanel::deleteSelected);
  table_->addAction(del);
  connect(table_, &QAbstractItemView::doubleClicked, this, [this](const QModelIndex& index) {
    if (runColumnIndex(RunColumnId::Notes) == proxy_->mapToSource(index).column())
      editNotes(index.data(RunsTableModel::RunIdRole).toLongLong());
  });
}

void RunsPanel::showContextMenu(const QPoint& pos) {
  const QModelIndex at = table_->indexAt(pos);
  if (!at.isValid()) return;
  const qint64 run_id = at.data(RunsTableModel::RunIdRole).toLongLong();
  if (!selectedRuns().contains(run_id)) selectRuns({run_id});
  QMenu menu(this);
  menu.addAction(tr("Rename"), this, [this, run_id] {
    const int row = model_->rowOfRun(run_id);
    if (row >= 0) table_->edit(proxy_->mapFromSource(model_->index(row, runColumnIndex(RunColumnId::Name))));
  });
  menu.addAction(tr("Edit notes…"), this, [this, run_id] { editNotes(run_id); });
  auto* inspect = menu.addAction(tr("Show in Inspect and Annotate"), this, [this, run_id] {
    if (session_) session_->setCurrentRun(run_id);
  });
  const RunRow* row = model_->rowAt(model_->rowOfRun(run_id));
  inspect->setEnabled(row && row->record.status == RunStatus::Finished);
  menu.addSeparator();
  menu.addAction(tr("Delete %n run(s)…", nullptr, selectedRuns().size()), this, &RunsPanel::deleteSelected);
  menu.exec(table_->viewport()->mapToGlobal(pos));
}

void RunsPanel::editNotes(qint64 run_id) {
  const int row = model_->rowOfRun(run_id);
  const RunRow* r = model_->rowAt(row);
  if (!r) return;
  bool ok = false;
  const QString text = QInputDialog::getMultiLineText(this, tr("Run notes"), tr("Notes on %1:").arg(r->label()),
                                                      QString::fromStdString(r->record.notes), &ok);
  if (ok) model_->setData(model_->index(row, runColumnIndex(RunColumnId::Notes)), text);
}

}  // namespace mls
