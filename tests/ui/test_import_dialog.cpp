// Project ▸ New from COCO: a malformed file is rejected with a readable message and the project is unchanged;
// a good file imports on the worker thread and reports the project.
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "data/store/project_store.h"
#include "demo_generator.h"
#include "dialogs/coco_import_dialog.h"

class TestImportDialog : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  mls::DemoDataset demo_;

 private Q_SLOTS:
  void initTestCase() {
    mls::DemoOptions d;
    d.train = 30;
    d.val = 10;
    d.size = 48;
    demo_ = mls::createDemoProject(dir_.path().toStdString(), d);
  }

  void rejectsMalformedFileAndKeepsProject() {
    const QString bad = dir_.path() + "/bad.json";
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"}, ");  // truncated
    f.close();
    const QString project = QString::fromStdString(demo_.project);
    const auto before = mls::ProjectStore(demo_.project).counts();
    mls::CocoImportDialog dialog;
    dialog.setFields(project, bad, QString::fromStdString(demo_.images_dir), "val");
    QSignalSpy imported(&dialog, &mls::CocoImportDialog::imported);
    dialog.startImport();
    QTRY_VERIFY_WITH_TIMEOUT(!dialog.isRunning(), 10000);
    QVERIFY2(dialog.errorText().contains("malformed JSON at byte"), qPrintable(dialog.errorText()));
    QCOMPARE(imported.count(), 0);
    const auto after = mls::ProjectStore(demo_.project).counts();
    QCOMPARE(after.val, before.val);
    QCOMPARE(after.labels, before.labels);
    QCOMPARE(after.single_positives, before.single_positives);
  }

  void missingFolderDoesNotCreateAProject() {
    const QString project = dir_.path() + "/new.mlsproj";
    mls::CocoImportDialog dialog;
    dialog.setFields(project, QString::fromStdString(demo_.train_json), dir_.path() + "/nowhere");
    dialog.startImport();
    QTRY_VERIFY_WITH_TIMEOUT(!dialog.isRunning(), 10000);
    QVERIFY(dialog.errorText().contains("does not exist"));
    QVERIFY(!QFile::exists(project));
  }

  void importsIntoANewProject() {
    const QString project = dir_.path() + "/fresh.mlsproj";
    mls::CocoImportDialog dialog;
    dialog.setFields(project, QString::fromStdString(demo_.train_json), QString::fromStdString(demo_.images_dir),
                     "train", 0.2);
    QSignalSpy imported(&dialog, &mls::CocoImportDialog::imported);
    dialog.startImport();
    QTRY_COMPARE_WITH_TIMEOUT(imported.count(), 1, 10000);
    QCOMPARE(imported.first().first().toString(), project);
    const auto c = mls::ProjectStore(project.toStdString()).counts();
    QCOMPARE(c.train, 24);
    QCOMPARE(c.val, 6);
  }
};

QTEST_MAIN(TestImportDialog)
#include "test_import_dialog.moc"
