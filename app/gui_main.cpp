// mlstudio: the desktop app. With no arguments it opens the embedded demo project (generated on first run).
#include <QApplication>
#include <QCommandLineParser>
#include <QScreen>
#include <QTimer>
#include <iostream>

#include "demo_project.h"
#include "main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("mlstudio"));
  QApplication::setOrganizationName(QStringLiteral("MultiLabelStudio"));
  QApplication::setApplicationDisplayName(QStringLiteral("Multi-Label Studio"));

  QCommandLineParser cli;
  cli.setApplicationDescription(QStringLiteral("Multi-Label Studio: annotate single positives, train, inspect."));
  cli.addHelpOption();
  QCommandLineOption project({QStringLiteral("p"), QStringLiteral("project")}, QStringLiteral("Project file to open."),
                             QStringLiteral("FILE"));
  QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                QStringLiteral("Render the window at 1400x900 into OUT.png and exit."),
                                QStringLiteral("OUT.png"));
  cli.addOption(project);
  cli.addOption(screenshot);
  cli.process(app);

  mls::MainWindow window;
  QString path = cli.value(project);
  try {
    if (path.isEmpty()) path = mls::ensureDemoProject();
  } catch (const std::exception& e) {
    std::cerr << "error: cannot create the demo project: " << e.what() << std::endl;
    return 1;
  }
  if (!window.openProject(path) && cli.isSet(screenshot)) return 1;

  if (cli.isSet(screenshot)) {
    window.resize(1400, 900);
    window.show();
    const QString out = cli.value(screenshot);
    // Let queued thumbnail decodes arrive before grabbing.
    QTimer::singleShot(1500, &window, [&window, out] {
      const bool ok = window.grab().save(out);
      if (!ok) std::cerr << "error: cannot write " << out.toStdString() << std::endl;
      QApplication::exit(ok ? 0 : 1);
    });
    return app.exec();
  }
  window.show();
  return app.exec();
}
