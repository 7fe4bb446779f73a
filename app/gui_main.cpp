// mlstudio: the desktop app. With no arguments it opens the embedded demo project (generated on first run).
// --screenshot renders the window offscreen-capable at 1400x900 into a PNG and exits (README pictures, checks).
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>
#include <iostream>

#include "data/store/project_store.h"
#include "data/training/training_session.h"
#include "demo_project.h"
#include "main_window.h"
#include "project_session.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("mlstudio"));
  QApplication::setOrganizationName(QStringLiteral("MultiLabelStudio"));
  QApplication::setApplicationDisplayName(QStringLiteral("Multi-Label Studio"));

  QCommandLineParser cli;
  cli.setApplicationDescription(QStringLiteral("Multi-Label Studio: annotate single positives, train, inspect."));
  cli.addHelpOption();
  const QCommandLineOption project({QStringLiteral("p"), QStringLiteral("project")},
                                   QStringLiteral("Project file to open (default: the demo project)."),
                                   QStringLiteral("FILE"));
  const QCommandLineOption tab(QStringLiteral("tab"), QStringLiteral("Tab to show: annotate, train, inspect or runs."),
                               QStringLiteral("TAB"), QStringLiteral("annotate"));
  const QCommandLineOption run(QStringLiteral("run"), QStringLiteral("Run (id or name) to select."), QStringLiteral("RUN"));
  const QCommandLineOption image(QStringLiteral("image"), QStringLiteral("Image id to select."), QStringLiteral("ID"));
  const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                      QStringLiteral("Render the window at 1400x900 into OUT.png and exit."),
                                      QStringLiteral("OUT.png"));
  cli.addOptions({project, tab, run, image, screenshot});
  cli.process(app);

  const QString tab_name = cli.value(tab);
  if (tab_name != QLatin1String("annotate") && tab_name != QLatin1String("train") && tab_name != QLatin1String("inspect") &&
      tab_name != QLatin1String("runs")) {
    std::cerr << "error: --tab must be annotate, train, inspect or runs" << std::endl;
    return 2;
  }
  QString path = cli.value(project);
  try {
    if (path.isEmpty()) path = mls::ensureDemoProject();
  } catch (const std::exception& e) {
    std::cerr << "error: cannot create the demo project: " << e.what() << std::endl;
    return 1;
  }

  mls::MainWindow window;
  const bool shot = cli.isSet(screenshot);
  if (!window.openProject(path, shot)) {
    if (shot) {
      std::cerr << "error: cannot open project " << path.toStdString() << std::endl;
      return 1;
    }
  }
  try {
    if (cli.isSet(run) && window.session()->isOpen())
      window.session()->setCurrentRun(mls::resolveRunId(*window.session()->store(), cli.value(run).toStdString()));
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    if (shot) return 1;
  }
  if (cli.isSet(image)) window.session()->setCurrentImage(cli.value(image).toLongLong());
  if (shot) window.resize(1400, 900);  // before choosing the tab: its dock layout follows the window's width
  window.showTab(tab_name == QLatin1String("train")     ? mls::MainWindow::Tab::Train
                 : tab_name == QLatin1String("inspect") ? mls::MainWindow::Tab::Inspect
                 : tab_name == QLatin1String("runs")    ? mls::MainWindow::Tab::Runs
                                                        : mls::MainWindow::Tab::Annotate);
  window.show();
  if (shot) {
    const QString out = cli.value(screenshot);
    // Give thumbnails and the Inspect worker time to arrive before grabbing.
    QTimer::singleShot(3000, &window, [&window, out] {
      const bool ok = window.grab().save(out);
      if (!ok) std::cerr << "error: cannot write " << out.toStdString() << std::endl;
      QApplication::exit(ok ? 0 : 1);
    });
  }
  return app.exec();
}
