// Loss (per step, smoothed as TensorBoard does) and val mAP (per epoch, raw and EMA weights) of several
// runs overlaid, one colour per run. Reads the curves with loadRunCurves, as the Train tab does.
#pragma once
#include <QHash>
#include <QList>
#include <QWidget>

#include "train/run_curves.h"

class QCustomPlot;
class QCPAxisRect;
class QCPGraph;

namespace mls {

class RunComparePlot : public QWidget {
  Q_OBJECT
 public:
  static constexpr double kSmoothing = 0.9;  // the Train tab's default
  explicit RunComparePlot(QWidget* parent = nullptr);
  // Replaces the drawn runs; the order gives the colours.
  void setRuns(const QList<QPair<qint64, QString>>& runs, const QHash<qint64, RunCurves>& curves);
  QList<qint64> drawnRuns() const { return drawn_; }
  QCPGraph* lossGraph(qint64 run_id) const { return loss_.value(run_id); }
  QCPGraph* mapGraph(qint64 run_id) const { return map_.value(run_id); }
  QCustomPlot* plot() const { return plot_; }

 private:
  QCustomPlot* plot_;
  QCPAxisRect* loss_rect_;
  QCPAxisRect* map_rect_;
  QList<qint64> drawn_;
  QHash<qint64, QCPGraph*> loss_, map_;
};

}  // namespace mls
