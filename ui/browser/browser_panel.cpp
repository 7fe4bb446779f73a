#include "browser/browser_panel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QTimer>
#include <QVBoxLayout>

#include "browser/label_state.h"
#include "browser/thumbnail_delegate.h"
#include "browser/thumbnail_model.h"
#include "data/store/project_store.h"
#include "project_session.h"

namespace mls {

BrowserPanel::BrowserPanel(ProjectSession* session, QWidget* parent) : QWidget(parent), session_(session) {
  model_ = new ThumbnailModel(this);
  view_ = new QListView(this);
  view_->setViewMode(QListView::IconMode);
  view_->setResizeMode(QListView::Adjust);
  view_->setMovement(QListView::Static);
  view_->setUniformItemSizes(true);
  view_->setItemDelegate(new ThumbnailDelegate(view_));
  view_->setIconSize(QSize(ThumbnailDelegate::kIconPx, ThumbnailDelegate::kIconPx));
  view_->setGridSize(ThumbnailDelegate::cellSize(view_->fontMetrics()));
  view_->setLayoutMode(QListView::Batched);
  view_->setBatchSize(200);
  view_->setSelectionMode(QAbstractItemView::SingleSelection);
  view_->setModel(model_);

  split_ = new QComboBox(this);
  split_->addItems({tr("all"), QStringLiteral("train"), QStringLiteral("val"), QStringLiteral("test")});
  split_->setToolTip(tr("Split"));
  annotated_ = new QComboBox(this);
  annotated_->addItems({tr("any"), tr("annotated"), tr("not annotated")});
  annotated_->setToolTip(tr("Has a single positive"));
  category_ = new QComboBox(this);
  category_->setToolTip(tr("Class"));
  category_source_ = new QComboBox(this);
  category_source_->addItems({tr("in ground truth"), tr("as single positive")});
  // Narrow enough that the dock leaves the image its room on a 1280 px screen; the popups show full texts.
  for (auto* combo : {annotated_, category_, category_source_}) {
    combo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    combo->setMinimumContentsLength(7);
  }
  category_source_->setMinimumContentsLength(14);  // "in ground truth" stays readable
  search_ = new QLineEdit(this);
  search_->setPlaceholderText(tr("Search file names…"));
  search_->setClearButtonEnabled(true);
  count_ = new QLabel(this);
  legend_ = new QLabel(legendText(), this);
  legend_->setWordWrap(true);
  legend_->setToolTip(tr("Thumbnail marks: border and badge colour say how the image is labelled; the strip at "
                         "the bottom shows the current run's top class where it differs from the label."));
  search_delay_ = new QTimer(this);
  search_delay_->setSingleShot(true);
  search_delay_->setInterval(250);

  auto* row1 = new QHBoxLayout;
  row1->addWidget(split_);
  row1->addWidget(annotated_, 1);
  row1->addWidget(category_, 2);
  auto* row2 = new QHBoxLayout;
  row2->addWidget(category_source_, 1);
  row2->addWidget(search_, 2);
  row2->addWidget(count_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(row1);
  layout->addLayout(row2);
  layout->addWidget(legend_);
  layout->addWidget(view_, 1);

  for (auto* combo : {split_, annotated_, category_, category_source_})
    connect(combo, &QComboBox::currentIndexChanged, this, &BrowserPanel::applyFilter);
  connect(search_, &QLineEdit::textChanged, search_delay_, qOverload<>(&QTimer::start));
  connect(search_delay_, &QTimer::timeout, this, &BrowserPanel::applyFilter);
  connect(view_->selectionModel(), &QItemSelectionModel::currentChanged, this, [this](const QModelIndex& index) {
    if (selecting_ || !index.isValid()) return;
    session_->setCurrentImage(model_->imageIdAt(index.row()));
  });
  connect(session_, &ProjectSession::projectOpened, this, &BrowserPanel::projectOpened);
  connect(session_, &ProjectSession::currentImageChanged, this, &BrowserPanel::selectImage);
  connect(session_, &ProjectSession::currentRunChanged, this, [this](qint64 run) { model_->setRun(run); });
  // A finished run may have stored new scores for the current run.
  connect(session_, &ProjectSession::runsChanged, this, [this] { model_->setRun(session_->currentRun()); });
  connect(session_, &ProjectSession::annotationChanged, this, [this](qint64 image_id) {
    model_->refreshAnnotation(image_id);
    // Only filters that depend on annotations need a refresh.
    const auto f = filter();
    if (f.annotated || (f.category_id && !f.category_in_ground_truth)) applyFilter();
  });
  auto updateCount = [this] { count_->setText(tr("%n image(s)", nullptr, model_->totalCount())); };
  connect(model_, &QAbstractItemModel::modelReset, this, updateCount);
}

QString BrowserPanel::legendText() {
  QStringList parts;
  for (auto state : {LabelState::User, LabelState::Generated, LabelState::AcceptedSuggestion, LabelState::Unlabelled})
    parts << QStringLiteral("<span style=\"color:%1\">%2</span>&nbsp;%3")
                 .arg(labelStateColor(state).name(),
                      state == LabelState::Unlabelled ? QStringLiteral("\u25CB") : QStringLiteral("\u25A0"),
                      labelStateText(state).toHtmlEscaped());
  parts << tr("\u2192&nbsp;model suggests");
  return QStringLiteral("<small>%1</small>").arg(parts.join(QStringLiteral(" &nbsp; ")));
}

void BrowserPanel::rebuildCategoryCombo() {
  const QSignalBlocker block(category_);
  category_->clear();
  category_->addItem(tr("any class"), QVariant::fromValue<qint64>(-1));
  for (const auto& c : session_->categories())
    category_->addItem(QString::fromStdString(c.name), QVariant::fromValue<qint64>(c.id));
}

void BrowserPanel::projectOpened() {
  rebuildCategoryCombo();
  model_->setProject(session_->path());
  model_->setRun(session_->currentRun());
  applyFilter();
}

ImageFilter BrowserPanel::filter() const {
  ImageFilter f;
  if (split_->currentIndex() > 0) f.split = parseSplit(split_->currentText().toStdString());
  if (annotated_->currentIndex() == 1) f.annotated = true;
  if (annotated_->currentIndex() == 2) f.annotated = false;
  const qint64 cat = category_->currentData().toLongLong();
  if (category_->currentIndex() > 0 && cat >= 0) f.category_id = cat;
  f.category_in_ground_truth = category_source_->currentIndex() == 0;
  f.name_contains = search_->text().trimmed().toStdString();
  return f;
}

void BrowserPanel::setFilterControls(const QString& split, const QString& annotated, qint64 category_id,
                                     bool ground_truth, const QString& search) {
  const QSignalBlocker b1(split_), b2(annotated_), b3(category_), b4(category_source_), b5(search_);
  split_->setCurrentIndex(split == QLatin1String("all") ? 0 : split_->findText(split));
  annotated_->setCurrentIndex(annotated == QLatin1String("yes") ? 1 : annotated == QLatin1String("no") ? 2 : 0);
  const int ci = category_->findData(QVariant::fromValue<qint64>(category_id));
  category_->setCurrentIndex(ci < 0 ? 0 : ci);
  category_source_->setCurrentIndex(ground_truth ? 0 : 1);
  search_->setText(search);
  applyFilter();
}

void BrowserPanel::applyFilter() {
  if (!session_->isOpen()) return;
  model_->setFilter(filter());
  selectImage(session_->currentImage());
}

void BrowserPanel::selectImage(qint64 image_id) {
  if (image_id < 0) return;
  int row = model_->rowOfImage(image_id);
  // Fetch further batches only while the image can be in them (ids are ordered).
  while (row < 0 && model_->canFetchMore({}) &&
         (model_->rowCount() == 0 || model_->imageIdAt(model_->rowCount() - 1) < image_id)) {
    model_->fetchMore({});
    row = model_->rowOfImage(image_id);
  }
  if (row < 0) return;
  selecting_ = true;
  view_->setCurrentIndex(model_->index(row));
  view_->scrollTo(model_->index(row));
  selecting_ = false;
}

}  // namespace mls
