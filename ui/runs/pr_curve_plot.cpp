#include "runs/pr_curve_plot.h"

#include <QVBoxLayout>
#include <iterator>

#include "data/eval/precision_recall.h"
#include "train/qcustomplot_include.h"

namespace mls {

namespace {
const QColor kPalette[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
                           {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
}

PrCurvePlot::PrCurvePlot(QWidget* parent) : QWidget(parent), plot_(new QCustomPlot(this)) {
  plot_->setMinimumSize(240, 200);
  plot_->xAxis->setLabel(tr("recall"));
  plot_->yAxis->setLabel(tr("precision"));
  plot_->xAxis->setRange(0, 1);
  plot_->yAxis->setRange(0, 1.05);
  plot_->legend->setVisible(true);
  plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignLeft | Qt::AlignBottom);
  plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(plot_);
}

void PrCurvePlot::setCurves(const QVector<Entry>& entries) {
  plot_->clearPlottables();
  int color = 0;
  for (const auto& e : entries) {
    if (!e.curve || e.curve->recall.empty()) continue;
    auto* c = new QCPCurve(plot_->xAxis, plot_->yAxis);
    c->setName(e.label);
    c->setPen(QPen(kPalette[color++ % std::size(kPalette)], 1.8));
    // Steps, as scikit-learn's PrecisionRecallDisplay draws them: each point's precision holds back to
    // the previous recall, so the area under the line is the AP (straight lines between points would
    // overstate it).
    const auto& r = e.curve->recall;
    const auto& p = e.curve->precision;
    QVector<double> t, x, y;
    auto add = [&](double rx, double py) {
      t.push_back(t.size());
      x.push_back(rx);
      y.push_back(py);
    };
    add(r[0], p[0]);
    for (size_t i = 1; i < r.size(); ++i) {
      add(r[i - 1], p[i]);
      add(r[i], p[i]);
    }
    c->setData(t, x, y, true);
  }
  plot_->replot();
}

int PrCurvePlot::curveCount() const { return plot_->plottableCount(); }

}  // namespace mls
