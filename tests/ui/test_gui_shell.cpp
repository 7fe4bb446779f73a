// The GUI shell opens a demo project offscreen and shows its images in the thumbnail grid.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QListView>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "browser/thumbnail_model.h"
#include "demo_generator.h"
#include "main_window.h"

class TestGuiShell : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString project_;

 private Q_SLOTS:
  void initTestCase() {
    mls::DemoOptions d;
    d.train = 700;
    d.val = 50;
    d.size = 64;
    project_ = QString::fromStdString(mls::createDemoProject(dir_.path().toStdString(), d).project);
  }

  void opensDemoProject() {
    mls::MainWindow w;
    QVERIFY(w.openProject(project_));
    w.show();
    auto* model = w.thumbnailModel();
    QCOMPARE(model->totalCount(), 750);
    QCOMPARE(model->rowCount(), mls::ThumbnailModel::kBatch);  // lazily fetched
    while (model->canFetchMore({})) model->fetchMore({});
    QCOMPARE(model->rowCount(), 750);
    QCOMPARE(w.browser()->model(), model);
    // Thumbnails arrive from the thread pool.
    const QModelIndex first = model->index(0);
    (void)model->data(first, Qt::DecorationRole);
    QTRY_VERIFY_WITH_TIMEOUT(model->data(first, Qt::DecorationRole).value<QPixmap>().toImage().pixel(32, 20) !=
                                 QColor(60, 60, 60).rgb(),
                             5000);
    QCOMPARE(model->data(first, Qt::DisplayRole).toString(), QString("train_000001.jpg"));
  }

  void modelTester() {
    mls::ThumbnailModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setProject(project_);
    mls::ImageFilter f;
    f.split = mls::Split::Val;
    model.setFilter(f);
    QCOMPARE(model.totalCount(), 50);
  }

  void openingAMissingFileKeepsRunning() {
    mls::MainWindow w;
    QVERIFY(w.openProject(project_));
    QTimer::singleShot(200, [] {
      for (auto* wd : QApplication::topLevelWidgets())
        if (wd->inherits("QMessageBox")) wd->close();
    });
    QVERIFY(!w.openProject(dir_.path() + "/nope.mlsproj"));
    QCOMPARE(w.projectPath(), project_);
  }
};

QTEST_MAIN(TestGuiShell)
#include "test_gui_shell.moc"
