#include "annotate/annotate_panel.h"

#include <QAbstractSpinBox>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QShortcut>
#include <QTextEdit>
#include <QToolButton>
#include <QUndoStack>
#include <QVBoxLayout>
#include <algorithm>

#include "annotate/focus_keys.h"
#include "annotate/label_palette_model.h"
#include "annotate/palette_chip_delegate.h"
#include "annotate/set_single_positive_command.h"
#include "annotate/uncertainty_ranking.h"
#include "data/store/project_store.h"
#include "project_session.h"

namespace mls {

namespace {
const char* const kPinnedMetaKey = "annotate.pinned";
constexpr int kQuickKeyNameWidth = 84;  // px: three key buttons fit a ~300 px wide panel

ImageFilter trainFilter(std::optional<bool> annotated = std::nullopt) {
  ImageFilter f;
  f.split = Split::Train;
  f.annotated = annotated;
  return f;
}

// Enter and Escape both keep the label: a second Enter pressed out of habit must not replace it.
bool askToReplace(QWidget* parent, const QString& title, const QString& question) {
  QMessageBox box(QMessageBox::Question, title, question, QMessageBox::NoButton, parent);
  box.setTextFormat(Qt::RichText);
  QPushButton* replace = box.addButton(QObject::tr("Replace"), QMessageBox::DestructiveRole);
  QPushButton* keep = box.addButton(QObject::tr("Keep my label"), QMessageBox::RejectRole);
  box.setDefaultButton(keep);
  box.setEscapeButton(keep);
  box.exec();
  return box.clickedButton() == replace;
}

QString sourceText(AnnotationSource s) {
  switch (s) {
    case AnnotationSource::User: return QObject::tr("by you");
    case AnnotationSource::Generated: return QObject::tr("generated");
    case AnnotationSource::AcceptedSuggestion: return QObject::tr("accepted suggestion");
  }
  return {};
}
}  // namespace

AnnotatePanel::AnnotatePanel(ProjectSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  undo_ = new QUndoStack(this);
  palette_ = new LabelPaletteModel(this);
  ranking_watcher_ = new QFutureWatcher<UncertaintyOrder>(this);
  confirm_ = [this](const QString& title, const QString& question) { return askToReplace(this, title, question); };
  connect(ranking_watcher_, &QFutureWatcherBase::finished, this, &AnnotatePanel::onRankingFinished);
  buildUi();
  buildShortcuts();
  connect(session_, &ProjectSession::projectOpened, this, &AnnotatePanel::onProjectOpened);
  connect(session_, &ProjectSession::currentImageChanged, this, &AnnotatePanel::onCurrentImageChanged);
  connect(session_, &ProjectSession::annotationChanged, this, &AnnotatePanel::onAnnotationChanged);
  connect(session_, &ProjectSession::currentRunChanged, this, &AnnotatePanel::onRunChanged);
  connect(session_, &ProjectSession::runsChanged, this, &AnnotatePanel::onRunChanged);
  focus_connection_ = connect(qApp, &QApplication::focusChanged, this, &AnnotatePanel::updateShortcutsEnabled);
  if (session_->isOpen()) onProjectOpened();
  else refreshImage();
}

AnnotatePanel::~AnnotatePanel() {
  // ~QWidget deletes the shortcuts and then still moves focus: stop listening first.
  disconnect(focus_connection_);
  shortcuts_.clear();
  // The ranking worker holds its own connection to the project file; let it finish before the panel goes.
  ranking_watcher_->waitForFinished();
}


void AnnotatePanel::onProjectOpened() {
  undo_->clear();  // commands refer to the previous project's images
  palette_->setCategories(session_->categories());
  slots_.clear();
  if (auto* store = session_->store()) {
    try {
      slots_.setPinnedList(QuickLabelSlots::decode(store->meta(kPinnedMetaKey).value_or("")));
    } catch (const std::exception& e) {
      report(QString::fromUtf8(e.what()));
    }
  }
  // Drop pins of classes this project does not have.
  for (int64_t id : std::vector<int64_t>(slots_.pinned()))
    if (!session_->categoryById(id)) slots_.setPinned(id, false);
  search_->clear();
  search_->setPlaceholderText(tr("Search %1 classes (/), Enter assigns the top match").arg(palette_->totalCategories()));
  const auto uses = reloadAnnotatedSet();
  // Number keys work from the first image: the first classes, or on a reopened project the most used ones.
  std::vector<int64_t> classes;
  for (const auto& c : session_->categories()) classes.push_back(c.id);
  slots_.seed(classes, uses);
  ranking_ = {};
  ranking_ready_ = false;
  ranking_run_ = -1;
  ++ranking_generation_;
  refreshQuickKeys();
  refreshImage();
  if (order_ == NextOrder::MostUncertain) startRanking();
}

std::unordered_map<int64_t, int64_t> AnnotatePanel::reloadAnnotatedSet() {
  annotated_train_.clear();
  train_total_ = 0;
  std::unordered_map<int64_t, int64_t> uses;
  if (auto* store = session_->store()) {
    try {
      for (const auto& [image_id, sp] : store->singlePositives(Split::Train)) {
        annotated_train_.insert(image_id);
        ++uses[sp.category_id];
      }
      train_total_ = store->countImages(trainFilter());
    } catch (const std::exception& e) {
      report(QString::fromUtf8(e.what()));
    }
  }
  refreshProgress();
  return uses;
}

void AnnotatePanel::onCurrentImageChanged() { refreshImage(); }

void AnnotatePanel::onAnnotationChanged(qint64 image_id) {
  auto* store = session_->store();
  if (!store) return;
  if (image_id < 0) {
    reloadAnnotatedSet();  // "many changed" (e.g. generated positives written in bulk)
  } else {
    try {
      const auto image = store->image(image_id);
      if (image && image->split == Split::Train) {
        if (store->singlePositive(image_id))
          annotated_train_.insert(image_id);
        else
          annotated_train_.erase(image_id);
      }
    } catch (const std::exception& e) {
      report(QString::fromUtf8(e.what()));
    }
    refreshProgress();
  }
  if (image_id < 0 || image_id == session_->currentImage()) refreshImage();
}

void AnnotatePanel::onRunChanged() {
  // New or finished runs may bring new scores: rank again when needed, refresh the suggestion now.
  ranking_ = {};
  ranking_ready_ = false;
  ranking_run_ = -1;
  ++ranking_generation_;
  if (order_ == NextOrder::MostUncertain) startRanking();
  refreshImage();
}

// -------------------------------------------------------------------------------------------- display

QString AnnotatePanel::categoryName(int64_t category_id) const {
  const Category* c = session_->categoryById(category_id);
  return c ? QString::fromStdString(c->name) : tr("unknown class %1").arg(category_id);
}

QString AnnotatePanel::progressText() const {
  return tr("%1 / %2 annotated").arg(annotated_train_.size()).arg(train_total_);
}

void AnnotatePanel::refreshProgress() {
  progress_label_->setText(progressText());
  progress_bar_->setRange(0, static_cast<int>(std::max<int64_t>(train_total_, 1)));
  progress_bar_->setValue(static_cast<int>(annotated_train_.size()));
}

QString AnnotatePanel::currentLabelText() const { return current_label_->text(); }
QString AnnotatePanel::groundTruthText() const { return gt_label_->text(); }
bool AnnotatePanel::groundTruthVisible() const { return gt_toggle_->isChecked() && !gt_label_->isHidden(); }
QString AnnotatePanel::suggestionText() const { return suggestion_ ? suggestion_label_->text() : QString(); }

void AnnotatePanel::refreshImage() {
  auto* store = session_->store();
  const int64_t id = session_->currentImage();
  std::optional<ImageRecord> image;
  std::optional<SinglePositive> sp;
  std::vector<int64_t> truth;
  if (store && id >= 0) {
    try {
      image = store->image(id);
      if (image) {
        sp = store->singlePositive(id);
        truth = store->labelsOf(id);
      }
    } catch (const std::exception& e) {
      report(QString::fromUtf8(e.what()));
    }
  }
  if (!image) {
    image_label_->setText(store ? tr("No image selected. Press D or S to start.") : tr("No project open."));
    current_label_->setText(tr("Label: \u2014"));
    gt_label_->setText(QString());
    palette_->setCurrentCategory(std::nullopt);
    clear_button_->setEnabled(false);
    refreshSuggestion(-1);
    return;
  }
  image_label_->setText(tr("<b>%1</b> &nbsp;(%2, id %3)")
                            .arg(QString::fromStdString(image->file_name).toHtmlEscaped(),
                                 QString::fromLatin1(splitName(image->split)))
                            .arg(image->id));
  if (image->split != Split::Train)
    current_label_->setText(tr("Label: \u2014 (single positives are for train images)"));
  else if (sp)
    current_label_->setText(tr("Label: %1 (%2)").arg(categoryName(sp->category_id), sourceText(sp->source)));
  else
    current_label_->setText(tr("Label: \u2014 (not annotated)"));
  palette_->setCurrentCategory(sp ? std::optional<int64_t>(sp->category_id) : std::nullopt);
  clear_button_->setEnabled(sp.has_value());

  QStringList names;
  for (int64_t c : truth) names << categoryName(c);
  gt_label_->setText(tr("Ground truth: %1").arg(names.isEmpty() ? tr("none") : names.join(QStringLiteral(", "))));
  refreshSuggestion(image->split == Split::Train ? id : -1);
  // Say up front that accepting would replace a label (and will ask), rather than only in the dialog.
  const bool replaces = suggestion_ && sp && sp->category_id != *suggestion_;
  accept_button_->setText(replaces ? tr("Replace\u2026 (Enter)") : tr("Accept (Enter)"));
}

void AnnotatePanel::refreshSuggestion(int64_t image_id) {
  suggestion_.reset();
  suggestion_score_ = 0;
  auto* store = session_->store();
  const int64_t run = session_->currentRun();
  if (store && image_id >= 0 && run >= 0) {
    try {
      if (const auto scores = store->predictions(run, image_id); scores && !scores->empty()) {
        const auto top = std::max_element(scores->begin(), scores->end());
        if (const Category* c = session_->categoryByIdx(static_cast<int>(top - scores->begin()))) {
          suggestion_ = c->id;
          suggestion_score_ = *top;
        }
      }
    } catch (const std::exception& e) {
      report(QString::fromUtf8(e.what()));
    }
  }
  if (suggestion_)
    suggestion_label_->setText(tr("Suggestion: <b>%1</b> (%2)")
                                   .arg(categoryName(*suggestion_).toHtmlEscaped())
                                   .arg(static_cast<double>(suggestion_score_), 0, 'f', 2));
  suggestion_row_->setVisible(suggestion_.has_value());
  palette_->setSuggestedCategory(suggestion_);
}

void AnnotatePanel::refreshQuickKeys() {
  const auto keys = slots_.slotCategories();
  for (int k = 1; k <= QuickLabelSlots::kSlots; ++k) {
    auto* b = quick_buttons_[static_cast<size_t>(k - 1)];
    if (k <= static_cast<int>(keys.size())) {
      const int64_t id = keys[static_cast<size_t>(k - 1)];
      const bool pinned = slots_.isPinned(id);
      // Elided so a long class name cannot widen the panel; the tooltip has it whole.
      const QString name = b->fontMetrics().elidedText(categoryName(id), Qt::ElideMiddle, kQuickKeyNameWidth);
      b->setText(QStringLiteral("%1  %2%3").arg(k).arg(pinned ? QStringLiteral("\u2605 ") : QString(), name));
      b->setToolTip(tr("Key %1: label as %2%3")
                        .arg(k)
                        .arg(categoryName(id), pinned ? tr(" (pinned; right-click to unpin)")
                                                      : tr(" (right-click to pin it to this key)")));
      b->setEnabled(true);
    } else {
      b->setText(QStringLiteral("%1  \u2014").arg(k));
      b->setToolTip(tr("Key %1: free. Pin a class (right-click it) or use one to fill this key.").arg(k));
      b->setEnabled(false);
    }
  }
  palette_->setQuickKeys(keys, slots_.pinned());
}

void AnnotatePanel::report(const QString& message) { Q_EMIT errorOccurred(message); }

// ------------------------------------------------------------------------------------------ labelling

bool AnnotatePanel::assignCategory(int64_t category_id, AnnotationSource source) {
  auto* store = session_->store();
  const int64_t image_id = session_->currentImage();
  if (!store || image_id < 0) {
    Q_EMIT statusMessage(tr("Select an image first."));
    return false;
  }
  if (!session_->categoryById(category_id)) return false;
  std::optional<SinglePositive> before;
  QString file_name;
  try {
    const auto image = store->image(image_id);
    if (image) file_name = QString::fromStdString(image->file_name);
    if (!image || image->split != Split::Train) {
      Q_EMIT statusMessage(tr("Single positives are stored for train images only."));
      return false;
    }
    before = store->singlePositive(image_id);
  } catch (const std::exception& e) {
    report(QString::fromUtf8(e.what()));
    return false;
  }
  const bool unchanged = before && before->category_id == category_id && before->source == source;
  if (!unchanged) {
    last_write_failed_ = false;
    const auto text = tr("label %1 as %2").arg(file_name, categoryName(category_id));
    undo_->push(new SetSinglePositiveCommand(session_, image_id, before, category_id, source, text,
                                             [this](const QString& message) {
                                               last_write_failed_ = true;
                                               report(tr("The label was not stored: %1").arg(message));
                                             }));
    if (last_write_failed_) return false;
  }
  slots_.use(category_id);
  refreshQuickKeys();
  if (advance_toggle_->isChecked()) goToNextUnannotated();
  return true;
}

bool AnnotatePanel::assignQuickKey(int key) {
  const int64_t id = slots_.categoryForKey(key);
  return id >= 0 && assignCategory(id);
}

bool AnnotatePanel::assignSearchMatch() {
  const QModelIndex highlighted = palette_view_->currentIndex();
  // Enter in the search box labels with a class the user typed, never with the model's suggestion.
  if (search_->text().trimmed().isEmpty() && !highlighted.isValid()) {
    Q_EMIT statusMessage(tr("Type part of a class name, then Enter. (Esc leaves the search box.)"));
    return false;
  }
  const int row = highlighted.isValid() ? highlighted.row() : 0;
  const int64_t id = palette_->categoryIdAt(row);
  if (id < 0) {
    Q_EMIT statusMessage(tr("No class matches \"%1\".").arg(search_->text()));
    return false;
  }
  const bool stored = assignCategory(id);
  if (stored) {
    search_->clear();
    // Hand the keys back: the next number key or A/D must label or move, not type into the box ("/" returns).
    // The panel, not the palette: a palette given focus by the keyboard highlights its first class, which
    // the next Enter would then store instead of accepting the suggestion.
    setFocus(Qt::OtherFocusReason);
  }
  return stored;
}

bool AnnotatePanel::acceptSuggestion() {
  if (!suggestion_) {
    Q_EMIT statusMessage(tr("No suggestion for this image (the current run has no stored scores for it)."));
    return false;
  }
  std::optional<SinglePositive> current;
  try {
    if (auto* store = session_->store(); store && session_->currentImage() >= 0)
      current = store->singlePositive(session_->currentImage());
  } catch (const std::exception& e) {
    report(QString::fromUtf8(e.what()));
    return false;
  }
  if (current && current->category_id == *suggestion_) {
    // Nothing to replace: the suggestion agrees, so Enter just moves on as a click on the same class would.
    Q_EMIT statusMessage(tr("Already labelled %1.").arg(categoryName(current->category_id)));
    if (advance_toggle_->isChecked()) goToNextUnannotated();
    return false;
  }
  if (current) {
    const QString question =
        tr("This image is already labelled <b>%1</b> (%2).<p>Replace it with the model's suggestion <b>%3</b>?")
            .arg(categoryName(current->category_id).toHtmlEscaped(), sourceText(current->source),
                 categoryName(*suggestion_).toHtmlEscaped());
    if (!confirm_(tr("Replace label?"), question)) {
      Q_EMIT statusMessage(tr("Kept the label %1.").arg(categoryName(current->category_id)));
      return false;
    }
  }
  return assignCategory(*suggestion_, AnnotationSource::AcceptedSuggestion);
}

bool AnnotatePanel::clearLabel() {
  auto* store = session_->store();
  const int64_t image_id = session_->currentImage();
  if (!store || image_id < 0) return false;
  std::optional<SinglePositive> before;
  try {
    before = store->singlePositive(image_id);
  } catch (const std::exception& e) {
    report(QString::fromUtf8(e.what()));
    return false;
  }
  if (!before) return false;
  last_write_failed_ = false;
  undo_->push(new SetSinglePositiveCommand(session_, image_id, before, std::nullopt, AnnotationSource::User,
                                           tr("clear the label of image %1").arg(image_id),
                                           [this](const QString& message) {
                                             last_write_failed_ = true;
                                             report(tr("The label was not cleared: %1").arg(message));
                                           }));
  return !last_write_failed_;
}

void AnnotatePanel::onEnterPressed() {
  // The shortcut is already off while such a widget has focus; checked again in case focus moved without
  // a focusChanged (a popup, a window switch).
  if (usesReturn(QApplication::focusWidget())) return;
  // Enter on a highlighted palette entry labels with it; anywhere else it accepts the suggestion.
  if (palette_view_->hasFocus() && palette_view_->currentIndex().isValid()) {
    assignCategory(palette_->categoryIdAt(palette_view_->currentIndex().row()));
    return;
  }
  acceptSuggestion();
}

// --------------------------------------------------------------------------------- search and menus

void AnnotatePanel::onSearchTextChanged(const QString& text) {
  palette_->setFilterText(text);
  // Highlight the top match so Enter visibly takes it; no highlight without a query.
  if (!text.trimmed().isEmpty() && palette_->rowCount() > 0)
    palette_view_->setCurrentIndex(palette_->index(0));
  else
    palette_view_->setCurrentIndex({});
}

void AnnotatePanel::moveSearchHighlight(int delta) {
  const int rows = palette_->rowCount();
  if (rows == 0) return;
  const QModelIndex current = palette_view_->currentIndex();
  const int row = std::clamp(current.isValid() ? current.row() + delta : 0, 0, rows - 1);
  palette_view_->setCurrentIndex(palette_->index(row));
}

bool AnnotatePanel::eventFilter(QObject* watched, QEvent* event) {
  if (watched == search_ && event->type() == QEvent::KeyPress) {
    auto* key = static_cast<QKeyEvent*>(event);
    switch (key->key()) {
      case Qt::Key_Down: moveSearchHighlight(+1); return true;
      case Qt::Key_Up: moveSearchHighlight(-1); return true;
      case Qt::Key_Escape:
        // First Escape clears the query, a second hands the keys back to the shortcuts.
        if (!search_->text().isEmpty()) search_->clear();
        else setFocus(Qt::OtherFocusReason);  // not the palette: see assignSearchMatch
        return true;
      default: break;
    }
  }
  return QWidget::eventFilter(watched, event);
}

void AnnotatePanel::setPinned(int64_t category_id, bool pinned) {
  if (!session_->categoryById(category_id)) return;
  if (!slots_.setPinned(category_id, pinned)) {
    Q_EMIT statusMessage(tr("All nine number keys are pinned; unpin one first."));
    return;
  }
  savePinned();
  refreshQuickKeys();
}

void AnnotatePanel::savePinned() {
  auto* store = session_->store();
  if (!store) return;
  try {
    store->setMeta(kPinnedMetaKey, QuickLabelSlots::encode(slots_.pinned()));
  } catch (const std::exception& e) {
    report(QString::fromUtf8(e.what()));
  }
}

void AnnotatePanel::showPaletteMenu(const QPoint& pos) {
  const QModelIndex index = palette_view_->indexAt(pos);
  if (!index.isValid()) return;
  const int64_t id = palette_->categoryIdAt(index.row());
  QMenu menu(this);
  const bool pinned = slots_.isPinned(id);
  menu.addAction(pinned ? tr("Unpin from number key") : tr("Pin to a number key"),
                 [this, id, pinned] { setPinned(id, !pinned); });
  menu.addAction(tr("Label current image as %1").arg(categoryName(id)), [this, id] { assignCategory(id); });
  menu.exec(palette_view_->viewport()->mapToGlobal(pos));
}

void AnnotatePanel::showQuickKeyMenu(int key, const QPoint& global_pos) {
  const int64_t id = slots_.categoryForKey(key);
  if (id < 0) return;
  QMenu menu(this);
  const bool pinned = slots_.isPinned(id);
  menu.addAction(pinned ? tr("Unpin %1").arg(categoryName(id)) : tr("Pin %1").arg(categoryName(id)),
                 [this, id, pinned] { setPinned(id, !pinned); });
  menu.exec(global_pos);
}

}  // namespace mls
