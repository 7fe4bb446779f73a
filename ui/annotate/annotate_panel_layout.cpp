// AnnotatePanel's widgets and key bindings (layout, shortcuts and when they are active); the behaviour
// lives in annotate_panel.cpp.
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>

#include "annotate/annotate_panel.h"
#include "annotate/focus_keys.h"
#include "annotate/label_palette_model.h"
#include "annotate/palette_chip_delegate.h"
#include "project_session.h"

namespace mls {

namespace {
// Text that may be long (file and class names) must wrap or clip, never widen the dock.
QLabel* flexibleLabel(QWidget* parent) {
  auto* label = new QLabel(parent);
  label->setWordWrap(true);
  label->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
  return label;
}
}  // namespace

// Compact: the panel shares a 1280x720 screen with the image, so rows are merged and nothing is taller
// than it has to be. Only the search box and the palette take focus on a click; every other control leaves
// focus where it was, so keys keep working after it is used.
void AnnotatePanel::buildUi() {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->setSpacing(4);

  auto* progress_row = new QHBoxLayout;
  progress_label_ = new QLabel(this);
  QFont bold = progress_label_->font();
  bold.setBold(true);
  progress_label_->setFont(bold);
  progress_bar_ = new QProgressBar(this);
  progress_bar_->setTextVisible(false);
  progress_bar_->setMaximumHeight(8);
  progress_bar_->setMinimumWidth(40);
  progress_row->addWidget(progress_label_);
  progress_row->addWidget(progress_bar_, 1);
  layout->addLayout(progress_row);

  image_label_ = flexibleLabel(this);
  image_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(image_label_);

  auto* label_row = new QHBoxLayout;
  current_label_ = flexibleLabel(this);
  clear_button_ = new QPushButton(tr("Clear"), this);
  clear_button_->setToolTip(tr("Remove this image's single positive (undoable)"));
  label_row->addWidget(current_label_, 1);
  label_row->addWidget(clear_button_);
  layout->addLayout(label_row);

  suggestion_row_ = new QWidget(this);
  auto* sugg = new QHBoxLayout(suggestion_row_);
  sugg->setContentsMargins(0, 0, 0, 0);
  suggestion_label_ = flexibleLabel(suggestion_row_);
  accept_button_ = new QPushButton(tr("Accept (Enter)"), suggestion_row_);
  accept_button_->setToolTip(tr("Store the model's suggestion as this image's single positive. An image that "
                                "already has a label keeps it unless you confirm."));
  sugg->addWidget(suggestion_label_, 1);
  sugg->addWidget(accept_button_);
  connect(accept_button_, &QPushButton::clicked, this, [this] { acceptSuggestion(); });
  layout->addWidget(suggestion_row_);

  // Ground truth stays hidden unless asked for: seeing it would bias the label the user picks.
  gt_toggle_ = new QCheckBox(tr("Show ground truth"), this);
  gt_toggle_->setChecked(false);
  gt_label_ = flexibleLabel(this);
  gt_label_->setVisible(false);
  connect(gt_toggle_, &QCheckBox::toggled, gt_label_, &QWidget::setVisible);
  layout->addWidget(gt_toggle_);
  layout->addWidget(gt_label_);

  // The number keys, with their numbers on them: full from the start (the first classes, then the most used).
  auto* grid = new QGridLayout;
  grid->setSpacing(2);
  for (int k = 1; k <= QuickLabelSlots::kSlots; ++k) {
    auto* b = new QToolButton(this);
    b->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    b->setMinimumWidth(30);
    b->setToolButtonStyle(Qt::ToolButtonTextOnly);
    b->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(b, &QToolButton::clicked, this, [this, k] { assignQuickKey(k); });
    connect(b, &QWidget::customContextMenuRequested, this,
            [this, k, b](const QPoint& p) { showQuickKeyMenu(k, b->mapToGlobal(p)); });
    grid->addWidget(b, (k - 1) / 3, (k - 1) % 3);
    quick_buttons_.push_back(b);
  }
  layout->addLayout(grid);

  search_ = new QLineEdit(this);
  search_->setClearButtonEnabled(true);
  search_->installEventFilter(this);
  connect(search_, &QLineEdit::textChanged, this, &AnnotatePanel::onSearchTextChanged);
  connect(search_, &QLineEdit::returnPressed, this, [this] { assignSearchMatch(); });
  layout->addWidget(search_);

  palette_view_ = new QListView(this);
  palette_view_->setModel(palette_);
  palette_view_->setViewMode(QListView::ListMode);
  palette_view_->setFlow(QListView::LeftToRight);
  palette_view_->setWrapping(true);
  palette_view_->setResizeMode(QListView::Adjust);
  palette_view_->setSpacing(0);
  palette_view_->setUniformItemSizes(false);
  palette_view_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  palette_view_->setContextMenuPolicy(Qt::CustomContextMenu);
  palette_view_->setMinimumSize(60, 60);
  palette_view_->setItemDelegate(new PaletteChipDelegate(palette_view_));
  palette_view_->setMouseTracking(true);  // hover outline
  connect(palette_view_, &QListView::clicked, this, [this](const QModelIndex& index) {
    const int64_t id = palette_->categoryIdAt(index.row());
    // A click leaves no highlight behind: Enter afterwards means "accept the suggestion", not "this again".
    palette_view_->setCurrentIndex({});
    assignCategory(id);
  });
  connect(palette_view_, &QWidget::customContextMenuRequested, this, &AnnotatePanel::showPaletteMenu);
  layout->addWidget(palette_view_, 1);

  auto* order_row = new QHBoxLayout;
  advance_toggle_ = new QCheckBox(tr("Advance after labelling"), this);
  advance_toggle_->setChecked(true);
  order_combo_ = new QComboBox(this);
  order_combo_->addItem(tr("by id"));
  order_combo_->addItem(tr("most uncertain"));
  order_combo_->setToolTip(tr("The order of every \"next\": D / \u2192 / Next, A / \u2190 / Prev (backwards), S "
                              "and the jump after labelling. \"Most uncertain\" uses the current run's stored "
                              "scores: top score closest to 0.5 first, unscored images after them."));
  connect(order_combo_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int i) { setNextOrder(static_cast<NextOrder>(i)); });
  order_row->addWidget(advance_toggle_);
  order_row->addStretch(1);
  order_row->addWidget(new QLabel(tr("Order:"), this));
  order_row->addWidget(order_combo_);
  layout->addLayout(order_row);
  order_hint_ = flexibleLabel(this);
  order_hint_->setVisible(false);
  layout->addWidget(order_hint_);

  auto* nav = new QHBoxLayout;
  nav->setSpacing(2);
  auto* prev = new QPushButton(tr("\u25C0 Prev (A)"), this);
  auto* next = new QPushButton(tr("Next (D) \u25B6"), this);
  auto* skip = new QPushButton(tr("Unannotated (S)"), this);
  skip->setToolTip(tr("Go to the next unannotated train image without labelling this one"));
  connect(prev, &QPushButton::clicked, this, &AnnotatePanel::goToPreviousImage);
  connect(next, &QPushButton::clicked, this, &AnnotatePanel::goToNextImage);
  connect(skip, &QPushButton::clicked, this, &AnnotatePanel::goToNextUnannotated);
  connect(clear_button_, &QPushButton::clicked, this, [this] { clearLabel(); });
  // Symbols keep the row narrow; what would be undone goes into the tooltip.
  auto* undo = new QToolButton(this);
  undo->setText(QStringLiteral("\u21B6"));
  undo->setEnabled(false);
  connect(undo, &QToolButton::clicked, undo_, &QUndoStack::undo);
  connect(undo_, &QUndoStack::canUndoChanged, undo, &QWidget::setEnabled);
  connect(undo_, &QUndoStack::undoTextChanged, undo,
          [undo](const QString& t) { undo->setToolTip(tr("Undo (Ctrl+Z): %1").arg(t)); });
  auto* redo = new QToolButton(this);
  redo->setText(QStringLiteral("\u21B7"));
  redo->setEnabled(false);
  connect(redo, &QToolButton::clicked, undo_, &QUndoStack::redo);
  connect(undo_, &QUndoStack::canRedoChanged, redo, &QWidget::setEnabled);
  connect(undo_, &QUndoStack::redoTextChanged, redo,
          [redo](const QString& t) { redo->setToolTip(tr("Redo (Ctrl+Shift+Z): %1").arg(t)); });
  nav->addWidget(prev);
  nav->addWidget(next);
  nav->addWidget(skip);
  nav->addStretch(1);
  nav->addWidget(undo);
  nav->addWidget(redo);
  layout->addLayout(nav);

  for (QWidget* w : std::initializer_list<QWidget*>{clear_button_, accept_button_, gt_toggle_, advance_toggle_,
                                                    order_combo_, prev, next, skip, undo, redo})
    w->setFocusPolicy(Qt::TabFocus);
  for (auto* b : {clear_button_, accept_button_, prev, next, skip}) b->setAutoDefault(false);
}

void AnnotatePanel::buildShortcuts() {
  const QString here = tr("Annotate tab");
  auto make = [this](const QKeySequence& key, bool repeat, auto&& slot) {
    auto* s = new QShortcut(key, this);
    s->setContext(Qt::WindowShortcut);
    s->setAutoRepeat(repeat);  // a held key may step through images, never label a run of them
    connect(s, &QShortcut::activated, this, slot);
    shortcuts_.push_back(s);
    return s;
  };
  // One binding row per action, made right where its keys are bound.
  auto add = [&](std::initializer_list<QKeySequence> keys, const QString& action, bool repeat, auto&& slot) {
    QStringList names;
    for (const auto& key : keys) {
      make(key, repeat, slot);
      names << key.toString(QKeySequence::NativeText);
    }
    bindings_.push_back({names.join(QStringLiteral(", ")), action, here});
  };
  add({Qt::Key_D, Qt::Key_Right}, tr("Next image (in the chosen order)"), true, [this] { goToNextImage(); });
  add({Qt::Key_A, Qt::Key_Left}, tr("Previous image (in the chosen order)"), true, [this] { goToPreviousImage(); });
  add({Qt::Key_S}, tr("Next unannotated image"), false, [this] { goToNextUnannotated(); });
  for (int k = 1; k <= QuickLabelSlots::kSlots; ++k) make(Qt::Key_0 + k, false, [this, k] { assignQuickKey(k); });
  bindings_.push_back({QStringLiteral("1 \u2013 9"), tr("Label with the class on that number key"), here});
  QStringList enter_names;
  for (auto key : {Qt::Key_Return, Qt::Key_Enter}) {
    enter_shortcuts_.push_back(make(key, false, [this] { onEnterPressed(); }));
    enter_names << QKeySequence(key).toString(QKeySequence::NativeText);
  }
  bindings_.push_back({enter_names.join(QStringLiteral(", ")),
                       tr("Accept the model's suggestion (asks before replacing a label); in the palette: the "
                          "highlighted class"),
                       here});
  add({Qt::Key_Slash}, tr("Search classes"), false, [this] {
    search_->setFocus(Qt::ShortcutFocusReason);
    search_->selectAll();
  });
  // The search box's own keys (handled in eventFilter and returnPressed).
  const QString box = tr("Class search box");
  bindings_.push_back({tr("Enter"), tr("Label with the highlighted (top) match"), box});
  bindings_.push_back({tr("Down, Up"), tr("Move the highlight"), box});
  bindings_.push_back({tr("Esc"), tr("Clear the search; again: leave the box"), box});
  search_->setPlaceholderText(tr("Search classes (/), Enter assigns the top match"));
  updateShortcutsEnabled();
}

void AnnotatePanel::updateShortcutsEnabled() {
  QWidget* focus = QApplication::focusWidget();
  const bool typing = takesText(focus);
  const bool enter_elsewhere = typing || usesReturn(focus);
  for (auto* s : shortcuts_) s->setEnabled(!typing);
  for (auto* s : enter_shortcuts_) s->setEnabled(!enter_elsewhere);
}

QToolButton* AnnotatePanel::quickKeyButton(int key) const {
  if (key < 1 || key > static_cast<int>(quick_buttons_.size())) return nullptr;
  return quick_buttons_[static_cast<size_t>(key - 1)];
}

// ------------------------------------------------------------------------------------------- session

}  // namespace mls
