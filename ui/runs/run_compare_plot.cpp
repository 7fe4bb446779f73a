#include "runs/run_compare_plot.h"

#include <QVBoxLayout>
#include <iterator>

#include "train/ema_smoother.h"
#include "train/qcustomplot_include.h"

namespace mls {

namespace {
const QColor kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
                           {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
}

RunComparePlot::RunComparePlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
  plot_->setMinimumHeight(220);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  loss_rect_ = plot_->axisRect();
  map_rect_ = new QCPAxisRect(plot_);
  plot_->plotLayout()->addElement(1, 0, map_rect_);
  auto* margins = new QCPMarginGroup(plot_);
  loss_rect_->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
  map_rect_->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
  loss_rect_->axis(QCPAxis::atBottom)->setLabel(tr("step"));
  loss_rect_->axis(QCPAxis::atLeft)->setLabel(tr("loss (smoothed %1)").arg(kSmoothing));
  map_rect_->axis(QCPAxis::atBottom)->setLabel(tr("epoch"));
  map_rect_->axis(QCPAxis::atLeft)->setLabel(tr("val mAP (%)"));
  QSharedPointer<QCPAxisTickerFixed> epoch_ticks(new QCPAxisTickerFixed);
  epoch_ticks->setTickStep(1.0);
  epoch_ticks->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);  // whole epochs, fewer when crowded
  map_rect_->axis(QCPAxis::atBottom)->setTicker(epoch_ticks);
  plot_->legend->setVisible(true);
  plot_->legend->setBrush(QColor(255, 255, 255, 210));
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
}

void RunComparePlot::setRuns(const QList<QPair<qint64, QString>>& runs, const QHash<qint64, RunCurves>& curves) {
  plot_->clearGraphs();
  drawn_.clear();
  loss_.clear();
  map_.clear();
  int color = 0;
  for (const auto& [run_id, label] : runs) {
    const auto it = curves.constFind(run_id);
    if (it == curves.constEnd()) continue;
    const QColor c = kPalette[color++ % std::size(kPalette)];
    auto* loss = plot_->addGraph(loss_rect_->axis(QCPAxis::atBottom), loss_rect_->axis(QCPAxis::atLeft));
    loss->setName(label);
    loss->setPen(QPen(c, 1.8));
    EmaSmoother smoother(kSmoothing);
    QVector<double> smoothed;
    for (double v : it->loss) smoothed.push_back(smoother.add(v));
    loss->setData(it->loss_steps, smoothed, true);
    // The better of raw and EMA weights is what the run reports as val mAP; draw raw solid, EMA dashed.
    auto* map = plot_->addGraph(map_rect_->axis(QCPAxis::atBottom), map_rect_->axis(QCPAxis::atLeft));
    map->removeFromLegend();
    map->setPen(QPen(c, 1.8));
    map->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, c, c, 4));
    map->setData(it->raw_epochs, it->map_raw, true);
    if (!it->map_ema.isEmpty()) {
      auto* ema = plot_->addGraph(map_rect_->axis(QCPAxis::atBottom), map_rect_->axis(QCPAxis::atLeft));
      ema->removeFromLegend();
      ema->setPen(QPen(c, 1.5, Qt::DashLine));
      ema->setData(it->ema_epochs, it->map_ema, true);
    }
    drawn_.push_back(run_id);
    loss_[run_id] = loss;
    map_[run_id] = map;
  }
  for (auto* rect : {loss_rect_, map_rect_}) {
    bool any = false;
    for (auto* g : rect->graphs()) {
      g->rescaleAxes(any);
      any = true;
    }
  }
  plot_->replot();
}

}  // namespace mls
