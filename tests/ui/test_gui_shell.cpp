// The GUI shell opens a demo project offscreen and shows its images in the thumbnail grid.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QListView>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "browser/browser_panel.h"
#include "browser/thumbnail_model.h"
#include "view/image_view.h"
#include "demo_generator.h"
#include "data/store/project_store.h"
#include "main_window.h"
#include "project_session.h"

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
    QVERIFY(model->rowCount() >= mls::ThumbnailModel::kBatch);  // fetched in batches as the view needs them
    QVERIFY(model->rowCount() % mls::ThumbnailModel::kBatch == 0 || model->rowCount() == 750);
    while (model->canFetchMore({})) model->fetchMore({});
    QCOMPARE(model->rowCount(), 750);
    QCOMPARE(w.browserPanel()->view()->model(), model);
    QVERIFY(!w.imageView()->image().isNull());  // first image shown large
    // Thumbnails arrive from the thread pool.
    const QModelIndex first = model->index(0);
    (void)model->data(first, Qt::DecorationRole);
    QTRY_VERIFY_WITH_TIMEOUT(model->data(first, Qt::DecorationRole).value<QPixmap>().toImage().pixel(32, 20) !=
                                 QColor(60, 60, 60).rgb(),
                             5000);
    QCOMPARE(model->data(first, Qt::DisplayRole).toString(), QString("train_000001.jpg"));
  }

  // A file that is not a project is refused with its reason, left byte-for-byte unchanged, and the project
  // already open stays open.
  void refusesForeignFilesUnchanged() {
    const QString foreign = dir_.path() + "/foreign.mlsproj";
    {
      QFile f(foreign);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("not a database, just some user's text\n");
    }
    mls::ProjectSession session;
    QVERIFY(session.open(project_));
    QString error;
    QVERIFY(!session.open(foreign, &error));
    QVERIFY2(error.contains("is not a Multi-Label Studio project (not an SQLite database)"), qPrintable(error));
    QCOMPARE(session.path(), project_);
    QFile f(foreign);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), QByteArray("not a database, just some user's text\n"));
    mls::MainWindow w;
    QVERIFY(!w.openProject(foreign, true));
  }

  void filtersGiveTheRightCounts() {
    mls::MainWindow w;
    QVERIFY(w.openProject(project_));
    auto* b = w.browserPanel();
    b->setFilterControls("val", "all", -1, true, "");
    QCOMPARE(w.thumbnailModel()->totalCount(), 50);
    b->setFilterControls("train", "yes", -1, true, "");
    QCOMPARE(w.thumbnailModel()->totalCount(), 700);  // demo: every train image has a generated positive
    b->setFilterControls("all", "no", -1, true, "");
    QCOMPARE(w.thumbnailModel()->totalCount(), 50);
    b->setFilterControls("all", "all", -1, true, "VAL_00071");
    QCOMPARE(w.thumbnailModel()->totalCount(), 10);  // val_000710 .. val_000719, case-insensitive
    // Class filter: equals the store's count of images labelled with category 1.
    mls::ProjectStore store(project_.toStdString());
    mls::ImageFilter f;
    f.category_id = 1;
    b->setFilterControls("all", "all", 1, true, "");
    QCOMPARE(w.thumbnailModel()->totalCount(), static_cast<int>(store.countImages(f)));
    f.category_in_ground_truth = false;
    b->setFilterControls("all", "all", 1, false, "");
    QCOMPARE(w.thumbnailModel()->totalCount(), static_cast<int>(store.countImages(f)));
    // Selecting a thumbnail makes it the current image.
    b->setFilterControls("all", "all", -1, true, "");
    b->view()->setCurrentIndex(w.thumbnailModel()->index(3));
    QCOMPARE(w.session()->currentImage(), w.thumbnailModel()->imageIdAt(3));
  }

  void modelTester() {
    mls::ThumbnailModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    model.setProject(project_);
    // The tester may already have asked for rows; each fetch adds exactly one batch.
    const int before = model.rowCount();
    QVERIFY(before == 0 || before == mls::ThumbnailModel::kBatch);
    model.fetchMore({});
    QCOMPARE(model.rowCount(), before == 0 ? mls::ThumbnailModel::kBatch : 750);
    mls::ImageFilter f;
    f.split = mls::Split::Val;
    model.setFilter(f);
    QCOMPARE(model.totalCount(), 50);
  }

  void openingAMissingFileKeepsRunning() {
    mls::MainWindow w;
    QVERIFY(w.openProject(project_));
    QVERIFY(!w.openProject(dir_.path() + "/nope.mlsproj", /*quiet=*/true));
    QCOMPARE(w.projectPath(), project_);
  }
};

QTEST_MAIN(TestGuiShell)
#include "test_gui_shell.moc"
