#include "inspect/inspect_panel.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QTableView>
#include <QThreadPool>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "data/render/attention_overlay.h"
#include "data/store/project_store.h"
#include "data/training/train_request.h"
#include "inspect/class_scores_model.h"
#include "inspect/rgb_image.h"
#include "inspect/run_model_cache.h"
#include "project_session.h"

namespace mls {

namespace {

// Runs worth inspecting: finished ones, and stopped ones (they keep the best checkpoint of their epochs).
bool inspectable(const RunRecord& run) { return run.status == RunStatus::Finished || run.status == RunStatus::Cancelled; }

QString runTitle(const RunRecord& run) {
  QString method = QString::fromStdString(run.method).toUpper();
  QString details;
  try {
    const auto req = TrainRequest::fromJson(run.config);
    details = QStringLiteral(" %1 %2 px").arg(QString::fromStdString(req.backbone)).arg(req.image_size);
  } catch (const std::exception&) {
    // An unreadable config still gets a name; loading it reports the problem.
  }
  QString text = QStringLiteral("#%1 %2 \u00B7 %3%4").arg(run.id).arg(QString::fromStdString(run.name), method, details);
  if (run.best_val_map) text += QStringLiteral(" \u00B7 mAP %1").arg(*run.best_val_map, 0, 'f', 1);
  if (run.status == RunStatus::Cancelled) text += QObject::tr(" (stopped)");
  return text;
}

constexpr int kSliderSteps = 100;  // threshold and opacity in steps of 0.01

}  // namespace

InspectPanel::InspectPanel(ProjectSession* session, QWidget* parent)
    : QWidget(parent),
      session_(session),
      cache_(std::make_shared<RunModelCache>()),
      pool_(std::make_unique<QThreadPool>()),
      latest_(std::make_shared<std::atomic<uint64_t>>(0)) {
  // One worker thread: requests run in order, and two runs' models never load side by side.
  pool_->setMaxThreadCount(1);
  buildUi();
  connect(session_, &ProjectSession::projectOpened, this, [this] {
    cache_->clear();
    clearResult();
    reloadRuns();
  });
  connect(session_, &ProjectSession::currentImageChanged, this, [this] { requestInspection(); });
  connect(session_, &ProjectSession::currentRunChanged, this, &InspectPanel::onSessionRunChanged);
  connect(session_, &ProjectSession::runsChanged, this, &InspectPanel::reloadRuns);
  connect(session_, &ProjectSession::annotationChanged, this, &InspectPanel::onAnnotationChanged);
  reloadRuns();
}

InspectPanel::~InspectPanel() {
  latest_->store(std::numeric_limits<uint64_t>::max());  // queued requests skip their work
  pool_->waitForDone();
}

void InspectPanel::buildUi() {
  auto* layout = new QVBoxLayout(this);

  auto* run_row = new QHBoxLayout;
  run_row->addWidget(new QLabel(tr("Run"), this));
  run_combo_ = new QComboBox(this);
  run_combo_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
  run_combo_->setMinimumContentsLength(12);
  run_combo_->setToolTip(tr("Trained run whose predictions are shown (also the run the other tabs use)"));
  run_row->addWidget(run_combo_, 1);
  layout->addLayout(run_row);
  connect(run_combo_, qOverload<int>(&QComboBox::currentIndexChanged), this, &InspectPanel::onRunChosen);

  auto* status_row = new QHBoxLayout;
  spinner_ = new QProgressBar(this);
  spinner_->setRange(0, 0);  // busy indicator
  spinner_->setTextVisible(false);
  spinner_->setFixedSize(48, 10);
  QSizePolicy keep = spinner_->sizePolicy();
  keep.setRetainSizeWhenHidden(true);  // the status line does not jump when computing starts or ends
  spinner_->setSizePolicy(keep);
  spinner_->hide();
  status_row->addWidget(spinner_);
  status_label_ = new QLabel(this);
  status_label_->setWordWrap(true);
  status_label_->setMinimumHeight(fontMetrics().height());
  status_row->addWidget(status_label_, 1);
  layout->addLayout(status_row);

  image_label_ = new QLabel(this);
  image_label_->setWordWrap(true);
  image_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(image_label_);

  auto* threshold_row = new QHBoxLayout;
  threshold_row->addWidget(new QLabel(tr("Threshold"), this));
  threshold_slider_ = new QSlider(Qt::Horizontal, this);
  threshold_slider_->setRange(0, kSliderSteps);
  threshold_slider_->setPageStep(5);
  threshold_slider_->setValue(kSliderSteps / 2);  // 0.5: the metrics' CP/CR/OP/OR threshold
  threshold_slider_->setToolTip(tr("Labels scoring at or above this count as predicted"));
  threshold_row->addWidget(threshold_slider_, 1);
  threshold_label_ = new QLabel(this);
  threshold_label_->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("0.00 \u00B7 00 predicted")));
  threshold_row->addWidget(threshold_label_);
  layout->addLayout(threshold_row);

  model_ = new ClassScoresModel(this);
  connect(threshold_slider_, &QSlider::valueChanged, this, [this](int v) {
    model_->setThreshold(static_cast<double>(v) / kSliderSteps);
    updateThresholdLabel();
  });
  connect(model_, &QAbstractItemModel::modelReset, this, &InspectPanel::updateThresholdLabel);

  auto* splitter = new QSplitter(Qt::Vertical, this);
  table_ = new QTableView(splitter);
  table_->setModel(model_);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
  table_->horizontalHeader()->setSectionResizeMode(ClassScoresModel::ClassColumn, QHeaderView::Stretch);
  for (int c = ClassScoresModel::ScoreColumn; c < ClassScoresModel::ColumnCount; ++c)
    table_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  table_->setToolTip(tr("Click a label to draw its attention map"));
  connect(table_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) {
            if (!current.isValid()) return;  // a reset of the rows keeps the chosen label
            const int idx = model_->classIdxAt(current.row());
            if (idx == selected_label_) return;
            selected_label_ = idx;
            renderOverlay();
          });

  auto* attention = new QWidget(splitter);
  auto* att_layout = new QVBoxLayout(attention);
  att_layout->setContentsMargins(0, 4, 0, 0);
  attention_title_ = new QLabel(tr("Attention"), attention);
  attention_title_->setWordWrap(true);
  att_layout->addWidget(attention_title_);
  auto* att_row = new QHBoxLayout;
  head_combo_ = new QComboBox(attention);
  head_combo_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  head_combo_->addItem(tr("Mean of heads"), -1);
  head_combo_->setToolTip(tr("Cross-attention of the last decoder layer: one head, or averaged over heads"));
  att_row->addWidget(head_combo_);
  att_row->addWidget(new QLabel(tr("Opacity"), attention));
  opacity_slider_ = new QSlider(Qt::Horizontal, attention);
  opacity_slider_->setRange(0, kSliderSteps);
  opacity_slider_->setValue(kSliderSteps / 2);  // the CLI's --opacity default
  att_row->addWidget(opacity_slider_, 1);
  opacity_label_ = new QLabel(QStringLiteral("0.50"), attention);
  att_row->addWidget(opacity_label_);
  att_layout->addLayout(att_row);
  attention_note_ = new QLabel(attention);
  attention_note_->setWordWrap(true);
  attention_note_->setAlignment(Qt::AlignCenter);
  attention_note_->setForegroundRole(QPalette::PlaceholderText);
  att_layout->addWidget(attention_note_);
  att_layout->addStretch(1);
  export_button_ = new QPushButton(tr("Export PNG\u2026"), attention);
  export_button_->setToolTip(tr("Save the overlay at the image's full size"));
  att_layout->addWidget(export_button_, 0, Qt::AlignRight);
  connect(head_combo_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] { renderOverlay(); });
  connect(opacity_slider_, &QSlider::valueChanged, this, [this](int v) {
    opacity_label_->setText(QString::number(static_cast<double>(v) / kSliderSteps, 'f', 2));
    renderOverlay();
  });
  connect(export_button_, &QPushButton::clicked, this, &InspectPanel::exportWithDialog);

  splitter->addWidget(table_);
  splitter->addWidget(attention);
  splitter->setStretchFactor(0, 3);
  splitter->setStretchFactor(1, 1);
  splitter->setChildrenCollapsible(false);
  layout->addWidget(splitter, 1);

  updateThresholdLabel();
  renderOverlay();
}

// ---- runs

void InspectPanel::clearResult() {
  // Another project: its classes and runs differ, so no row, label or attention map of the previous one may
  // stay on screen, not even greyed while the next result computes.
  latest_->store(++generation_);
  has_result_ = false;
  result_ = InspectionResult{};
  selected_label_ = -1;
  image_name_.clear();
  image_label_->clear();
  model_->clear();
  setComputing(false);
  dirty_ = true;
  renderOverlay();  // clears the preview, and the main view's overlay
}

void InspectPanel::reloadRuns() {
  updating_runs_ = true;
  run_combo_->clear();
  if (session_->isOpen()) {
    try {
      auto runs = session_->store()->runs();
      std::sort(runs.begin(), runs.end(), [](const RunRecord& a, const RunRecord& b) { return a.id > b.id; });
      for (const auto& r : runs)
        if (inspectable(r)) run_combo_->addItem(runTitle(r), QVariant::fromValue<qint64>(r.id));
    } catch (const std::exception& e) {
      setStatus(tr("Could not read the runs: %1").arg(QString::fromUtf8(e.what())));
    }
  }
  run_combo_->setEnabled(run_combo_->count() > 0);
  run_combo_->setCurrentIndex(run_combo_->findData(QVariant::fromValue<qint64>(session_->currentRun())));
  updating_runs_ = false;
  // Nothing chosen yet anywhere: the newest run is what a user who just trained wants to see.
  if (session_->currentRun() < 0 && run_combo_->count() > 0) {
    session_->setCurrentRun(run_combo_->itemData(0).toLongLong());  // -> onSessionRunChanged
    return;
  }
  requestInspection();
}

void InspectPanel::onRunChosen(int combo_index) {
  if (updating_runs_ || combo_index < 0) return;
  session_->setCurrentRun(run_combo_->itemData(combo_index).toLongLong());
}

void InspectPanel::onSessionRunChanged(qint64 run_id) {
  updating_runs_ = true;
  run_combo_->setCurrentIndex(run_combo_->findData(QVariant::fromValue<qint64>(run_id)));
  updating_runs_ = false;
  requestInspection();
}

void InspectPanel::onAnnotationChanged(qint64 image_id) {
  if (!session_->isOpen() || image_id != session_->currentImage() || image_label_->text().isEmpty()) return;
  const ImageLabels labels = readImageLabels(image_id);
  updateImageInfo(labels);
  if (has_result_ && image_id == result_.image_id) model_->setSinglePositive(labels.single_positive);
}

// ---- inspection

void InspectPanel::requestInspection() {
  latest_->store(++generation_);  // whatever is queued or loading for an older request is now stale
  has_result_ = false;
  setComputing(false);
  table_->setEnabled(false);  // old rows stay visible (no flicker) but greyed until the new ones arrive
  renderOverlay();
  image_label_->clear();  // set again below, in this same call, once the image is known (no flicker)

  const qint64 run_id = session_->currentRun();
  const qint64 image_id = session_->currentImage();
  if (!session_->isOpen()) {
    model_->clear();
    setStatus(tr("Open a project to inspect predictions."));
    return;
  }
  if (run_combo_->count() == 0) {
    model_->clear();
    setStatus(tr("Train a model first: the Inspect tab shows a trained run's predictions."));
    return;
  }
  if (run_combo_->currentIndex() < 0) {
    model_->clear();
    setStatus(run_id < 0 ? tr("Choose a run.")
                         : tr("Run #%1 has not finished training: choose a finished run.").arg(run_id));
    return;
  }
  if (image_id < 0) {
    model_->clear();
    setStatus(tr("Select an image in the browser."));
    return;
  }
  InspectionRequest req;
  try {
    const auto image = session_->store()->image(image_id);
    if (!image) throw UnknownIdError("the image is not in the project");
    image_name_ = QString::fromStdString(image->file_name);
    req.image_path = session_->store()->imagePath(*image);
  } catch (const std::exception& e) {
    model_->clear();
    setStatus(tr("Cannot inspect image %1: %2").arg(image_id).arg(QString::fromUtf8(e.what())));
    return;
  }
  updateImageInfo(readImageLabels(image_id));  // known now: the line stays put while scores compute
  if (!isVisible()) {  // a hidden tab does no inference; showEvent catches up
    dirty_ = true;
    setStatus(QString());
    return;
  }
  dirty_ = false;
  req.project = session_->path().toStdString();
  req.run_id = run_id;
  req.image_id = image_id;
  req.generation = generation_;
  setComputing(true);
  setStatus(tr("Computing\u2026"));
  renderOverlay();
  auto* watcher = new QFutureWatcher<InspectionResult>(this);
  connect(watcher, &QFutureWatcher<InspectionResult>::finished, this, [this, watcher] {
    watcher->deleteLater();
    onInspectionDone(watcher->result());
  });
  auto cache = cache_;
  auto latest = latest_;
  watcher->setFuture(QtConcurrent::run(pool_.get(), [cache, latest, req] {
    return runInspection(req, *cache, latest.get());
  }));
}

void InspectPanel::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (dirty_) requestInspection();
}

void InspectPanel::onInspectionDone(const InspectionResult& result) {
  if (result.skipped || result.generation != generation_) return;  // a newer request owns the panel
  setComputing(false);
  table_->setEnabled(true);
  if (!result.error.empty()) {
    model_->clear();
    setStatus(tr("Could not compute predictions: %1").arg(QString::fromUtf8(result.error.c_str())));
    Q_EMIT predictionReady(result.image_id, result.run_id);
    return;
  }
  result_ = result;
  has_result_ = true;
  setStatus(QString());

  // Ground truth and single positive from the GUI's connection (quick reads; the worker only infers).
  const ImageLabels labels = readImageLabels(result.image_id);
  updateImageInfo(labels);
  std::vector<ClassScoreRow> rows;
  const size_t k = std::min(result.scores.size(), session_->categories().size());
  for (size_t i = 0; i < k; ++i) {
    const Category* c = session_->categoryByIdx(static_cast<int>(i));
    ClassScoreRow row;
    row.idx = static_cast<int>(i);
    row.name = c ? QString::fromStdString(c->name) : QString::number(i);
    row.score = result.scores[i];
    row.ground_truth = labels.truth.count(row.idx) > 0;
    row.single_positive = row.idx == labels.single_positive;
    rows.push_back(row);
  }
  model_->setRows(std::move(rows), !labels.truth.empty());

  updateHeadChoices(result_.has_attention ? static_cast<int>(result_.attention.size(0)) : 0);

  // Keep the chosen label across images: select its row again (which the reset cleared). With none chosen
  // yet, show where the top-scoring label's query looks, so the attention view is never empty by default.
  if (selected_label_ < 0 && result_.has_attention && model_->rowCount() > 0) selected_label_ = model_->classIdxAt(0);
  const int row = model_->rowOfClass(selected_label_);
  if (row >= 0) table_->selectRow(row);
  renderOverlay();
  Q_EMIT predictionReady(result.image_id, result.run_id);
}

InspectPanel::ImageLabels InspectPanel::readImageLabels(qint64 image_id) {
  ImageLabels out;
  try {
    for (const int64_t id : session_->store()->labelsOf(image_id))
      if (const Category* c = session_->categoryById(id)) {
        out.truth.insert(c->idx);
        out.truth_names << QString::fromStdString(c->name);
      }
    if (const auto sp = session_->store()->singlePositive(image_id))
      if (const Category* c = session_->categoryById(sp->category_id)) {
        out.single_positive = c->idx;
        out.single_positive_name = QString::fromStdString(c->name);
      }
  } catch (const std::exception& e) {
    setStatus(tr("Could not read the labels: %1").arg(QString::fromUtf8(e.what())));
  }
  out.truth_names.sort();
  return out;
}

void InspectPanel::updateImageInfo(const ImageLabels& labels) {
  image_label_->setText(tr("<b>%1</b> \u00B7 ground truth: %2 \u00B7 single positive: %3")
                            .arg(image_name_.toHtmlEscaped(),
                                 labels.truth_names.isEmpty() ? tr("none")
                                                              : labels.truth_names.join(QStringLiteral(", ")).toHtmlEscaped(),
                                 labels.single_positive_name.isEmpty() ? tr("none")
                                                                       : labels.single_positive_name.toHtmlEscaped()));
}

void InspectPanel::setComputing(bool on) {
  computing_ = on;
  spinner_->setVisible(on);
}

void InspectPanel::setStatus(const QString& text) {
  status_label_->setText(text);
}

QString InspectPanel::statusText() const { return status_label_->text(); }

// ---- threshold

double InspectPanel::threshold() const { return model_->threshold(); }

void InspectPanel::setThreshold(double threshold) {
  threshold_slider_->setValue(static_cast<int>(std::lround(std::clamp(threshold, 0.0, 1.0) * kSliderSteps)));
}

void InspectPanel::updateThresholdLabel() {
  threshold_label_->setText(tr("%1 \u00B7 %2 predicted").arg(model_->threshold(), 0, 'f', 2).arg(model_->predictedCount()));
}

// ---- attention

void InspectPanel::selectLabel(int class_idx) {
  selected_label_ = class_idx;
  const int row = model_->rowOfClass(class_idx);
  if (row >= 0)
    table_->selectRow(row);
  else
    table_->clearSelection();
  renderOverlay();
}

int InspectPanel::attentionHead() const { return head_combo_->currentData().toInt(); }

void InspectPanel::setAttentionHead(int head) {
  const int i = head_combo_->findData(head);
  if (i >= 0) head_combo_->setCurrentIndex(i);
}

double InspectPanel::opacity() const { return static_cast<double>(opacity_slider_->value()) / kSliderSteps; }

void InspectPanel::setOpacity(double opacity) {
  opacity_slider_->setValue(static_cast<int>(std::lround(std::clamp(opacity, 0.0, 1.0) * kSliderSteps)));
}

void InspectPanel::updateHeadChoices(int heads) {
  if (heads == heads_) return;
  const int keep = attentionHead();
  heads_ = heads;
  const QSignalBlocker block(head_combo_);
  head_combo_->clear();
  head_combo_->addItem(tr("Mean of %1 heads").arg(heads), -1);
  for (int h = 0; h < heads; ++h) head_combo_->addItem(tr("Head %1").arg(h + 1), h);
  setAttentionHead(keep < heads ? keep : -1);
}

QString InspectPanel::attentionMessage() const { return attention_message_; }

void InspectPanel::renderOverlay() {
  const bool attention = has_result_ && result_.has_attention;
  head_combo_->setEnabled(attention);
  opacity_slider_->setEnabled(attention);
  QString message;
  QImage overlay;
  const Category* label = session_->categoryByIdx(selected_label_);
  if (!has_result_) {
    message = computing_ ? tr("Computing\u2026") : QString();
    attention_title_->setText(tr("Attention"));
  } else if (!result_.has_attention) {
    message = tr("This run is an MLSPL classifier: it has no transformer decoder, so there are no attention "
                 "maps. Train a Q2L or hybrid run to see where the model looks for each label.");
    attention_title_->setText(tr("Attention: not available for this run"));
  } else if (selected_label_ < 0 || selected_label_ >= result_.attention.size(1)) {
    message = tr("Click a label in the table to see where the decoder's query for it looks.");
    attention_title_->setText(tr("Attention"));
  } else {
    const int head = attentionHead();
    try {
      const cv::Mat map = attentionMap(result_.attention, selected_label_, head);
      overlay = rgbMatToQImage(renderAttentionOverlay(result_.image_rgb, map, opacity()));
    } catch (const std::exception& e) {
      message = tr("Cannot draw the attention map: %1").arg(QString::fromUtf8(e.what()));
    }
    const QString name = label ? QString::fromStdString(label->name) : QString::number(selected_label_);
    attention_title_->setText(head < 0 ? tr("Attention of \u201C%1\u201D, mean of %2 heads (last decoder layer)").arg(name).arg(heads_)
                                       : tr("Attention of \u201C%1\u201D, head %2 of %3 (last decoder layer)").arg(name).arg(head + 1).arg(heads_));
  }
  attention_message_ = overlay.isNull() ? message : QString();
  attention_note_->setText(overlay.isNull() ? message : tr("Drawn over the image in the main view."));
  export_button_->setEnabled(!overlay.isNull());
  setOverlay(overlay);
}

void InspectPanel::setOverlay(const QImage& overlay) {
  if (overlay.isNull() && overlay_.isNull()) return;  // already clear: nothing to tell the main view
  overlay_ = overlay;
  Q_EMIT overlayChanged(overlay_);
}

// ---- export

bool InspectPanel::exportOverlay(const QString& path) const {
  return !overlay_.isNull() && !path.isEmpty() && overlay_.save(path);
}

void InspectPanel::exportWithDialog() {
  if (overlay_.isNull()) return;
  const Category* label = session_->categoryByIdx(selected_label_);
  QString name = QFileInfo(image_name_).completeBaseName() + QStringLiteral("_") +
                 (label ? QString::fromStdString(label->name) : QStringLiteral("label")) + QStringLiteral("_attention.png");
  name.replace(QLatin1Char(' '), QLatin1Char('_'));
  const QString dir = QFileInfo(session_->path()).absolutePath();
  const QString path = QFileDialog::getSaveFileName(this, tr("Export attention overlay"), dir + QStringLiteral("/") + name,
                                                    tr("PNG images (*.png)"));
  if (path.isEmpty()) return;
  if (!exportOverlay(path)) QMessageBox::warning(this, tr("Export failed"), tr("Could not write %1.").arg(path));
}

}  // namespace mls
