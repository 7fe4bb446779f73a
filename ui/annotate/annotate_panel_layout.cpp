// AnnotatePanel's widgets and key bindings (layout, shortcuts and when they are active); the behaviour
// lives in annotate_panel.cpp.
#include <QAbstractSpinBox>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QTextEdit>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>

#include "annotate/annotate_panel.h"
#include "annotate/label_palette_model.h"
#include "annotate/palette_chip_delegate.h"
#include "project_session.h"

namespace mls {

namespace {
// Widgets that take typed text: while one has focus, the panel's single-key shortcuts stay off.
bool takesText(const QWidget* w) {
  if (!w) return false;
  if (qobject_cast<const QLineEdit*>(w) || qobject_cast<const QTextEdit*>(w) ||
      qobject_cast<const QPlainTextEdit*>(w) || qobject_cast<const QAbstractSpinBox*>(w))
    return true;
  if (auto* combo = qobject_cast<const QComboBox*>(w)) return combo->isEditable();
  return false;
}

}  // namespace

void AnnotatePanel::buildUi() {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(6, 6, 6, 6);
  layout->setSpacing(6);

  progress_label_ = new QLabel(this);
  QFont bold = progress_label_->font();
  bold.setBold(true);
  progress_label_->setFont(bold);
  progress_bar_ = new QProgressBar(this);
  progress_bar_->setTextVisible(false);
  progress_bar_->setMaximumHeight(8);
  layout->addWidget(progress_label_);
  layout->addWidget(progress_bar_);

  image_label_ = new QLabel(this);
  image_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  current_label_ = new QLabel(this);
  layout->addWidget(image_label_);
  layout->addWidget(current_label_);

  suggestion_row_ = new QWidget(this);
  auto* sugg = new QHBoxLayout(suggestion_row_);
  sugg->setContentsMargins(0, 0, 0, 0);
  suggestion_label_ = new QLabel(suggestion_row_);
  accept_button_ = new QPushButton(tr("Accept (Enter)"), suggestion_row_);
  accept_button_->setToolTip(tr("Store the model's suggestion as this image's single positive"));
  accept_button_->setAutoDefault(false);
  sugg->addWidget(suggestion_label_, 1);
  sugg->addWidget(accept_button_);
  connect(accept_button_, &QPushButton::clicked, this, [this] { acceptSuggestion(); });
  layout->addWidget(suggestion_row_);

  // Ground truth stays hidden unless asked for: seeing it would bias the label the user picks.
  gt_toggle_ = new QCheckBox(tr("Show ground truth"), this);
  gt_toggle_->setChecked(false);
  gt_label_ = new QLabel(this);
  gt_label_->setWordWrap(true);
  gt_label_->setVisible(false);
  connect(gt_toggle_, &QCheckBox::toggled, gt_label_, &QWidget::setVisible);
  layout->addWidget(gt_toggle_);
  layout->addWidget(gt_label_);

  auto* keys_title = new QLabel(tr("Number keys (pinned \u2605, then recent):"), this);
  layout->addWidget(keys_title);
  auto* grid = new QGridLayout;
  grid->setSpacing(3);
  for (int k = 1; k <= QuickLabelSlots::kSlots; ++k) {
    auto* b = new QToolButton(this);
    b->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
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
  palette_view_->setMinimumHeight(120);
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
  order_combo_->addItem(tr("in order"));
  order_combo_->addItem(tr("most uncertain"));
  order_combo_->setToolTip(tr("Which unannotated train image comes next. \"Most uncertain\" uses the current "
                              "run's stored scores: top score closest to 0.5 first."));
  connect(order_combo_, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int i) { setNextOrder(static_cast<NextOrder>(i)); });
  order_row->addWidget(advance_toggle_);
  order_row->addStretch(1);
  order_row->addWidget(new QLabel(tr("Next:"), this));
  order_row->addWidget(order_combo_);
  layout->addLayout(order_row);
  order_hint_ = new QLabel(this);
  order_hint_->setVisible(false);
  layout->addWidget(order_hint_);

  auto* nav = new QHBoxLayout;
  auto* prev = new QPushButton(tr("\u25C0 Prev (A)"), this);
  auto* next = new QPushButton(tr("Next (D) \u25B6"), this);
  auto* skip = new QPushButton(tr("Unannotated (S)"), this);
  skip->setToolTip(tr("Go to the next unannotated train image without labelling this one"));
  clear_button_ = new QPushButton(tr("Clear label"), this);
  for (auto* b : {prev, next, skip, clear_button_}) {
    b->setAutoDefault(false);
    b->setFocusPolicy(Qt::TabFocus);
  }
  connect(prev, &QPushButton::clicked, this, &AnnotatePanel::goToPreviousImage);
  connect(next, &QPushButton::clicked, this, &AnnotatePanel::goToNextImage);
  connect(skip, &QPushButton::clicked, this, &AnnotatePanel::goToNextUnannotated);
  connect(clear_button_, &QPushButton::clicked, this, [this] { clearLabel(); });
  nav->addWidget(prev);
  nav->addWidget(next);
  nav->addWidget(skip);
  layout->addLayout(nav);

  auto* edit = new QHBoxLayout;
  // Fixed captions keep the panel narrow; what would be undone goes into the tooltip.
  auto* undo = new QToolButton(this);
  undo->setText(tr("Undo"));
  undo->setEnabled(false);
  connect(undo, &QToolButton::clicked, undo_, &QUndoStack::undo);
  connect(undo_, &QUndoStack::canUndoChanged, undo, &QWidget::setEnabled);
  connect(undo_, &QUndoStack::undoTextChanged, undo, [undo](const QString& t) { undo->setToolTip(tr("Undo: %1").arg(t)); });
  auto* redo = new QToolButton(this);
  redo->setText(tr("Redo"));
  redo->setEnabled(false);
  connect(redo, &QToolButton::clicked, undo_, &QUndoStack::redo);
  connect(undo_, &QUndoStack::canRedoChanged, redo, &QWidget::setEnabled);
  connect(undo_, &QUndoStack::redoTextChanged, redo, [redo](const QString& t) { redo->setToolTip(tr("Redo: %1").arg(t)); });
  edit->addWidget(undo);
  edit->addWidget(redo);
  edit->addStretch(1);
  edit->addWidget(clear_button_);
  layout->addLayout(edit);
}

void AnnotatePanel::buildShortcuts() {
  auto add = [this](const QKeySequence& key, auto&& slot) {
    auto* s = new QShortcut(key, this);
    s->setContext(Qt::WindowShortcut);
    s->setAutoRepeat(false);  // a held key must not label a run of images
    connect(s, &QShortcut::activated, this, slot);
    shortcuts_.push_back(s);
    return s;
  };
  add(QKeySequence(Qt::Key_D), [this] { goToNextImage(); })->setAutoRepeat(true);
  add(QKeySequence(Qt::Key_Right), [this] { goToNextImage(); })->setAutoRepeat(true);
  add(QKeySequence(Qt::Key_A), [this] { goToPreviousImage(); })->setAutoRepeat(true);
  add(QKeySequence(Qt::Key_Left), [this] { goToPreviousImage(); })->setAutoRepeat(true);
  add(QKeySequence(Qt::Key_S), [this] { goToNextUnannotated(); });
  add(QKeySequence(Qt::Key_Return), [this] { onEnterPressed(); });
  add(QKeySequence(Qt::Key_Enter), [this] { onEnterPressed(); });
  add(QKeySequence(Qt::Key_Slash), [this] {
    search_->setFocus(Qt::ShortcutFocusReason);
    search_->selectAll();
  });
  for (int k = 1; k <= QuickLabelSlots::kSlots; ++k)
    add(QKeySequence(Qt::Key_0 + k), [this, k] { assignQuickKey(k); });
  search_->setPlaceholderText(tr("Search classes (/), Enter assigns the top match"));
  updateShortcutsEnabled();
}

void AnnotatePanel::updateShortcutsEnabled() {
  const bool typing = takesText(QApplication::focusWidget());
  for (auto* s : shortcuts_) s->setEnabled(!typing);
}

QToolButton* AnnotatePanel::quickKeyButton(int key) const {
  if (key < 1 || key > static_cast<int>(quick_buttons_.size())) return nullptr;
  return quick_buttons_[static_cast<size_t>(key - 1)];
}

// ------------------------------------------------------------------------------------------- session

}  // namespace mls
