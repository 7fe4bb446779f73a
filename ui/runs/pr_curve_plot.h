// Precision-recall curves of chosen classes of one run, drawn as steps in threshold order (parametric
// curves: several points can share a recall, so precision is not a function of recall).
#pragma once
#include <QString>
#include <QVector>
#include <QWidget>

class QCustomPlot;

namespace mls {

struct PrCurve;

class PrCurvePlot : public QWidget {
  Q_OBJECT
 public:
  struct Entry {
    QString label;  // e.g. "cat (AP 91.20)"
    const PrCurve* curve = nullptr;
  };
  explicit PrCurvePlot(QWidget* parent = nullptr);
  void setCurves(const QVector<Entry>& entries);  // the curves are copied into the plot
  int curveCount() const;
  QCustomPlot* plot() const { return plot_; }

 private:
  QCustomPlot* plot_;
};

}  // namespace mls
