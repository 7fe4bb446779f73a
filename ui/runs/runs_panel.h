// The Runs tab: every run of the project in a sortable table (settings that differ between runs, outcome,
// notes), rename / notes / delete, and for the selected runs their loss and val-mAP curves overlaid, their
// settings and per-class AP side by side, and the current run's per-class AP with precision-recall curves.
// Per-class results are computed from the runs' stored scores on a worker thread (RunEvaluator).
#pragma once
#include <QList>
#include <QPointer>
#include <QWidget>
#include <functional>

class QCheckBox;
class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;
class QTabWidget;

namespace mls {

class ClassApModel;
class PrCurvePlot;
class ProjectSession;
class RunComparePlot;
class RunCompareTable;
class RunEvaluator;
class RunsProxyModel;
class RunsTableModel;

class RunsPanel : public QWidget {
  Q_OBJECT
 public:
  explicit RunsPanel(ProjectSession* session, QWidget* parent = nullptr);
  ~RunsPanel() override;

  // Which run this process is training now (-1: none). Deleting that run is refused. Without a query only
  // the stored status warns (a "running" run may be training in mlstudio-cli, or left over from a crash).
  void setTrainingRunQuery(std::function<qint64()> query) { training_run_ = std::move(query); }

  QList<qint64> selectedRuns() const;  // in table order
  qint64 evaluatedRun() const { return evaluated_run_; }  // the run in the "Per-class AP" tab, -1 none
  QString lastMessage() const;

  RunsTableModel* model() const { return model_; }
  RunsProxyModel* proxy() const { return proxy_; }
  QTableView* table() const { return table_; }
  QCheckBox* showAllBox() const { return show_all_; }
  RunComparePlot* comparePlot() const { return curves_; }
  RunCompareTable* compareTable() const { return compare_; }
  ClassApModel* classModel() const { return class_model_; }
  QSortFilterProxyModel* classProxy() const { return class_proxy_; }
  QTableView* classTable() const { return class_table_; }
  PrCurvePlot* prPlot() const { return pr_plot_; }
  QTabWidget* tabs() const { return tabs_; }

 public Q_SLOTS:
  void refresh();  // re-reads the runs, keeping the selection
  void selectRuns(const QList<qint64>& run_ids);
  // Deletes the runs with their metrics, predictions and checkpoint files. Refuses (returns false) while one
  // of them is training here; with confirm, asks first. Tests pass confirm = false.
  bool deleteRuns(const QList<qint64>& run_ids, bool confirm = true);
  void deleteSelected();
  void editNotes(qint64 run_id);  // multi-line editor; the cell edits the first line in place

 private:
  void setUpContextMenu();  // runs_panel_menu.cpp
  void showContextMenu(const QPoint& pos);
  void onProjectOpened();
  void onSelectionChanged();
  void showEvaluation();
  void updateCompare();
  void updatePrCurves();
  void updateHiddenNote();
  void setMessage(const QString& text, bool error = false);

  QPointer<ProjectSession> session_;
  std::function<qint64()> training_run_;
  RunsTableModel* model_;
  RunsProxyModel* proxy_;
  QTableView* table_;
  QCheckBox* show_all_;
  QLabel* hidden_note_;
  QPushButton* delete_;
  QLabel* message_;
  QTabWidget* tabs_;
  RunComparePlot* curves_;
  RunCompareTable* compare_;
  QLabel* eval_info_;
  ClassApModel* class_model_;
  QSortFilterProxyModel* class_proxy_;
  QTableView* class_table_;
  PrCurvePlot* pr_plot_;
  RunEvaluator* evaluator_;
  qint64 evaluated_run_ = -1;
  bool restoring_selection_ = false;
  bool own_edit_ = false;  // a rename or note of ours is being announced: nothing to reload
};

}  // namespace mls
