// The curves leave the plot as CSV (every graph, long format) or as a PNG of the plots.
#include <QFile>
#include <QDir>
#include <QFileDialog>
#include <QMessageBox>
#include <QTextStream>

#include "train/curve_plot.h"
#include "train/qcustomplot_include.h"

namespace mls {

namespace {

QString csvField(const QString& s) {
  if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"'))) return s;
  QString q = s;
  q.replace(QLatin1String("\""), QLatin1String("\"\""));
  return QLatin1Char('"') + q + QLatin1Char('"');
}

}  // namespace

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

namespace {
QString exportStart(const QString& dir, const QString& name) {
  return (dir.isEmpty() ? QDir::homePath() : dir) + QLatin1Char('/') + name;
}
}  // namespace

void CurvePlot::exportCsvInteractive() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export curves"), exportStart(export_dir_, QStringLiteral("curves.csv")),
                                                    tr("CSV (*.csv)"));
  if (path.isEmpty()) return;
  QString error;
  if (!exportCsv(path, &error)) QMessageBox::warning(this, tr("Export curves"), tr("Could not write %1: %2").arg(path, error));
}

void CurvePlot::exportPngInteractive() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Export plot"), exportStart(export_dir_, QStringLiteral("curves.png")),
                                                    tr("PNG image (*.png)"));
  if (path.isEmpty()) return;
  if (!exportPng(path)) QMessageBox::warning(this, tr("Export plot"), tr("Could not write %1").arg(path));
}

}  // namespace mls
