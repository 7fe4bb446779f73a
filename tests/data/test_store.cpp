// Project store: schema creation/migration, transactions, single positives + history, runs, two connections.
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "data/store/project_store.h"
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

  void migratesAnExistingEmptyDatabase() {
    const auto p = path("raw.sqlite");
    { Database db(p); db.exec("CREATE TABLE unrelated(x)"); }  // version 0 file with content
    ProjectStore s(p);
    QCOMPARE(s.schemaVersion(), kSchemaVersion);
  }

  void refusesNewerSchema() {
    const auto p = path("future.mlsproj");
    { Database db(p); db.exec("PRAGMA user_version = 99"); }
    QVERIFY_THROWS_EXCEPTION(DatabaseError, ProjectStore{p});
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
    s.finishRun(id, "finished", "", 80.0);
    QCOMPARE(s.run(id)->status, std::string("finished"));
    QCOMPARE(s.runByName("r1")->id, id);
    s.storePredictions(id, {{10, {0.1f, 0.9f, 0.3f}}});
    QCOMPARE(s.predictions(id, 10)->at(1), 0.9f);
    QVERIFY_THROWS_EXCEPTION(UnknownIdError, s.finishRun(12345, "failed", "", std::nullopt));
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
