#include "train/curve_plot.h"

#include <QCheckBox>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QMouseEvent>
#include <QSlider>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <cmath>
#include "train/qcustomplot_include.h"

namespace mls {

namespace {

// Tableau-10 without the blue and orange that the live run uses.
const QColor kOverlayPalette[] = {{44, 160, 44},   {214, 39, 40},   {148, 103, 189}, {140, 86, 75},
                                  {227, 119, 194}, {127, 127, 127}, {188, 189, 34},  {23, 190, 207}};
const QColor kLiveBlue(31, 119, 180);
const QColor kLiveOrange(255, 127, 14);
constexpr double kHoverRadiusPx = 12;

}  // namespace

CurvePlot::CurvePlot(QWidget* parent) : QWidget(parent) {
  plot_ = new QCustomPlot(this);
  plot_->setAutoAddPlottableToLegend(false);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->setMinimumHeight(200);  // the Train tab must fit a 720-pixel-high screen

  loss_rect_ = plot_->axisRect();
  map_rect_ = new QCPAxisRect(plot_);
  plot_->plotLayout()->addElement(1, 0, map_rect_);
  for (auto* rect : {loss_rect_, map_rect_}) {
    rect->axis(QCPAxis::atTop)->setVisible(false);
    rect->axis(QCPAxis::atRight)->setVisible(false);
  }
  // Line the two plots' left edges up whatever their tick label widths.
  auto* margins = new QCPMarginGroup(plot_);
  loss_rect_->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
  map_rect_->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
  loss_rect_->axis(QCPAxis::atBottom)->setLabel(tr("step"));
  loss_rect_->axis(QCPAxis::atLeft)->setLabel(tr("loss"));
  map_rect_->axis(QCPAxis::atBottom)->setLabel(tr("epoch"));
  map_rect_->axis(QCPAxis::atLeft)->setLabel(tr("val mAP (%)"));
  map_rect_->axis(QCPAxis::atLeft)->setRange(0, 100);
  map_rect_->axis(QCPAxis::atBottom)->setRange(0, 1);
  QSharedPointer<QCPAxisTickerFixed> epoch_ticks(new QCPAxisTickerFixed);
  epoch_ticks->setTickStep(1.0);
  epoch_ticks->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);  // whole epochs, fewer when crowded
  map_rect_->axis(QCPAxis::atBottom)->setTicker(epoch_ticks);

  // One compact legend in its own row under both plots: inside an axis rect it covered the curves.
  QFont small = font();
  small.setPointSizeF(std::max(7.0, small.pointSizeF() - 1));
  QCPLegend* legend = plot_->legend;
  loss_rect_->insetLayout()->take(legend);
  loss_rect_->insetLayout()->simplify();
  plot_->plotLayout()->addElement(2, 0, legend);
  plot_->plotLayout()->setRowStretchFactor(2, 0.001);
  legend->setVisible(true);
  legend->setFont(small);
  legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  legend->setWrap(2);
  legend->setIconSize(18, 8);
  legend->setRowSpacing(0);
  legend->setColumnSpacing(12);
  legend->setMargins(QMargins(4, 1, 4, 1));
  legend->setMinimumMargins(QMargins(4, 2, 4, 2));
  legend->setLayer(QStringLiteral("legend"));

  QColor faint = kLiveBlue;
  faint.setAlpha(70);
  live_loss_raw_ = addGraph(loss_rect_, false, tr("loss"), QPen(faint, 1), false);
  live_loss_smooth_ = addGraph(loss_rect_, true, tr("loss (smoothed)"), QPen(kLiveBlue, 2), false);
  live_map_raw_ = addGraph(map_rect_, true, tr("val mAP (raw)"), QPen(kLiveBlue, 2), true);
  live_map_ema_ = addGraph(map_rect_, false, tr("val mAP (EMA)"), QPen(kLiveOrange, 2), true);

  tracer_ = new QCPItemTracer(plot_);
  tracer_->setStyle(QCPItemTracer::tsCircle);
  tracer_->setSize(8);
  tracer_->setPen(QPen(Qt::black, 1.5));
  tracer_->setInterpolating(false);
  tracer_->setVisible(false);

  smoothing_slider_ = new QSlider(Qt::Horizontal);
  smoothing_slider_->setRange(0, 99);
  smoothing_slider_->setToolTip(tr("Debiased exponential moving average of the loss (TensorBoard style)"));
  smoothing_label_ = new QLabel;
  smoothing_label_->setMinimumWidth(fontMetrics().horizontalAdvance(QStringLiteral("Smoothing 0.00")));
  log_box_ = new QCheckBox(tr("Log loss"));
  auto* csv = new QToolButton;
  csv->setText(tr("CSV…"));
  csv->setToolTip(tr("Export every curve as CSV"));
  auto* png = new QToolButton;
  png->setText(tr("PNG…"));
  png->setToolTip(tr("Export the plots as a PNG image"));

  auto* bar = new QHBoxLayout;
  bar->setContentsMargins(0, 0, 0, 0);
  bar->addWidget(smoothing_label_);
  bar->addWidget(smoothing_slider_, 1);
  bar->addWidget(log_box_);
  bar->addWidget(csv);
  bar->addWidget(png);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addLayout(bar);
  layout->addWidget(plot_, 1);

  throttle_.setSingleShot(true);
  throttle_.setInterval(kReplotIntervalMs);
  connect(&throttle_, &QTimer::timeout, this, &CurvePlot::flush);
  connect(smoothing_slider_, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });
  connect(log_box_, &QCheckBox::toggled, this, &CurvePlot::setLogScale);
  connect(csv, &QToolButton::clicked, this, &CurvePlot::exportCsvInteractive);
  connect(png, &QToolButton::clicked, this, &CurvePlot::exportPngInteractive);
  connect(plot_, &QCustomPlot::mouseMove, this, &CurvePlot::onMouseMove);
  connect(plot_, &QCustomPlot::mousePress, this, [this] { follow_ = false; });
  connect(plot_, &QCustomPlot::mouseWheel, this, [this] { follow_ = false; });
  connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this] {
    follow_ = true;
    rescale();
    requestReplot();
  });

  // TensorBoard's slider starts at 0.6; per-batch losses are noisier than its usual summaries, so start at 0.9.
  smoothing_slider_->setValue(90);
  setSmoothing(0.9);
  applyPalette();
  rescale();
}

void CurvePlot::applyPalette() {
  // QCustomPlot paints its own white background and black axes; take both from the palette so a dark
  // application palette gives a dark, readable plot.
  const QPalette pal = palette();
  const QColor base = pal.color(QPalette::Base);
  const QColor text = pal.color(QPalette::Text);
  QColor grid = text;
  grid.setAlpha(45);
  QColor legend_fill = base;
  legend_fill.setAlpha(230);
  plot_->setBackground(base);
  for (auto* rect : {loss_rect_, map_rect_}) {
    for (auto* axis : rect->axes()) {
      axis->setBasePen(QPen(text, 1));
      axis->setTickPen(QPen(text, 1));
      axis->setSubTickPen(QPen(text, 1));
      axis->setTickLabelColor(text);
      axis->setLabelColor(text);
      axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
      axis->grid()->setZeroLinePen(Qt::NoPen);
    }
  }
  plot_->legend->setBrush(legend_fill);
  plot_->legend->setBorderPen(Qt::NoPen);
  plot_->legend->setTextColor(text);
  tracer_->setPen(QPen(text, 1.5));
  requestReplot();
}

void CurvePlot::changeEvent(QEvent* event) {
  QWidget::changeEvent(event);
  if (event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange) applyPalette();
}

QColor CurvePlot::plotBackground() const {
  // What a user sees: one rendered pixel of the plot's corner.
  return plot_->toPixmap(200, 200).toImage().pixelColor(1, 1);
}

CurvePlot::~CurvePlot() = default;

QCPGraph* CurvePlot::addGraph(QCPAxisRect* rect, bool in_legend, const QString& name, const QPen& pen, bool points) {
  QCPGraph* g = plot_->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
  g->setName(name);
  g->setPen(pen);
  if (points) g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, pen.color(), pen.color(), 5));
  if (in_legend) g->addToLegend();
  return g;
}

void CurvePlot::removeGraph(QCPGraph* graph) {
  if (!graph) return;
  if (tracer_->graph() == graph) {
    tracer_->setGraph(nullptr);
    tracer_->setVisible(false);
  }
  plot_->removeGraph(graph);
}

void CurvePlot::startLive(qint64 run_id, const QString& label) {
  live_run_ = run_id;
  live_label_ = label;
  live_ = RunCurves{};
  live_smoother_.setAlpha(alpha_);
  pending_steps_.clear();
  pending_losses_.clear();
  pending_epochs_.clear();
  for (auto* g : {live_loss_raw_, live_loss_smooth_, live_map_raw_, live_map_ema_}) g->data()->clear();
  follow_ = true;
  syncLegend();
  setLiveRun(run_id, label);
  rescale();
}

void CurvePlot::setLiveRun(qint64 run_id, const QString& label) {
  live_run_ = run_id;
  live_label_ = label;
  const QString prefix = label.isEmpty() ? QString() : label + QStringLiteral(": ");
  live_loss_raw_->setName(prefix + tr("loss"));
  live_loss_smooth_->setName(prefix + tr("loss (smoothed)"));
  live_map_raw_->setName(prefix + tr("val mAP (raw)"));
  live_map_ema_->setName(prefix + tr("val mAP (EMA)"));
  // The live curves already show this run; an overlay of it would draw it twice.
  removeOverlay(run_id);
  syncLegend();
  requestReplot();
}

void CurvePlot::addLossPoints(const QVector<double>& steps, const QVector<double>& losses) {
  const int n = std::min(steps.size(), losses.size());
  for (int i = 0; i < n; ++i) {
    pending_steps_.push_back(steps[i]);
    pending_losses_.push_back(losses[i]);
  }
  dirty_ = true;
  if (!throttle_.isActive()) throttle_.start();
}

void CurvePlot::addEpoch(int epoch, double map_raw, double map_ema) {
  pending_epochs_.push_back({epoch, {map_raw, map_ema}});
  dirty_ = true;
  if (!throttle_.isActive()) throttle_.start();
}

void CurvePlot::flush() {
  if (!dirty_) return;
  dirty_ = false;
  if (!pending_steps_.isEmpty()) {
    QVector<double> smoothed;
    smoothed.reserve(pending_losses_.size());
    for (double x : pending_losses_) smoothed.push_back(live_smoother_.add(x));
    live_loss_raw_->addData(pending_steps_, pending_losses_, true);
    live_loss_smooth_->addData(pending_steps_, smoothed, true);
    live_.loss_steps += pending_steps_;
    live_.loss += pending_losses_;
    pending_steps_.clear();
    pending_losses_.clear();
  }
  for (const auto& [epoch, maps] : pending_epochs_) {
    if (std::isfinite(maps.first)) {
      live_map_raw_->addData(epoch, maps.first);
      live_.raw_epochs.push_back(epoch);
      live_.map_raw.push_back(maps.first);
    }
    if (std::isfinite(maps.second)) {
      live_map_ema_->addData(epoch, maps.second);
      live_.ema_epochs.push_back(epoch);
      live_.map_ema.push_back(maps.second);
    }
  }
  pending_epochs_.clear();
  syncLegend();
  if (follow_) rescale();
  requestReplot();
}

void CurvePlot::syncLegend() {
  // The live run is listed while it is shown; "val mAP (EMA)" only for runs that have EMA weights.
  auto list = [this](QCPGraph* g, bool on) {
    if (on && !plot_->legend->hasItemWithPlottable(g)) g->addToLegend();
    if (!on && plot_->legend->hasItemWithPlottable(g)) g->removeFromLegend();
  };
  // Before any run (or after a reset) there is nothing live to name.
  const bool live = live_visible_ && (live_run_ >= 0 || !live_loss_raw_->data()->isEmpty());
  list(live_loss_smooth_, live);
  list(live_map_raw_, live);
  list(live_map_ema_, live && !live_map_ema_->data()->isEmpty());
}

void CurvePlot::setLiveVisible(bool visible) {
  if (visible == live_visible_) return;
  live_visible_ = visible;
  for (auto* g : {live_loss_raw_, live_loss_smooth_, live_map_raw_, live_map_ema_}) g->setVisible(visible);
  syncLegend();
  if (follow_) rescale();
  requestReplot();
}

QList<qint64> CurvePlot::overlayIds() const { return overlays_.keys(); }

void CurvePlot::setPlannedEpochs(int epochs) {
  planned_epochs_ = std::max(0, epochs);
  if (follow_) rescale();
  requestReplot();
}

void CurvePlot::reset() {
  clearOverlays();
  planned_epochs_ = 0;
  startLive(-1, QString());
  setLiveVisible(true);
  follow_ = true;
  rescale();
  requestReplot();
}

void CurvePlot::fillSmoothed(QCPGraph* graph, const QVector<double>& steps, const QVector<double>& losses) const {
  QVector<double> smoothed;
  smoothed.reserve(losses.size());
  EmaSmoother s(alpha_);
  for (double x : losses) smoothed.push_back(s.add(x));
  graph->setData(steps, smoothed, true);
}

void CurvePlot::setSmoothing(double alpha) {
  alpha = std::clamp(alpha, 0.0, 0.99);
  alpha_ = alpha;
  smoothing_label_->setText(tr("Smoothing %1").arg(alpha, 0, 'f', 2));
  if (smoothing_slider_->value() != qRound(alpha * 100)) {
    const QSignalBlocker block(smoothing_slider_);
    smoothing_slider_->setValue(qRound(alpha * 100));
  }
  flush();
  // Replay the running average over the whole live history so the line matches the new factor.
  live_smoother_.setAlpha(alpha_);
  QVector<double> smoothed;
  smoothed.reserve(live_.loss.size());
  for (double x : live_.loss) smoothed.push_back(live_smoother_.add(x));
  live_loss_smooth_->setData(live_.loss_steps, smoothed, true);
  for (auto& o : overlays_) fillSmoothed(o.loss, o.curves.loss_steps, o.curves.loss);
  requestReplot();
}

QVector<double> CurvePlot::liveSmoothedLoss() const {
  QVector<double> out;
  for (auto it = live_loss_smooth_->data()->constBegin(); it != live_loss_smooth_->data()->constEnd(); ++it)
    out.push_back(it->value);
  return out;
}

int CurvePlot::drawnLossPoints() const { return live_loss_raw_->dataCount(); }

int CurvePlot::overlayLossPoints(qint64 run_id) const {
  const auto it = overlays_.constFind(run_id);
  return it == overlays_.constEnd() ? -1 : it->loss->dataCount();
}

void CurvePlot::setLogScale(bool on) {
  log_scale_ = on;
  if (log_box_->isChecked() != on) {
    const QSignalBlocker block(log_box_);
    log_box_->setChecked(on);
  }
  QCPAxis* y = loss_rect_->axis(QCPAxis::atLeft);
  if (on) {
    y->setScaleType(QCPAxis::stLogarithmic);
    y->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
  } else {
    y->setScaleType(QCPAxis::stLinear);
    y->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
  }
  rescale();
  requestReplot();
}

QColor CurvePlot::overlayColor(qint64 run_id) const {
  constexpr qint64 n = sizeof(kOverlayPalette) / sizeof(kOverlayPalette[0]);
  return kOverlayPalette[static_cast<size_t>(((run_id % n) + n) % n)];
}

void CurvePlot::setOverlay(qint64 run_id, const QString& label, const RunCurves& curves) {
  if (run_id == live_run_) {
    removeOverlay(run_id);
    return;
  }
  auto it = overlays_.find(run_id);
  if (it == overlays_.end()) {
    Overlay o;
    const QColor c = overlayColor(run_id);
    o.loss = addGraph(loss_rect_, true, QString(), QPen(c, 1.5), false);
    o.map_raw = addGraph(map_rect_, false, QString(), QPen(c, 1.5), true);
    it = overlays_.insert(run_id, o);
  }
  // Replaced in place: a followed run's overlay grows every poll without its graphs moving or blinking.
  Overlay& o = *it;
  o.label = label;
  o.curves = curves;
  o.loss->setName(label + tr(": loss (smoothed)"));
  fillSmoothed(o.loss, curves.loss_steps, curves.loss);
  o.map_raw->setName(label + tr(": val mAP (raw)"));
  o.map_raw->setData(curves.raw_epochs, curves.map_raw, true);
  if (!curves.map_ema.isEmpty() && !o.map_ema) {
    const QColor c = overlayColor(run_id);
    o.map_ema = addGraph(map_rect_, false, QString(), QPen(c, 1.5, Qt::DashLine), true);
  }
  if (o.map_ema) {
    o.map_ema->setName(label + tr(": val mAP (EMA)"));
    o.map_ema->setData(curves.ema_epochs, curves.map_ema, true);
  }
  if (follow_) rescale();
  requestReplot();
}

void CurvePlot::removeOverlay(qint64 run_id) {
  auto it = overlays_.find(run_id);
  if (it == overlays_.end()) return;
  removeGraph(it->loss);
  removeGraph(it->map_raw);
  removeGraph(it->map_ema);
  overlays_.erase(it);
  requestReplot();
}

void CurvePlot::clearOverlays() {
  const auto ids = overlays_.keys();
  for (qint64 id : ids) removeOverlay(id);
}

void CurvePlot::rescale() {
  // Ranges come from the drawn data alone. QCPAxis::rescale keeps the previous width around a single point,
  // which showed epochs -40..40 after the first epoch of a run that followed an 80-epoch one.
  auto bounds = [](QCPAxisRect* rect, QCP::SignDomain domain, QCPRange* keys, QCPRange* values) {
    bool any = false;
    for (auto* g : rect->graphs()) {
      if (!g->visible() || g->data()->isEmpty()) continue;
      bool found_k = false, found_v = false;
      const QCPRange k = g->getKeyRange(found_k);
      const QCPRange v = g->getValueRange(found_v, domain);
      if (!found_k || !found_v) continue;
      *keys = any ? QCPRange(std::min(keys->lower, k.lower), std::max(keys->upper, k.upper)) : k;
      *values = any ? QCPRange(std::min(values->lower, v.lower), std::max(values->upper, v.upper)) : v;
      any = true;
    }
    return any;
  };
  QCPRange keys, values;
  QCPAxis* loss_x = loss_rect_->axis(QCPAxis::atBottom);
  QCPAxis* loss_y = loss_rect_->axis(QCPAxis::atLeft);
  if (bounds(loss_rect_, log_scale_ ? QCP::sdPositive : QCP::sdBoth, &keys, &values)) {
    loss_x->setRange(0, std::max(1.0, keys.upper * 1.02));
    if (log_scale_) {
      loss_y->setRange(values.lower / 1.15, values.upper * 1.15);
    } else {
      const double room = std::max(0.05 * (values.upper - values.lower), 0.05 * std::abs(values.upper) + 1e-6);
      loss_y->setRange(std::max(0.0, values.lower - room), values.upper + room);
    }
  } else {
    loss_x->setRange(0, 1);
    loss_y->setRange(log_scale_ ? 0.01 : 0.0, 1);
  }
  // Epochs from 0 to the planned last one (or the last drawn, if an overlay ran longer); mAP in 0-100.
  QCPAxis* map_x = map_rect_->axis(QCPAxis::atBottom);
  QCPAxis* map_y = map_rect_->axis(QCPAxis::atLeft);
  const bool any_map = bounds(map_rect_, QCP::sdBoth, &keys, &values);
  const double last_epoch = std::max({1.0, static_cast<double>(planned_epochs_), any_map ? keys.upper : 0.0});
  map_x->setRange(0, last_epoch + 0.5);
  if (any_map)
    map_y->setRange(std::max(0.0, values.lower - 5), std::min(100.0, values.upper + 5));
  else
    map_y->setRange(0, 100);
}

void CurvePlot::requestReplot() {
  ++replots_;
  // The legend row takes part in the layout only while it lists something: QCustomPlot caps a layout
  // column at the smallest maximum width of its cells, and an empty legend's is just its margins (before
  // the first run both plots were squeezed to a few dozen pixels).
  QCPLayoutGrid* layout = plot_->plotLayout();
  const bool placed = layout->rowCount() > 2 && layout->element(2, 0) == plot_->legend;
  if (plot_->legend->itemCount() == 0 && placed) {
    layout->take(plot_->legend);
    layout->simplify();
  } else if (plot_->legend->itemCount() > 0 && !placed) {
    layout->addElement(2, 0, plot_->legend);
    layout->setRowStretchFactor(2, 0.001);
  }
  plot_->replot(QCustomPlot::rpQueuedReplot);  // coalesced with any other pending replot
}

QString CurvePlot::describePointAt(const QPointF& pos, QCPGraph** graph_out, double* key_out) const {
  double best = kHoverRadiusPx;
  QCPGraph* best_graph = nullptr;
  double best_key = 0, best_value = 0;
  for (int i = 0; i < plot_->graphCount(); ++i) {
    QCPGraph* g = plot_->graph(i);
    if (!g->visible() || g->data()->isEmpty()) continue;
    QCPAxis* kx = g->keyAxis();
    QCPAxis* vy = g->valueAxis();
    if (!kx->axisRect()->rect().contains(pos.toPoint())) continue;
    const double key = kx->pixelToCoord(pos.x());
    auto it = g->data()->findBegin(key, true);
    // The nearest point in pixels is among the few around the key; wide zooms may put several per pixel.
    for (int n = 0; n < 4 && it != g->data()->constEnd(); ++n, ++it) {
      if (!std::isfinite(it->value)) continue;
      const double d = std::hypot(kx->coordToPixel(it->key) - pos.x(), vy->coordToPixel(it->value) - pos.y());
      if (d < best) {
        best = d;
        best_graph = g;
        best_key = it->key;
        best_value = it->value;
      }
    }
  }
  if (graph_out) *graph_out = best_graph;
  if (key_out) *key_out = best_key;
  if (!best_graph) return {};
  const bool loss = best_graph->keyAxis() == loss_rect_->axis(QCPAxis::atBottom);
  return QStringLiteral("%1\n%2 %3: %4")
      .arg(best_graph->name(), loss ? tr("step") : tr("epoch"))
      .arg(best_key, 0, 'f', 0)
      .arg(loss ? QString::number(best_value, 'g', 5) : QString::number(best_value, 'f', 2));
}

void CurvePlot::onMouseMove(QMouseEvent* event) {
  QCPGraph* g = nullptr;
  double key = 0;
  const QString text = describePointAt(event->position(), &g, &key);
  if (!g) {
    if (tracer_->visible()) {
      tracer_->setVisible(false);
      requestReplot();
    }
    QToolTip::hideText();
    return;
  }
  tracer_->setGraph(g);
  tracer_->setGraphKey(key);
  tracer_->setClipAxisRect(g->keyAxis()->axisRect());
  tracer_->setVisible(true);
  requestReplot();
  QToolTip::showText(event->globalPosition().toPoint(), text, plot_);
}

}  // namespace mls
