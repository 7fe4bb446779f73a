#include "train/curve_plot.h"

#include <QCheckBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QMouseEvent>
#include <QSlider>
#include <QTextStream>
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

QString csvField(const QString& s) {
  if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"'))) return s;
  QString q = s;
  q.replace(QLatin1String("\""), QLatin1String("\"\""));
  return QLatin1Char('"') + q + QLatin1Char('"');
}

}  // namespace

CurvePlot::CurvePlot(QWidget* parent) : QWidget(parent) {
  plot_ = new QCustomPlot(this);
  plot_->setAutoAddPlottableToLegend(false);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  plot_->setMinimumHeight(220);

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

  QFont small = font();
  small.setPointSizeF(std::max(7.0, small.pointSizeF() - 1));
  plot_->legend->setVisible(true);
  plot_->legend->setFont(small);
  plot_->legend->setBrush(QColor(255, 255, 255, 210));
  map_legend_ = new QCPLegend;
  map_rect_->insetLayout()->addElement(map_legend_, Qt::AlignRight | Qt::AlignBottom);
  map_legend_->setLayer(QStringLiteral("legend"));
  map_legend_->setFont(small);
  map_legend_->setBrush(QColor(255, 255, 255, 210));
  map_legend_->setVisible(true);

  QColor faint = kLiveBlue;
  faint.setAlpha(70);
  live_loss_raw_ = addGraph(loss_rect_, nullptr, tr("loss"), QPen(faint, 1), false);
  live_loss_smooth_ = addGraph(loss_rect_, plot_->legend, tr("loss (smoothed)"), QPen(kLiveBlue, 2), false);
  live_map_raw_ = addGraph(map_rect_, map_legend_, tr("val mAP (raw)"), QPen(kLiveBlue, 2), true);
  live_map_ema_ = addGraph(map_rect_, nullptr, tr("val mAP (EMA)"), QPen(kLiveOrange, 2), true);

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
}

CurvePlot::~CurvePlot() = default;

QCPGraph* CurvePlot::addGraph(QCPAxisRect* rect, QCPLegend* legend, const QString& name, const QPen& pen, bool points) {
  QCPGraph* g = plot_->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
  g->setName(name);
  g->setPen(pen);
  if (points) g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, pen.color(), pen.color(), 5));
  if (legend) g->addToLegend(legend);
  return g;
}

void CurvePlot::removeGraph(QCPGraph* graph, QCPLegend* legend) {
  if (!graph) return;
  if (tracer_->graph() == graph) {
    tracer_->setGraph(nullptr);
    tracer_->setVisible(false);
  }
  if (legend) graph->removeFromLegend(legend);  // a second legend is not cleaned up by removeGraph
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
  syncEmaLegend();
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
  syncEmaLegend();
  if (follow_) rescale();
  requestReplot();
}

void CurvePlot::syncEmaLegend() {
  // Runs without EMA weights get no "val mAP (EMA)" legend entry.
  const bool has = !live_map_ema_->data()->isEmpty();
  if (has && !map_legend_->hasItemWithPlottable(live_map_ema_)) live_map_ema_->addToLegend(map_legend_);
  if (!has && map_legend_->hasItemWithPlottable(live_map_ema_)) live_map_ema_->removeFromLegend(map_legend_);
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
  removeOverlay(run_id);
  if (run_id == live_run_) return;
  Overlay o;
  o.label = label;
  o.curves = curves;
  const QColor c = overlayColor(run_id);
  o.loss = addGraph(loss_rect_, plot_->legend, label + tr(": loss (smoothed)"), QPen(c, 1.5), false);
  fillSmoothed(o.loss, curves.loss_steps, curves.loss);
  o.map_raw = addGraph(map_rect_, map_legend_, label + tr(": val mAP (raw)"), QPen(c, 1.5), true);
  o.map_raw->setData(curves.raw_epochs, curves.map_raw, true);
  if (!curves.map_ema.isEmpty()) {
    o.map_ema = addGraph(map_rect_, map_legend_, label + tr(": val mAP (EMA)"), QPen(c, 1.5, Qt::DashLine), true);
    o.map_ema->setData(curves.ema_epochs, curves.map_ema, true);
  }
  overlays_.insert(run_id, o);
  if (follow_) rescale();
  requestReplot();
}

void CurvePlot::removeOverlay(qint64 run_id) {
  auto it = overlays_.find(run_id);
  if (it == overlays_.end()) return;
  removeGraph(it->loss, plot_->legend);
  removeGraph(it->map_raw, map_legend_);
  removeGraph(it->map_ema, map_legend_);
  overlays_.erase(it);
  requestReplot();
}

void CurvePlot::clearOverlays() {
  const auto ids = overlays_.keys();
  for (qint64 id : ids) removeOverlay(id);
}

void CurvePlot::rescale() {
  for (auto* rect : {loss_rect_, map_rect_}) {
    bool any = false;
    for (auto* g : rect->graphs()) any = any || !g->data()->isEmpty();
    if (!any) continue;
    rect->axis(QCPAxis::atBottom)->rescale(true);
    rect->axis(QCPAxis::atLeft)->rescale(true);
  }
  // Breathing room, and mAP kept in its natural 0-100 frame.
  QCPAxis* loss_y = loss_rect_->axis(QCPAxis::atLeft);
  if (log_scale_) {
    if (loss_y->range().lower > 0) loss_y->scaleRange(1.15, std::sqrt(loss_y->range().lower * loss_y->range().upper));
  }
  else
    loss_y->setRange(std::max(0.0, loss_y->range().lower - 0.05 * loss_y->range().size()),
                     loss_y->range().upper + 0.05 * loss_y->range().size());
  QCPAxis* map_y = map_rect_->axis(QCPAxis::atLeft);
  map_y->setRange(std::max(0.0, map_y->range().lower - 5), std::min(100.0, map_y->range().upper + 5));
  QCPAxis* map_x = map_rect_->axis(QCPAxis::atBottom);
  map_x->setRange(std::min(map_x->range().lower, 1.0) - 0.3, std::max(map_x->range().upper, 2.0) + 0.3);
}

void CurvePlot::requestReplot() {
  ++replots_;
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

bool CurvePlot::exportCsv(const QString& path, QString* error) {
  flush();
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) {
    if (error) *error = f.errorString();
    return false;
  }
  QTextStream out(&f);
  out << "series,x_name,x,value\n";
  for (int i = 0; i < plot_->graphCount(); ++i) {
    const QCPGraph* g = plot_->graph(i);
    const QString x_name = g->keyAxis() == loss_rect_->axis(QCPAxis::atBottom) ? QStringLiteral("step")
                                                                                 : QStringLiteral("epoch");
    const QString name = csvField(g->name());
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it)
      out << name << ',' << x_name << ',' << QString::number(it->key, 'g', 12) << ','
          << QString::number(it->value, 'g', 8) << '\n';
  }
  out.flush();
  if (out.status() != QTextStream::Ok || f.error() != QFileDevice::NoError) {
    if (error) *error = f.errorString();
    return false;
  }
  return true;
}

bool CurvePlot::exportPng(const QString& path, int width, int height) {
  flush();
  tracer_->setVisible(false);
  // An unshown or docked-small plot still exports at a readable size.
  if (width <= 0) width = std::max(plot_->width(), 900);
  if (height <= 0) height = std::max(plot_->height(), 600);
  return plot_->savePng(path, width, height);
}

void CurvePlot::exportCsvInteractive() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export curves"), QStringLiteral("curves.csv"),
                                                    tr("CSV (*.csv)"));
  if (path.isEmpty()) return;
  QString error;
  if (!exportCsv(path, &error)) QMessageBox::warning(this, tr("Export curves"), tr("Could not write %1: %2").arg(path, error));
}

void CurvePlot::exportPngInteractive() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export plot"), QStringLiteral("curves.png"),
                                                    tr("PNG image (*.png)"));
  if (path.isEmpty()) return;
  if (!exportPng(path)) QMessageBox::warning(this, tr("Export plot"), tr("Could not write %1").arg(path));
}

}  // namespace mls
