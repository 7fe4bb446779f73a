#include "export_actions.h"

#include <QApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QMessageBox>
#include <QtConcurrent/QtConcurrentRun>

#include "data/coco/project_export.h"
#include "data/store/project_store.h"
#include "data/training/run_weights_export.h"
#include "project_session.h"

namespace mls {

namespace {
QString projectBase(ProjectSession* session) {
  const QFileInfo info(session->path());
  return info.absolutePath() + QLatin1Char('/') + info.completeBaseName();
}
}  // namespace

QString exportAnnotationsInteractive(QWidget* parent, ProjectSession* session) {
  if (!session->isOpen()) return {};
  QString filter;
  const QString out = QFileDialog::getSaveFileName(parent, QObject::tr("Export annotations"),
                                                   projectBase(session) + QStringLiteral("-labels.csv"),
                                                   QObject::tr("CSV (*.csv);;COCO JSON (*.json)"), &filter);
  if (out.isEmpty()) return {};
  const bool coco = out.endsWith(QLatin1String(".json"), Qt::CaseInsensitive) ||
                    (!out.endsWith(QLatin1String(".csv"), Qt::CaseInsensitive) && filter.contains(QLatin1String("json")));
  try {
    QApplication::setOverrideCursor(Qt::WaitCursor);
    const auto n = coco ? exportCoco(*session->store(), out.toStdString()) : exportCsv(*session->store(), out.toStdString());
    QApplication::restoreOverrideCursor();
    return QObject::tr("Exported %1 images to %2").arg(n).arg(out);
  } catch (const std::exception& e) {
    QApplication::restoreOverrideCursor();
    QMessageBox::warning(parent, QObject::tr("Export failed"), QString::fromUtf8(e.what()));
    return {};
  }
}

void exportRunWeightsInteractive(QWidget* parent, ProjectSession* session, qint64 run_id,
                                 const std::function<void(const QString&, bool)>& done) {
  if (!session->isOpen()) return;
  if (run_id < 0) {
    QMessageBox::information(parent, QObject::tr("Export run weights"),
                             QObject::tr("Choose a trained run first (the Train tab's run list)."));
    return;
  }
  const QString out = QFileDialog::getSaveFileName(parent, QObject::tr("Export run weights"),
                                                   projectBase(session) + QStringLiteral("-run%1.pth").arg(run_id),
                                                   QObject::tr("PyTorch state dict (*.pth *.pt)"));
  if (!out.isEmpty()) startRunWeightsExport(parent, session, run_id, out, done);
}

void startRunWeightsExport(QObject* context, ProjectSession* session, qint64 run_id, const QString& out,
                           const std::function<void(const QString&, bool)>& done) {
  const std::string project = session->path().toStdString();
  auto* watcher = new QFutureWatcher<QString>(context);
  QObject::connect(watcher, &QFutureWatcher<QString>::finished, context, [watcher, done] {
    const QString text = watcher->result();
    watcher->deleteLater();
    const bool ok = !text.startsWith(QLatin1String("error: "));
    done(ok ? text : text.mid(7), ok);
  });
  watcher->setFuture(QtConcurrent::run([project, run_id, out]() -> QString {
    try {
      ProjectStore store(project, ProjectStore::Open::Existing);
      const auto r = exportRunWeights(store, run_id, out.toStdString());
      QString text = QObject::tr("Run %1's weights (epoch %2%3) written to %4 as %5%6")
                         .arg(run_id)
                         .arg(r.epoch)
                         .arg(r.ema ? QObject::tr(", EMA") : QString())
                         .arg(out, QString::fromStdString(r.module))
                         .arg(r.exact ? QString() : QObject::tr(" (backbone not in the authors' code)"));
      return text;
    } catch (const std::exception& e) {
      return QStringLiteral("error: ") + QString::fromUtf8(e.what());
    }
  }));
}

}  // namespace mls
