// The main window as a new user meets it: fits a small screen, every View toggle works, opening another
// project while a run trains asks first, the getting-started guide follows what really happened, and the
// project menu's generate / export actions work on the open project.
#include <QAction>
#include <QApplication>
#include <QDockWidget>
#include <QMenu>
#include <QMenuBar>
#include <QSpinBox>
#include <QCheckBox>
#include <QStyle>
#include <QStyleOptionButton>
#include <QPushButton>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "data/store/project_store.h"
#include "demo_generator.h"
#include "data/training/training_session.h"
#include "dialogs/relink_dialog.h"
#include "dialogs/single_positive_dialog.h"
#include "export_actions.h"
#include "guide/first_steps_guide.h"
#include "main_window.h"
#include "view/image_view.h"
#include "project_session.h"
#include "train/train_panel.h"

using namespace mls;

namespace {

TrainRequest slowTinyRequest() {
  TrainRequest r;
  r.method = Method::Q2L;
  r.loss = "asl";
  r.labels = "full";
  r.backbone = "tiny";
  r.image_size = 48;
  r.batch = 8;
  r.epochs = 200;  // far longer than the test: it is stopped
  r.lr = 1e-3;
  r.ema = 0;
  r.device = "cpu";
  r.workers = 1;
  return r;
}

// A small demo project in `dir` (48 px images), with or without generated single positives.
DemoDataset smallDemo(const QTemporaryDir& dir, int train, int val, bool single_positives = true) {
  DemoOptions d;
  d.train = train;
  d.val = val;
  d.size = 48;
  d.single_positives = single_positives;
  return createDemoProject(dir.path().toStdString(), d);
}

QAction* findAction(QMenuBar* bar, const QString& text) {
  for (QAction* top : bar->actions())
    if (top->menu())
      for (QAction* a : top->menu()->actions())
        if (a->text().remove(QLatin1Char('&')) == text) return a;
  return nullptr;
}

}  // namespace

class TestMainWindow : public QObject {
  Q_OBJECT
  QTemporaryDir dir_a_, dir_b_;
  QString project_a_, project_b_;

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    DemoOptions d;
    d.train = 60;
    d.val = 20;
    d.size = 48;
    project_a_ = QString::fromStdString(createDemoProject(dir_a_.path().toStdString(), d).project);
    d.single_positives = false;
    d.seed = 7;
    project_b_ = QString::fromStdString(createDemoProject(dir_b_.path().toStdString(), d).project);
  }

  void demoWithoutSinglePositivesLeavesImagesToLabel() {
    ProjectStore b(project_b_.toStdString());
    QCOMPARE(b.counts().single_positives, int64_t(0));
    QVERIFY(b.counts().labels > 0);  // ground truth is there (hidden in Annotate) for validation
    ProjectStore a(project_a_.toStdString());
    QCOMPARE(a.counts().single_positives, int64_t(60));
  }

  void demoIsNeverWrittenOverAFile() {
    const std::string existing = QFileInfo(project_a_).absoluteFilePath().toStdString();
    QFile f(project_a_);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray before = f.readAll();
    f.close();
    DemoOptions d;
    d.train = 5;
    d.val = 2;
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, createDemoProject(dir_a_.path().toStdString(), d));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), before);
    ProjectStore store(existing, ProjectStore::Open::Existing);
    QCOMPARE(store.counts().train, int64_t(60));  // the labelled project is still there
  }

  void fitsASmallScreen() {
    MainWindow w;
    QVERIFY(w.openProject(project_a_));
    w.show();
    for (auto tab : {MainWindow::Tab::Annotate, MainWindow::Tab::Train, MainWindow::Tab::Inspect}) {
      w.showTab(tab);
      const QSize min = w.minimumSizeHint().expandedTo(w.minimumSize());
      QString parts;
      for (auto* dock : w.findChildren<QDockWidget*>())
        parts += QStringLiteral(" %1 %2x%3").arg(dock->objectName()).arg(dock->minimumSizeHint().width()).arg(dock->minimumSizeHint().height());
      QVERIFY2(min.width() <= 1024 && min.height() <= 640,
               qPrintable(QStringLiteral("minimum %1x%2;%3").arg(min.width()).arg(min.height()).arg(parts)));
    }
    w.resize(1024, 640);
    QVERIFY(w.width() <= 1024 && w.height() <= 640);
  }

  void withoutAProjectSaysWhatToDo() {
    MainWindow w;
    QVERIFY(w.imageView()->message().contains(QStringLiteral("No project open")));
    QAction* generate = findAction(w.menuBar(), QStringLiteral("Generate single positives…"));
    QVERIFY(generate);
    QVERIFY(!generate->isEnabled());
    QVERIFY(w.openProject(project_a_));
    QVERIFY(generate->isEnabled());
  }

  void viewTogglesAreEnabled() {
    MainWindow w;
    QVERIFY(w.openProject(project_a_));
    w.show();
    QAction* images = findAction(w.menuBar(), QStringLiteral("Images"));
    QAction* tools = findAction(w.menuBar(), QStringLiteral("Tools"));
    QVERIFY(images && tools);
    QVERIFY(images->isEnabled());
    QVERIFY(tools->isEnabled());
    auto* dock = w.findChild<QDockWidget*>(QStringLiteral("ImagesDock"));
    images->trigger();
    QVERIFY(!dock->isVisible());
    images->trigger();
    QVERIFY(dock->isVisible());
  }

  void openingAnotherProjectWhileTrainingAsks() {
    MainWindow w;
    QVERIFY(w.openProject(project_a_));
    auto* train = w.findChild<TrainPanel*>();
    QVERIFY(train);
    QVERIFY(train->startWith(slowTinyRequest()));
    QVERIFY(train->isTraining());
    int asked = 0;
    QString asked_for;
    w.setLeavePrompt([&](const QString& next) {
      ++asked;
      asked_for = next;
      return MainWindow::LeaveChoice::Cancel;
    });
    QVERIFY(!w.openProject(project_b_));
    QCOMPARE(asked, 1);
    QCOMPARE(asked_for, project_b_);
    QCOMPARE(w.projectPath(), project_a_);  // nothing switched
    QVERIFY(train->isTraining());
    w.setLeavePrompt([&](const QString&) {
      ++asked;
      return MainWindow::LeaveChoice::StopRun;
    });
    QVERIFY(w.openProject(project_b_));
    QCOMPARE(asked, 2);
    QCOMPARE(w.projectPath(), project_b_);
    QVERIFY(!train->isTraining());
    // Not training any more: switching back asks nothing.
    QVERIFY(w.openProject(project_a_));
    QCOMPARE(asked, 2);
    // Keep it training: the run goes on in the background while the other project is open.
    QVERIFY(train->startWith(slowTinyRequest()));
    w.setLeavePrompt([&](const QString&) {
      ++asked;
      return MainWindow::LeaveChoice::KeepTraining;
    });
    QVERIFY(w.openProject(project_b_));
    QCOMPARE(asked, 3);
    QCOMPARE(w.projectPath(), project_b_);
    QVERIFY(!train->isTraining());
    QCOMPARE(train->backgroundRuns(), 1);
  }

  void guideFollowsWhatHappened() {
    QTemporaryDir dir;
    const QString path = QString::fromStdString(smallDemo(dir, 30, 10, false).project);
    MainWindow w;
    QVERIFY(w.openProject(path));
    FirstStepsGuide* g = w.guide();
    w.show();
    g->show();  // shown by itself only for the demo folder; hidden, it reads nothing
    QCOMPARE(g->currentStep(), 0);
    QVERIFY(g->stepsText().contains(QStringLiteral("number key")));
    // Label images through the store as the Annotate panel does, announcing each one.
    auto* store = w.session()->store();
    const auto images = store->images({});
    int labelled = 0;
    for (const auto& im : images) {
      if (im.split != Split::Train || labelled == FirstStepsGuide::kLabelsToStart) continue;
      const auto labels = store->labelsOf(im.id);
      if (labels.empty()) continue;
      store->setSinglePositive(im.id, labels.front(), AnnotationSource::User);
      w.session()->notifyAnnotationChanged(im.id);
      ++labelled;
      QCOMPARE(g->currentStep(), labelled < FirstStepsGuide::kLabelsToStart ? 0 : 1);
    }
    // Visiting tabs before a model exists does not count as seeing suggestions.
    g->tabShown(0);
    g->tabShown(2);
    QCOMPARE(g->currentStep(), 1);
    const auto run = store->createRun("r", "mlspl", "{}", "");
    store->finishRun(run, RunStatus::Finished, "", 0.5);
    w.session()->notifyRunsChanged();
    QCOMPARE(g->currentStep(), 2);
    g->tabShown(0);
    QCOMPARE(g->currentStep(), 3);
    g->tabShown(2);
    QCOMPARE(g->currentStep(), 4);
  }

  void generatesSinglePositivesKeepingTheUsers() {
    QTemporaryDir dir;
    const auto path = smallDemo(dir, 40, 10, false).project;
    ProjectStore store(path);
    const auto first = store.images({}).front();
    const auto labels = store.labelsOf(first.id);
    QVERIFY(!labels.empty());
    // The user's own choice, possibly not the one the draw would make.
    store.setSinglePositive(first.id, labels.back(), AnnotationSource::User);
    SinglePositiveDialog dialog(&store);
    dialog.seedBox()->setValue(5);
    QVERIFY(!dialog.overwriteBox()->isChecked());
    dialog.accept();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QCOMPARE(store.counts().single_positives, int64_t(40));
    const auto kept = store.singlePositive(first.id);
    QVERIFY(kept);
    QCOMPARE(kept->category_id, labels.back());
    QCOMPARE(kept->source, AnnotationSource::User);
    QVERIFY(dialog.summary().contains(QStringLiteral("1 set by hand were kept")));
    // The same seed on a copy draws the same labels (reproducible experiments).
    QTemporaryDir dir2;
    const auto path2 = smallDemo(dir2, 40, 10, false).project;
    ProjectStore store2(path2);
    SinglePositiveDialog again(&store2);
    again.seedBox()->setValue(5);
    again.accept();
    const auto a = store.singlePositives(Split::Train);
    const auto b = store2.singlePositives(Split::Train);
    for (const auto& [id, sp] : b)
      if (id != first.id) QCOMPARE(a.at(id).category_id, sp.category_id);
  }

  void exportsRunWeightsFromTheGui() {
    TrainRequest r = slowTinyRequest();
    r.epochs = 1;
    r.project = project_a_.toStdString();
    const auto outcome = TrainingSession(r).run();
    MainWindow w;
    QVERIFY(w.openProject(project_a_));
    const QString out = dir_a_.path() + QStringLiteral("/weights.pth");
    QString summary;
    bool ok = false, called = false;
    startRunWeightsExport(&w, w.session(), outcome.run_id, out, [&](const QString& text, bool success) {
      summary = text;
      ok = success;
      called = true;
    });
    QTRY_VERIFY_WITH_TIMEOUT(called, 30000);
    QVERIFY2(ok, qPrintable(summary));
    QVERIFY(QFileInfo(out).size() > 1000);
    QVERIFY(QFileInfo::exists(out + QStringLiteral(".json")));
    // An unknown run reports an error instead of writing anything.
    called = false;
    startRunWeightsExport(&w, w.session(), 987654, dir_a_.path() + QStringLiteral("/none.pth"),
                          [&](const QString& text, bool success) {
                            summary = text;
                            ok = success;
                            called = true;
                          });
    QTRY_VERIFY_WITH_TIMEOUT(called, 30000);
    QVERIFY(!ok);
    QVERIFY(summary.contains(QStringLiteral("987654")));
    QVERIFY(!QFileInfo::exists(dir_a_.path() + QStringLiteral("/none.pth")));
  }

  void relinksAMovedImagesFolder() {
    QTemporaryDir dir;
    const auto ds = smallDemo(dir, 20, 5);
    const QString moved = dir.path() + QStringLiteral("/moved");
    QVERIFY(QDir().rename(QString::fromStdString(ds.images_dir), moved));
    MainWindow w;
    QVERIFY(w.openProject(QString::fromStdString(ds.project)));
    QVERIFY(w.statusBar()->currentMessage().contains(QStringLiteral("Relink")));
    RelinkDialog dialog(w.session()->store(), w.projectFolder());
    QCOMPARE(dialog.table()->rowCount(), 1);
    QCOMPARE(dialog.table()->item(0, 2)->text(), QStringLiteral("0"));  // nothing found where it was
    QVERIFY(!dialog.relinkButton()->isEnabled());
    dialog.setCandidate(dir.path());  // the wrong folder: nothing there
    QCOMPARE(dialog.filesFound(), int64_t(0));
    QVERIFY(!dialog.relinkButton()->isEnabled());
    dialog.setCandidate(moved);
    QCOMPARE(dialog.filesFound(), int64_t(25));
    QVERIFY(dialog.relinkButton()->isEnabled());
    dialog.accept();
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QVERIFY(dialog.summary().contains(QStringLiteral("25 of 25")));
    QCOMPARE(w.session()->store()->imageFolders().front().present, int64_t(25));
    const auto image = w.session()->store()->images({}).front();
    QVERIFY(QFileInfo::exists(QString::fromStdString(w.session()->store()->imagePath(image))));
  }

  void darkPaletteKeepsPlaceholdersAndCheckBoxesVisible() {
    MainWindow w;
    w.setDarkPalette(true);
    const QPalette p = qApp->palette();
    QVERIFY(p.color(QPalette::PlaceholderText).lightness() - p.color(QPalette::Base).lightness() > 80);
    // An unchecked check box keeps a visible frame: its border pixels stand out from the base colour.
    QCheckBox box;
    box.resize(box.sizeHint());
    const QImage img = box.grab().toImage();
    QStyleOptionButton opt;
    opt.initFrom(&box);
    const QRect r = box.style()->subElementRect(QStyle::SE_CheckBoxIndicator, &opt, &box);
    const int border = img.pixelColor(r.left(), r.center().y()).lightness();
    QVERIFY2(border - p.color(QPalette::Base).lightness() > 40, qPrintable(QString::number(border)));
    w.setDarkPalette(false);
  }

  void exportsStartInTheProjectFolder() {
    MainWindow w;
    QVERIFY(w.openProject(project_a_));
    QCOMPARE(w.projectFolder(), QFileInfo(project_a_).absolutePath());
    QVERIFY(w.projectFolder() != QDir::currentPath());
  }
};

QTEST_MAIN(TestMainWindow)
#include "test_main_window.moc"
