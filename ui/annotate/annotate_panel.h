// The Annotate dock tab: a searchable label palette for 100+ classes, number keys for pinned and recent
// classes, one click (or key) stores the current train image's single positive and moves on to the next
// unannotated one, undo/redo, the "n / N annotated" count, hidden-by-default ground truth, and the current
// run's suggestion (accepted with Enter; replacing an existing label needs a confirm) with an optional
// "most uncertain first" order that drives every "next" and "previous".
#pragma once
#include <QFutureWatcher>
#include <QWidget>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "annotate/quick_label_slots.h"
#include "annotate/uncertainty_ranking.h"
#include "help/key_binding.h"
#include "data/store/project_types.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QProgressBar;
class QPushButton;
class QShortcut;
class QToolButton;
class QUndoStack;

namespace mls {
class LabelPaletteModel;
class ProjectSession;

class AnnotatePanel : public QWidget {
  Q_OBJECT
 public:
  enum class NextOrder { InOrder = 0, MostUncertain = 1 };

  explicit AnnotatePanel(ProjectSession* session, QWidget* parent = nullptr);
  ~AnnotatePanel() override;

  // The main window puts undoStack()->createUndoAction/createRedoAction into its Edit menu (Ctrl+Z);
  // the panel itself binds no Ctrl+Z so the two never clash.
  QUndoStack* undoStack() const { return undo_; }

  // --- labelling (what clicks and keys do); false when nothing was stored
  bool assignCategory(int64_t category_id, AnnotationSource source = AnnotationSource::User);
  bool assignQuickKey(int key);  // 1..9
  bool assignSearchMatch();      // the highlighted row of the filtered palette (the top match by default)
  // Stores the suggestion. An image that already has a different label keeps it unless the confirm
  // function (a dialog by default) says yes: the model never silently overwrites what someone chose.
  bool acceptSuggestion();
  bool clearLabel();
  // Asked before a suggestion replaces a label; returns true to replace. Tests inject their own.
  using ConfirmFunction = std::function<bool(const QString& title, const QString& question)>;
  void setConfirmFunction(ConfirmFunction confirm) { confirm_ = std::move(confirm); }

  // --- navigation (train split; wraps around). In "most uncertain" order, once the ranking is ready, next /
  // previous walk the ranked images first and the unscored ones after them in id order.
  void goToNextImage();
  void goToPreviousImage();
  std::optional<int64_t> neighbourInOrder(int64_t current, bool forward);  // what D (forward) / A would pick
  void goToNextUnannotated();                           // in the chosen order
  std::optional<int64_t> nextUnannotated(int64_t after);  // what goToNextUnannotated would pick

  // --- number keys: pinned classes first, then the most used (the first classes on a fresh project)
  void setPinned(int64_t category_id, bool pinned);
  std::vector<int64_t> quickKeyCategories() const { return slots_.slotCategories(); }

  void setAdvanceAfterLabelling(bool on);
  void setNextOrder(NextOrder order);
  bool uncertaintyRankingReady() const { return ranking_ready_; }
  const std::vector<int64_t>& uncertaintyRanking() const { return ranking_.ranked; }

  // --- state, for the main window and tests (shortcuts are Qt::WindowShortcut, so keys work while the image
  // view has focus; every key is off while a text field has focus)
  int trainImages() const { return static_cast<int>(train_total_); }
  QString progressText() const;
  QString currentLabelText() const;
  QString groundTruthText() const;
  bool groundTruthVisible() const;
  std::optional<int64_t> suggestedCategory() const { return suggestion_; }
  float suggestedScore() const { return suggestion_score_; }
  QString suggestionText() const;
  QLineEdit* searchBox() const { return search_; }
  QListView* paletteView() const { return palette_view_; }
  LabelPaletteModel* paletteModel() const { return palette_; }
  QCheckBox* groundTruthToggle() const { return gt_toggle_; }
  QToolButton* quickKeyButton(int key) const;  // 1..9
  // Every key the panel binds, recorded as the shortcuts are made (for Help > Keyboard shortcuts).
  const std::vector<KeyBinding>& keyBindings() const { return bindings_; }

 Q_SIGNALS:
  void errorOccurred(const QString& message);  // a write failed; the label was not stored
  void statusMessage(const QString& message);  // "all train images annotated" and the like

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;

 private:
  void buildUi();
  void buildShortcuts();
  void onProjectOpened();
  void onCurrentImageChanged();
  void onAnnotationChanged(qint64 image_id);
  void onRunChanged();
  std::unordered_map<int64_t, int64_t> reloadAnnotatedSet();  // returns how often each class is used
  void refreshImage();
  void refreshProgress();
  void refreshQuickKeys();
  void refreshSuggestion(int64_t image_id);
  void updateShortcutsEnabled();
  void onSearchTextChanged(const QString& text);
  void moveSearchHighlight(int delta);
  void onEnterPressed();
  void showPaletteMenu(const QPoint& pos);
  void showQuickKeyMenu(int key, const QPoint& global_pos);
  void savePinned();
  void startRanking();
  void onRankingFinished();
  void report(const QString& message);
  QString categoryName(int64_t category_id) const;

  ProjectSession* session_;
  QUndoStack* undo_ = nullptr;
  LabelPaletteModel* palette_ = nullptr;
  QuickLabelSlots slots_;

  // Train-split bookkeeping, kept in memory so a click costs only the write plus one indexed query.
  std::unordered_set<int64_t> annotated_train_;
  int64_t train_total_ = 0;

  std::optional<int64_t> suggestion_;
  float suggestion_score_ = 0;

  NextOrder order_ = NextOrder::InOrder;
  UncertaintyOrder ranking_;
  bool ranking_ready_ = false;
  int64_t ranking_run_ = -1;
  int ranking_generation_ = 0;
  QFutureWatcher<UncertaintyOrder>* ranking_watcher_ = nullptr;
  ConfirmFunction confirm_;
  bool last_write_failed_ = false;

  // widgets
  QLabel* progress_label_ = nullptr;
  QProgressBar* progress_bar_ = nullptr;
  QLabel* image_label_ = nullptr;
  QLabel* current_label_ = nullptr;
  QLabel* suggestion_label_ = nullptr;
  QPushButton* accept_button_ = nullptr;
  QWidget* suggestion_row_ = nullptr;
  QCheckBox* gt_toggle_ = nullptr;
  QLabel* gt_label_ = nullptr;
  std::vector<QToolButton*> quick_buttons_;
  QLineEdit* search_ = nullptr;
  QListView* palette_view_ = nullptr;
  QCheckBox* advance_toggle_ = nullptr;
  QComboBox* order_combo_ = nullptr;
  QLabel* order_hint_ = nullptr;
  QPushButton* clear_button_ = nullptr;
  std::vector<QShortcut*> shortcuts_;
  std::vector<QShortcut*> enter_shortcuts_;  // also off while the focus widget uses Return itself
  std::vector<KeyBinding> bindings_;
  QMetaObject::Connection focus_connection_;
};

}  // namespace mls
