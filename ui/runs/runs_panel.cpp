#include "runs/runs_panel.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLocale>
#include <QMessageBox>
#include <QPushButton>
#include <QScopedValueRollback>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>
#include <cmath>
#include <filesystem>

#include "data/store/project_store.h"
#include "project_session.h"
#include "runs/class_ap_model.h"
#include "runs/empty_last_proxy_model.h"
#include "runs/pr_curve_plot.h"
#include "runs/run_compare_plot.h"
#include "runs/run_compare_table.h"
#include "runs/run_evaluator.h"
#include "runs/runs_proxy_model.h"
#include "runs/runs_table_model.h"
#include "train/run_curves.h"

namespace mls {

namespace {

// Bytes under a checkpoint folder, for the delete confirmation (0 when absent or unreadable).
qint64 folderBytes(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  qint64 total = 0;
  if (dir.empty() || !fs::is_directory(dir, ec)) return 0;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) total += static_cast<qint64>(it->file_size(ec));
  return total;
}

}  // namespace

RunsPanel::RunsPanel(ProjectSession* session, QWidget* parent)
    : QWidget(parent), session_(session), evaluator_(new RunEvaluator(this)) {
  model_ = new RunsTableModel(this);
  proxy_ = new RunsProxyModel(model_, this);
  table_ = new QTableView;
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(-1, Qt::AscendingOrder);  // the store's order (by id) until a header is clicked
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  table_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
  table_->verticalHeader()->hide();
  table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
  table_->horizontalHeader()->setStretchLastSection(true);
  table_->setAlternatingRowColors(true);

  show_all_ = new QCheckBox(tr("All settings"));
  show_all_->setToolTip(tr("Also show the settings that are the same in every run"));
  hidden_note_ = new QLabel;
  auto* refresh_button = new QPushButton(tr("Refresh"));
  delete_ = new QPushButton(tr("Delete…"));
  delete_->setToolTip(tr("Delete the selected runs with their curves, scores and checkpoint files"));
  message_ = new QLabel;
  message_->setWordWrap(true);
  auto* bar = new QHBoxLayout;
  bar->addWidget(show_all_);
  bar->addWidget(hidden_note_, 1);
  bar->addWidget(refresh_button);
  bar->addWidget(delete_);

  curves_ = new RunComparePlot;
  compare_ = new RunCompareTable;
  eval_info_ = new QLabel(tr("Select a run."));
  eval_info_->setWordWrap(true);
  class_model_ = new ClassApModel(this);
  class_proxy_ = new EmptyLastProxyModel(this);
  class_proxy_->setSourceModel(class_model_);
  class_proxy_->setSortRole(ClassApModel::SortRole);
  class_table_ = new QTableView;
  class_table_->setModel(class_proxy_);
  class_table_->setSortingEnabled(true);
  class_table_->sortByColumn(-1, Qt::AscendingOrder);
  class_table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  class_table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  class_table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  class_table_->verticalHeader()->hide();
  class_table_->setToolTip(tr("Select classes to draw their precision-recall curves"));
  pr_plot_ = new PrCurvePlot;
  auto* per_class_split = new QSplitter(Qt::Horizontal);
  per_class_split->addWidget(class_table_);
  per_class_split->addWidget(pr_plot_);
  per_class_split->setStretchFactor(1, 1);
  per_class_split->setSizes({420, 700});
  auto* per_class = new QWidget;
  auto* per_class_layout = new QVBoxLayout(per_class);
  per_class_layout->setContentsMargins(0, 0, 0, 0);
  per_class_layout->addWidget(eval_info_);
  per_class_layout->addWidget(per_class_split, 1);

  tabs_ = new QTabWidget;
  tabs_->addTab(curves_, tr("Curves"));
  tabs_->addTab(compare_, tr("Compare"));
  tabs_->addTab(per_class, tr("Per-class AP"));

  auto* top = new QWidget;
  auto* top_layout = new QVBoxLayout(top);
  top_layout->setContentsMargins(0, 0, 0, 0);
  top_layout->addLayout(bar);
  top_layout->addWidget(table_, 1);
  top_layout->addWidget(message_);
  auto* split = new QSplitter(Qt::Vertical);
  split->addWidget(top);
  split->addWidget(tabs_);
  split->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(split);

  setUpContextMenu();
  connect(show_all_, &QCheckBox::toggled, this, [this](bool on) {
    proxy_->setShowConstantColumns(on);
    updateHiddenNote();
  });
  connect(refresh_button, &QPushButton::clicked, this, &RunsPanel::refresh);
  connect(delete_, &QPushButton::clicked, this, &RunsPanel::deleteSelected);
  connect(table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, &RunsPanel::onSelectionChanged);
  connect(class_table_->selectionModel(), &QItemSelectionModel::selectionChanged, this, &RunsPanel::updatePrCurves);
  connect(model_, &RunsTableModel::runEdited, this, [this] {
    // The Train tab's list and the Inspect chooser show names. Our model already holds the edit, and
    // reloading it from inside setData would pull the row from under the closing editor.
    const QScopedValueRollback<bool> own(own_edit_, true);
    if (session_) session_->notifyRunsChanged();
  });
  connect(model_, &RunsTableModel::storeError, this, [this](const QString& m) { setMessage(m, true); });
  connect(evaluator_, &RunEvaluator::evaluated, this, [this](qint64 run_id) {
    if (run_id == evaluated_run_) showEvaluation();
    if (selectedRuns().contains(run_id)) updateCompare();
  });
  connect(evaluator_, &RunEvaluator::failed, this, [this](qint64 run_id, const QString&) {
    if (run_id == evaluated_run_) showEvaluation();
  });
  if (session_) {
    connect(session_, &ProjectSession::projectOpened, this, &RunsPanel::onProjectOpened);
    connect(session_, &ProjectSession::runsChanged, this, &RunsPanel::refresh);
    if (session_->isOpen()) onProjectOpened();
  }
}

RunsPanel::~RunsPanel() { evaluator_->waitForDone(); }

void RunsPanel::onProjectOpened() {
  evaluator_->setProject(session_ ? session_->path() : QString());
  evaluated_run_ = -1;
  model_->setStore(session_ ? session_->store() : nullptr);
  table_->resizeColumnsToContents();
  updateHiddenNote();
  // Start on the project's current run (its curves and per-class AP) rather than on empty plots.
  if (session_ && session_->currentRun() >= 0) selectRuns({session_->currentRun()});
  onSelectionChanged();
}

QList<qint64> RunsPanel::selectedRuns() const {
  QList<qint64> out;
  for (int r = 0; r < proxy_->rowCount(); ++r)
    if (table_->selectionModel()->isRowSelected(r, {}))
      out.push_back(proxy_->index(r, 0).data(RunsTableModel::RunIdRole).toLongLong());
  return out;
}

QString RunsPanel::lastMessage() const { return message_->text(); }

void RunsPanel::setMessage(const QString& text, bool error) {
  message_->setText(text);
  message_->setStyleSheet(error ? QStringLiteral("color: #b22") : QString());
}

void RunsPanel::refresh() {
  if (own_edit_) return;
  const QList<qint64> selected = selectedRuns();
  const QModelIndex current = table_->currentIndex();
  const qint64 current_run = current.isValid() ? current.data(RunsTableModel::RunIdRole).toLongLong() : -1;
  restoring_selection_ = true;
  model_->setStore(session_ ? session_->store() : nullptr);
  selectRuns(selected);
  if (const int row = model_->rowOfRun(current_run); row >= 0) {
    const QModelIndex i = proxy_->mapFromSource(model_->index(row, 0));
    table_->selectionModel()->setCurrentIndex(i, QItemSelectionModel::NoUpdate);
  }
  restoring_selection_ = false;
  updateHiddenNote();
  onSelectionChanged();
}

void RunsPanel::selectRuns(const QList<qint64>& run_ids) {
  QItemSelection selection;
  QModelIndex first;
  for (qint64 id : run_ids) {
    const int row = model_->rowOfRun(id);
    if (row < 0) continue;
    const QModelIndex i = proxy_->mapFromSource(model_->index(row, 0));
    if (!first.isValid()) first = i;
    selection.select(i, i.siblingAtColumn(proxy_->columnCount() - 1));
  }
  auto* sm = table_->selectionModel();
  // Current first: the selection change below picks the per-class run from it.
  if (first.isValid() && !restoring_selection_) sm->setCurrentIndex(first, QItemSelectionModel::NoUpdate);
  sm->select(selection, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void RunsPanel::updateHiddenNote() {
  const int hidden = proxy_->hiddenColumnCount();
  hidden_note_->setText(hidden > 0 ? tr("%n setting(s) equal in every run hidden", nullptr, hidden) : QString());
  delete_->setEnabled(model_->rowCount() > 0);
}

void RunsPanel::onSelectionChanged() {
  if (restoring_selection_) return;
  const QList<qint64> selected = selectedRuns();
  // Curves of the selected runs, read on this thread like the Train tab's overlays.
  QList<QPair<qint64, QString>> labels;
  QHash<qint64, RunCurves> curves;
  if (session_ && session_->store()) {
    for (qint64 id : selected) {
      const RunRow* r = model_->rowAt(model_->rowOfRun(id));
      if (!r) continue;
      try {
        curves.insert(id, loadRunCurves(*session_->store(), id));
        labels.push_back({id, r->label()});
      } catch (const std::exception& e) {
        setMessage(tr("Could not read the curves of %1: %2").arg(r->label(), QString::fromUtf8(e.what())), true);
      }
    }
  }
  curves_->setRuns(labels, curves);

  // The per-class tab follows the current row when it is selected, else the first selected run.
  const QModelIndex current = table_->currentIndex();
  qint64 run = current.isValid() ? current.data(RunsTableModel::RunIdRole).toLongLong() : -1;
  if (!selected.contains(run)) run = selected.isEmpty() ? -1 : selected.front();
  if (run != evaluated_run_) {
    evaluated_run_ = run;
    class_model_->setEvaluation(nullptr);
  }
  showEvaluation();
  updateCompare();
}

void RunsPanel::showEvaluation() {
  const RunRow* row = model_->rowAt(model_->rowOfRun(evaluated_run_));
  if (!row) {
    class_model_->setEvaluation(nullptr);
    eval_info_->setText(tr("Select a run to see its per-class AP on the val split."));
    updatePrCurves();
    return;
  }
  if (row->record.status == RunStatus::Running) {
    class_model_->setEvaluation(nullptr);
    eval_info_->setText(tr("%1 is still training: its scores are stored when it finishes.").arg(row->label()));
    updatePrCurves();
    return;
  }
  auto evaluation = evaluator_->request(evaluated_run_, row->record.finished_at.value_or(0));
  if (!evaluation) {
    const QString error = evaluator_->errorFor(evaluated_run_);
    eval_info_->setText(error.isEmpty() ? tr("Computing the per-class AP of %1…").arg(row->label())
                                        : tr("Could not evaluate %1: %2").arg(row->label(), error));
    class_model_->setEvaluation(nullptr);
    updatePrCurves();
    return;
  }
  if (class_model_->evaluation() != evaluation.get()) {
    class_model_->setEvaluation(evaluation);
    class_table_->resizeColumnsToContents();
    if (class_proxy_->rowCount() > 0) class_table_->selectRow(0);
  }
  const RunEvaluation& e = *evaluation;
  QString text;
  if (e.images == 0) {
    text = tr("%1 stored no scores for the val split (cancelled or failed runs store none): nothing to evaluate.")
               .arg(row->label());
  } else {
    text = tr("%1 · val split: %2 images").arg(row->label()).arg(e.images);
    if (e.images_without_scores > 0) text += tr(" (%1 without scores left out)").arg(e.images_without_scores);
    text += tr(" · mAP %1 over %2 classes").arg(std::isfinite(e.map) ? QString::number(e.map, 'f', 2) : QStringLiteral("—"))
                .arg(e.classes_evaluated);
    if (e.classes_skipped > 0) text += tr(", %n without positives left out (AP \"—\")", nullptr, e.classes_skipped);
    auto number = [](double v) { return std::isfinite(v) ? QString::number(v, 'f', 2) : QStringLiteral("—"); };
    text += tr(" · MLSPL convention %1 · Q2L convention %2").arg(number(e.map_mlspl), number(e.map_q2l_voc));
    if (row->record.best_val_map) text += tr(" · recorded best %1").arg(*row->record.best_val_map, 0, 'f', 2);
  }
  eval_info_->setText(text);
  eval_info_->setToolTip(tr("AP: scikit-learn's average_precision_score on the run's stored scores (its best "
                            "weights). Classes without positives have no AP and are left out of the mean.\n"
                            "MLSPL convention (Cole et al.'s code): such classes count 0, mean over all classes.\n"
                            "Q2L convention (Liu et al.'s code): VOC-style interpolated precision; reads higher."));
  updatePrCurves();
}

void RunsPanel::updatePrCurves() {
  const RunEvaluation* e = class_model_->evaluation();
  QVector<PrCurvePlot::Entry> entries;
  if (e) {
    for (const QModelIndex& i : class_table_->selectionModel()->selectedRows()) {
      const int idx = i.data(ClassApModel::IdxRole).toInt();
      if (idx < 0 || idx >= static_cast<int>(e->classes.size())) continue;
      const auto& c = e->classes[static_cast<size_t>(idx)];
      if (!std::isfinite(c.ap)) continue;
      entries.push_back({tr("%1 (AP %2)").arg(QString::fromStdString(c.name)).arg(c.ap, 0, 'f', 2), &c.curve});
    }
  }
  pr_plot_->setCurves(entries);
}

void RunsPanel::updateCompare() {
  std::vector<RunRow> rows;
  QHash<qint64, std::shared_ptr<const RunEvaluation>> evaluations;
  for (qint64 id : selectedRuns()) {
    const RunRow* r = model_->rowAt(model_->rowOfRun(id));
    if (!r) continue;
    rows.push_back(*r);
    if (r->record.status == RunStatus::Running) continue;
    if (auto e = evaluator_->request(id, r->record.finished_at.value_or(0))) evaluations.insert(id, e);
  }
  compare_->setRuns(rows, evaluations);
}

void RunsPanel::deleteSelected() { deleteRuns(selectedRuns(), true); }

bool RunsPanel::deleteRuns(const QList<qint64>& run_ids, bool confirm) {
  if (!session_ || !session_->store() || run_ids.isEmpty()) return false;
  const qint64 training = training_run_ ? training_run_() : -1;
  QStringList names, elsewhere;
  qint64 bytes = 0;
  for (qint64 id : run_ids) {
    const RunRow* r = model_->rowAt(model_->rowOfRun(id));
    if (!r) continue;
    if (id == training) {
      const QString m = tr("%1 is training: stop it before deleting it.").arg(r->label());
      setMessage(m, true);
      if (confirm) QMessageBox::warning(this, tr("Delete runs"), m);
      return false;
    }
    names << r->label();
    if (r->record.status == RunStatus::Running) elsewhere << r->label();
    bytes += folderBytes(r->record.checkpoint_dir);
  }
  if (names.isEmpty()) return false;
  if (confirm) {
    QString text = tr("Delete %n run(s)?\n\n%1\n\nTheir curves, stored scores and checkpoint files (%2) are removed. "
                      "This cannot be undone.", nullptr, names.size())
                       .arg(names.join(QLatin1Char('\n')), QLocale().formattedDataSize(bytes));
    if (!elsewhere.isEmpty())
      text += tr("\n\nMarked as running: %1. It may be training in mlstudio-cli, or be left over from a crash; "
                 "delete it only if no process is training it.").arg(elsewhere.join(QStringLiteral(", ")));
    if (QMessageBox::question(this, tr("Delete runs"), text, QMessageBox::Yes | QMessageBox::No, QMessageBox::No) !=
        QMessageBox::Yes)
      return false;
  }
  QStringList left_over, errors;
  for (qint64 id : run_ids) {
    try {
      for (const auto& path : session_->store()->deleteRun(id)) left_over << QString::fromStdString(path);
    } catch (const std::exception& e) {
      errors << QString::fromUtf8(e.what());
    }
    evaluator_->forget(id);
  }
  if (run_ids.contains(session_->currentRun())) {
    // Inspect and Annotate follow the session's run: move them to the newest finished run left.
    qint64 next = -1;
    try {
      for (const auto& r : session_->store()->runs())
        if (r.status == RunStatus::Finished) next = r.id;
    } catch (const std::exception&) {
      // No run to move to: the tabs show none until one is chosen.
    }
    session_->setCurrentRun(next);
  }
  if (!errors.isEmpty())
    setMessage(tr("Could not delete: %1").arg(errors.join(QStringLiteral("; "))), true);
  else if (!left_over.isEmpty())
    setMessage(tr("Deleted; these files could not be removed: %1").arg(left_over.join(QStringLiteral(", "))), true);
  else
    setMessage(tr("Deleted %n run(s).", nullptr, names.size()));
  session_->notifyRunsChanged();
  return errors.isEmpty();
}

}  // namespace mls
