// Live training curves: loss per step (raw, faint, plus a debiased-EMA smoothed line) on top, val mAP per
// epoch for raw and EMA weights below, earlier runs overlaid. Incoming points are buffered and drawn by a
// 40 ms timer, never once per batch. Hover shows values; the curves export as CSV and PNG.
#pragma once
#include <QHash>
#include <QPointer>
#include <QString>
#include <QTimer>
#include <QVector>
#include <QWidget>

#include "train/ema_smoother.h"
#include "train/run_curves.h"

class QCheckBox;
class QCustomPlot;
class QCPAxisRect;
class QCPGraph;
class QCPItemTracer;
class QCPLegend;
class QLabel;
class QMouseEvent;
class QSlider;

namespace mls {

class CurvePlot : public QWidget {
  Q_OBJECT
 public:
  static constexpr int kReplotIntervalMs = 40;
  explicit CurvePlot(QWidget* parent = nullptr);
  ~CurvePlot() override;

  // Clears the live curves and names them after the run that is starting.
  void startLive(qint64 run_id, const QString& label);
  // Names the live curves once the run exists, keeping the points drawn so far.
  void setLiveRun(qint64 run_id, const QString& label);
  qint64 liveRunId() const { return live_run_; }
  // Buffered; drawn at the next throttle tick.
  void addLossPoints(const QVector<double>& steps, const QVector<double>& losses);
  void addEpoch(int epoch, double map_raw, double map_ema);  // NaN values are skipped

  // Draws or replaces (in place) a run's overlay; the live run is never overlaid (it is drawn live).
  void setOverlay(qint64 run_id, const QString& label, const RunCurves& curves);
  void removeOverlay(qint64 run_id);
  void clearOverlays();
  bool hasOverlay(qint64 run_id) const { return overlays_.contains(run_id); }
  QList<qint64> overlayIds() const;
  // Shows or hides the live run's curves (its row's tick in the runs list).
  void setLiveVisible(bool visible);
  bool liveVisible() const { return live_visible_; }
  // The epoch axis spans 0..epochs while a run of that many epochs trains.
  void setPlannedEpochs(int epochs);
  // Back to a fresh plot: no live points, no overlays, default ranges (another project was opened).
  void reset();
  // The colour the plot is painted with (follows the palette).
  QColor plotBackground() const;

  void setSmoothing(double alpha);  // [0, 1); recomputes every smoothed line
  double smoothing() const { return alpha_; }
  void setLogScale(bool on);

  bool exportCsv(const QString& path, QString* error = nullptr);  // long format: series,x_name,x,value
  bool exportPng(const QString& path, int width = 0, int height = 0);

  // For tests and status text.
  int liveLossPoints() const { return live_.loss.size(); }
  int liveEpochPoints() const { return live_.raw_epochs.size(); }
  int drawnLossPoints() const;
  int overlayLossPoints(qint64 run_id) const;  // points of a run's overlaid loss curve, -1 when not overlaid  // points in the live raw-loss graph (after the throttle flushed them)
  int replotCount() const { return replots_; }
  QVector<double> liveSmoothedLoss() const;
  QCustomPlot* plot() const { return plot_; }
  // Text of the data point nearest to pos (plot pixels) within a few pixels, else empty.
  QString describePointAt(const QPointF& pos, QCPGraph** graph = nullptr, double* key = nullptr) const;

 public Q_SLOTS:
  void flush();  // draw buffered points now (the throttle timer calls this)
  void exportCsvInteractive();
  void exportPngInteractive();

  // Where the CSV/PNG export dialogs start (the project's folder; home when empty).
  void setExportDir(const QString& dir) { export_dir_ = dir; }

 private:
  struct Overlay {
    QString label;
    RunCurves curves;
    QCPGraph* loss = nullptr;
    QCPGraph* map_raw = nullptr;
    QCPGraph* map_ema = nullptr;
  };
  void changeEvent(QEvent* event) override;
  QCPGraph* addGraph(QCPAxisRect* rect, bool in_legend, const QString& name, const QPen& pen, bool points);
  void removeGraph(QCPGraph* graph);
  void applyPalette();
  void fillSmoothed(QCPGraph* graph, const QVector<double>& steps, const QVector<double>& losses) const;
  void rescale();
  void syncLegend();
  void requestReplot();
  void onMouseMove(QMouseEvent* event);
  QColor overlayColor(qint64 run_id) const;

  QCustomPlot* plot_;
  QString export_dir_;
  QCPAxisRect* loss_rect_;
  QCPAxisRect* map_rect_;
  QCPItemTracer* tracer_;
  QSlider* smoothing_slider_;
  QLabel* smoothing_label_;
  QCheckBox* log_box_;
  QTimer throttle_;

  qint64 live_run_ = -1;
  QString live_label_;
  RunCurves live_;
  EmaSmoother live_smoother_;
  QCPGraph* live_loss_raw_;
  QCPGraph* live_loss_smooth_;
  QCPGraph* live_map_raw_;
  QCPGraph* live_map_ema_;
  // Points received but not yet drawn.
  QVector<double> pending_steps_, pending_losses_;
  QVector<QPair<int, QPair<double, double>>> pending_epochs_;
  QHash<qint64, Overlay> overlays_;

  double alpha_ = 0.9;
  bool log_scale_ = false;
  bool live_visible_ = true;
  int planned_epochs_ = 0;
  bool follow_ = true;  // rescale to the data until the user zooms or drags; double-click restores
  bool dirty_ = false;
  int replots_ = 0;
};

}  // namespace mls
