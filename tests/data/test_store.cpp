// Project store: schema creation/migration, transactions, single positives + history, runs, two connections.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "data/store/project_store.h"
#include "data/store/run_owner.h"
#include "data/store/schema.h"
#include "data/store/sqlite_db.h"

using namespace mls;

class TestStore : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string path(const char* name) { return (dir_.path() + "/" + name).toStdString(); }

  static void fill(ProjectStore& s) {
    s.importCollection(".", {{1, "cat", "animal", 0}, {2, "dog", "animal", 0}, {90000000001LL, "car", "vehicle", 0}},
                       {{10, "a.jpg", 64, 48, Split::Train, false},
                        {11, "b.jpg", 64, 48, Split::Train, true},
                        {900000000012LL, "c.jpg", 64, 48, Split::Val, false}},
                       {{10, 1}, {10, 2}, {11, 2}, {900000000012LL, 90000000001LL}});
  }

 private Q_SLOTS:
  void createsSchemaFromEmptyFile() {
    ProjectStore s(path("empty.mlsproj"));
    QCOMPARE(s.schemaVersion(), kSchemaVersion);
    QCOMPARE(s.meta("schema_version").value(), std::to_string(kSchemaVersion));
    QCOMPARE(s.counts().categories, 0);
  }

  void importsAndCounts() {
    ProjectStore s(path("fill.mlsproj"));
    fill(s);
    const auto c = s.counts();
    QCOMPARE(c.train, 2);
    QCOMPARE(c.val, 1);
    QCOMPARE(c.categories, 3);
    QCOMPARE(c.labels, 4);
    QCOMPARE(c.missing_files, 1);
    QCOMPARE(s.categories()[2].idx, 2);
    QCOMPARE(s.image(900000000012LL)->file_name, std::string("c.jpg"));  // 64-bit ids survive
    QCOMPARE(s.labelsOf(10).size(), size_t(2));
    ImageFilter f;
    f.category_id = 2;
    QCOMPARE(s.countImages(f), 2);
    f.name_contains = "B.J";
    QCOMPARE(s.countImages(f), 1);
  }

  void failedImportChangesNothing() {
    ProjectStore s(path("rollback.mlsproj"));
    fill(s);
    // Second import: a new image then a duplicate id -> the whole call rolls back.
    QVERIFY_THROWS_EXCEPTION(DatabaseError, s.importCollection(".", {{3, "bird", "", 0}},
                                                               {{20, "new.jpg", 1, 1, Split::Train, false},
                                                                {10, "dup.jpg", 1, 1, Split::Train, false}},
                                                               {}));
    QVERIFY(!s.image(20));
    QVERIFY(!s.category(3));
    QCOMPARE(s.counts().train, 2);
    // Category name clash.
    QVERIFY_THROWS_EXCEPTION(DatabaseError, s.importCollection(".", {{1, "not-a-cat", "", 0}}, {}, {}));
  }

  void transactionRollsBackOnException() {
    ProjectStore s(path("tx.mlsproj"));
    fill(s);
    try {
      s.transaction([&] {
        s.setSinglePositive(10, 1, AnnotationSource::User);
        throw std::runtime_error("boom");
      });
    } catch (const std::runtime_error&) {
    }
    QVERIFY(!s.singlePositive(10));
  }

  void singlePositiveHistory() {
    ProjectStore s(path("sp.mlsproj"));
    fill(s);
    QVERIFY(!s.setSinglePositive(10, 1, AnnotationSource::User));
    auto prev = s.setSinglePositive(10, 2, AnnotationSource::AcceptedSuggestion);
    QVERIFY(prev && prev->category_id == 1);
    prev = s.setSinglePositive(10, std::nullopt, AnnotationSource::User);
    QVERIFY(prev && prev->category_id == 2 && prev->source == AnnotationSource::AcceptedSuggestion);
    QVERIFY(!s.singlePositive(10));
    const auto h = s.history();
    QCOMPARE(h.size(), size_t(3));
    QVERIFY(!h[0].new_category_id && h[0].old_category_id == 2);
    QVERIFY_THROWS_EXCEPTION(UnknownIdError, s.setSinglePositive(999, 1, AnnotationSource::User));
    QVERIFY_THROWS_EXCEPTION(UnknownIdError, s.setSinglePositive(10, 777, AnnotationSource::User));
    ImageFilter f;
    f.annotated = false;
    QCOMPARE(s.countImages(f), 3);
  }

  void twoConnectionsSeeEachOther() {
    const auto p = path("two.mlsproj");
    ProjectStore a(p);
    fill(a);
    ProjectStore b(p);
    a.setSinglePositive(11, 2, AnnotationSource::User);
    QCOMPARE(b.singlePositive(11)->category_id, 2);
    // A write from b while a holds an open read works (WAL).
    b.setSinglePositive(10, 1, AnnotationSource::User);
    QCOMPARE(a.counts().single_positives, 2);
  }

  void runsAndMetrics() {
    ProjectStore s(path("runs.mlsproj"));
    fill(s);
    const auto id = s.createRun("r1", "q2l", "{}", "/tmp/x");
    s.addRunMetrics(id, {{0, 1, "loss", 0.5}, {0, 2, "loss", 0.25}, {0, 2, "val_map", 80.0}});
    QCOMPARE(s.runMetrics(id, "loss").size(), size_t(2));
    s.finishRun(id, RunStatus::Finished, "", 80.0);
    QCOMPARE(s.run(id)->status, RunStatus::Finished);
    QCOMPARE(s.runByName("r1")->id, id);
    s.storePredictions(id, {{10, {0.1f, 0.9f, 0.3f}}});
    QCOMPARE(s.predictions(id, 10)->at(1), 0.9f);
    QVERIFY_THROWS_EXCEPTION(UnknownIdError, s.finishRun(12345, RunStatus::Failed, "", std::nullopt));
  }

  void relinksAMovedImageFolder() {
    ProjectStore s(path("relink.mlsproj"));
    QDir d(dir_.path());
    d.mkpath("old");
    for (const char* n : {"a.jpg", "b.jpg"}) QFile(dir_.path() + "/old/" + n).open(QIODevice::WriteOnly);
    s.importCollection(path("old"), {{1, "cat", "", 0}},
                       {{1, "a.jpg", 1, 1, Split::Train, false}, {2, "b.jpg", 1, 1, Split::Train, false},
                        {3, "c.jpg", 1, 1, Split::Train, true}},
                       {});
    QVERIFY(d.rename("old", "new"));
    auto folders = s.imageFolders();
    QCOMPARE(folders.size(), size_t(1));
    QCOMPARE(QString::fromStdString(folders[0].path), dir_.path() + "/old");
    QCOMPARE(folders[0].images, 3);
    QCOMPARE(folders[0].present, 0);
    const int64_t id = folders[0].id;
    // Validation counts without changing anything.
    QCOMPARE(s.countFilesUnder(id, path("new")), 2);
    QCOMPARE(s.imageFolders()[0].present, 0);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, s.countFilesUnder(id, path("nowhere")));
    QVERIFY_THROWS_EXCEPTION(UnknownIdError, s.countFilesUnder(id + 7, path("new")));
    // The file appears later: relinking refreshes the missing flags too.
    QFile(dir_.path() + "/new/c.jpg").open(QIODevice::WriteOnly);
    QCOMPARE(s.relinkFolder(id, path("new")), 3);
    QCOMPARE(QString::fromStdString(s.imagePath(*s.image(2))), dir_.path() + "/new/b.jpg");
    QCOMPARE(s.counts().missing_files, 0);
    folders = s.imageFolders();
    QCOMPARE(folders[0].present, 3);
    // Stored relative to the project (it sits inside its folder), so another connection sees the new place.
    ProjectStore other(path("relink.mlsproj"));
    QCOMPARE(QString::fromStdString(other.imagePath(*other.image(1))), dir_.path() + "/new/a.jpg");
    // Two folders of one project cannot become the same folder.
    d.mkpath("second");
    s.importCollection(path("second"), {}, {{4, "d.jpg", 1, 1, Split::Train, true}}, {});
    const int64_t second = s.imageFolders()[1].id;
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, s.relinkFolder(second, path("new")));
    QCOMPARE(QString::fromStdString(s.imageFolders()[1].path), dir_.path() + "/second");
  }

  void imagePathsNeverLeaveTheirFolder() {
    ProjectStore s(path("contain.mlsproj"));
    QDir(dir_.path()).mkpath("imgs");
    for (const char* bad : {"../outside/x.jpg", "/etc/passwd", "sub/../../x.jpg", "", "..", "sub/.."}) {
      QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                               s.importCollection(path("imgs"), {}, {{1, bad, 1, 1, Split::Train, false}}, {}));
    }
    QCOMPARE(s.counts().train, 0);
    s.importCollection(path("imgs"), {}, {{1, "sub/ok.jpg", 1, 1, Split::Train, false}}, {});
    QCOMPARE(QString::fromStdString(s.imagePath(*s.image(1))), dir_.path() + "/imgs/sub/ok.jpg");
    // A project imported before names were checked may hold such a row: it resolves to no path at all.
    {
      Database db(path("contain.mlsproj"));
      db.exec("INSERT INTO images(id, file_name, folder_id, split) SELECT 2, '../outside/x.jpg', folder_id, 'train' "
              "FROM images WHERE id = 1 UNION ALL SELECT 3, '/etc/passwd', folder_id, 'train' FROM images WHERE id = 1");
    }
    QCOMPARE(s.imagePath(*s.image(2)), std::string());
    QCOMPARE(s.imagePath(*s.image(3)), std::string());
  }

  void runsOfAVanishedProcessAreMarkedInterrupted() {
    const auto p = path("stale.mlsproj");
    int64_t dead_run = 0, live_run = 0, remote_run = 0;
    // A pid that surely belongs to no process: a child that has exited and been reaped.
    QProcess child;
    child.start("true", QStringList());
    QVERIFY(child.waitForStarted());
    const qint64 dead_pid = child.processId();
    QVERIFY(child.waitForFinished());
    {
      ProjectStore s(p);
      dead_run = s.createRun("killed", "q2l", "{}", "");
      live_run = s.createRun("live", "q2l", "{}", "");  // owned by this (running) test process
      remote_run = s.createRun("remote", "q2l", "{}", "");
      QCOMPARE(s.meta(runOwnerKey(live_run)).value(), thisProcess().str());
      s.setMeta(runOwnerKey(dead_run), RunOwner{dead_pid, thisProcess().host}.str());
      s.setMeta(runOwnerKey(remote_run), RunOwner{dead_pid, "another-host-" + thisProcess().host}.str());
    }
    {
      ProjectStore ro(p, ProjectStore::Open::ReadOnly);  // inspection changes nothing
      QCOMPARE(ro.run(dead_run)->status, RunStatus::Running);
    }
    ProjectStore s(p);
    QCOMPARE(s.run(dead_run)->status, RunStatus::Failed);
    QVERIFY2(s.run(dead_run)->message.rfind("interrupted", 0) == 0, s.run(dead_run)->message.c_str());
    QVERIFY(s.run(dead_run)->finished_at.has_value());
    QVERIFY(!s.meta(runOwnerKey(dead_run)));
    QCOMPARE(s.run(live_run)->status, RunStatus::Running);
    QCOMPARE(s.run(remote_run)->status, RunStatus::Running);  // cannot be checked from here
    // Finishing a run forgets its owner; resuming records it again.
    s.finishRun(live_run, RunStatus::Finished, "", std::nullopt);
    QVERIFY(!s.meta(runOwnerKey(live_run)));
    s.setRunStatus(live_run, RunStatus::Running);
    QCOMPARE(s.meta(runOwnerKey(live_run)).value(), thisProcess().str());
  }

  void imagePathsAreRelativeToProject() {
    ProjectStore s(path("rel.mlsproj"));
    QDir(dir_.path()).mkpath("imgs");
    s.importCollection(path("imgs"), {}, {{1, "x.jpg", 1, 1, Split::Train, false}}, {});
    QCOMPARE(QString::fromStdString(s.imagePath(*s.image(1))), dir_.path() + "/imgs/x.jpg");
  }
};

QTEST_GUILESS_MAIN(TestStore)
#include "test_store.moc"
