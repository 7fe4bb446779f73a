// The Project menu's exports, each starting in the project's folder: annotations (CSV / COCO json) and a run's
// weights as a PyTorch state dict (README "Use a trained model in PyTorch").
#pragma once
#include <QString>
#include <functional>

class QObject;
class QWidget;

namespace mls {
class ProjectSession;

// Asks for a file and writes the project's images, labels and single positives. Returns the status-bar
// summary, or an empty string when the user cancelled; errors are shown in a message box.
QString exportAnnotationsInteractive(QWidget* parent, ProjectSession* session);

// Asks for a file and writes run `run_id`'s best weights under the authors' names, on a worker thread with
// its own connection (rebuilding a ResNet-101 takes seconds). `done` receives the summary or error text.
void exportRunWeightsInteractive(QWidget* parent, ProjectSession* session, qint64 run_id,
                                 const std::function<void(const QString& summary, bool ok)>& done);

// The worker part of the above, without the file dialog.
void startRunWeightsExport(QObject* context, ProjectSession* session, qint64 run_id, const QString& out_path,
                           const std::function<void(const QString& summary, bool ok)>& done);

}  // namespace mls
