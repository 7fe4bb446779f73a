#include "demo_project.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

#include "demo_generator.h"

namespace mls {

QString demoProjectDir() {
  return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/demo");
}

QString ensureDemoProject() {
  const QString dir = demoProjectDir();
  const QString project = dir + QStringLiteral("/demo.mlsproj");
  if (QFileInfo::exists(project)) return project;
  QDir().mkpath(dir);
  DemoOptions options;
  options.single_positives = false;  // a new user's first project: images left to label
  createDemoProject(dir.toStdString(), options);
  return project;
}

}  // namespace mls
