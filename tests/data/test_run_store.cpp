// Run management in the project store: the v1 -> v2 migration (runs.notes), rename and notes persisting
// across connections, delete removing a run's rows and checkpoint files and nothing of other runs, and
// the per-run metric totals behind the Runs table.
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <filesystem>
#include <fstream>

#include "data/store/project_store.h"
#include "data/store/schema.h"
#include "data/store/sqlite_db.h"

using namespace mls;
namespace fs = std::filesystem;

namespace {

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "checkpoint";
}

// A run with a checkpoint folder (two checkpoint files and an unrecorded best.pt), metrics and scores.
int64_t addRun(ProjectStore& s, const std::string& name, const fs::path& dir) {
  const int64_t id = s.createRun(name, "q2l", R"({"batch":8})", "");
  const fs::path d = dir.empty() ? fs::path(s.projectDir()) / "p.runs" / ("run_" + std::to_string(id)) : dir;
  s.setRunCheckpointDir(id, d.string());
  for (int e = 1; e <= 2; ++e) {
    const auto file = d / ("epoch_00" + std::to_string(e) + ".pt");
    touch(file);
    s.addCheckpoint({id, e, file.string(), 50.0 + e});
  }
  touch(d / "best.pt");
  s.addRunMetrics(id, {{1, 1, "loss", 0.5}, {1, 0, "val_map", 51}, {2, 2, "loss", 0.4}, {2, 0, "val_map", 52}});
  s.storePredictions(id, {{1, {0.1f, 0.9f}}, {2, {0.8f, 0.2f}}});
  s.finishRun(id, RunStatus::Finished, "", 52.0);
  return id;
}

void fill(ProjectStore& s) {
  s.importCollection(".", {{1, "a", "", 0}, {2, "b", "", 0}},
                     {{1, "x.png", 8, 8, Split::Val, false}, {2, "y.png", 8, 8, Split::Val, false}}, {{1, 2}, {2, 1}});
}

}  // namespace

class TestRunStore : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string path(const char* name) { return (dir_.path() + "/" + name).toStdString(); }

 private Q_SLOTS:
  void migratesVersion1RunsToNotes() {
    const auto p = path("old.mlsproj");
    int64_t id = 0;
    {
      ProjectStore s(p);
      id = s.createRun("old run", "mlspl", "{}", "");
      s.finishRun(id, RunStatus::Finished, "", 61.5);
    }
    {  // Turn the file back into a version-1 project: no notes column.
      Database db(p);
      db.exec("ALTER TABLE runs DROP COLUMN notes");
      db.exec("PRAGMA user_version = 1");
    }
    ProjectStore s(p);
    QCOMPARE(s.schemaVersion(), 2);
    QCOMPARE(kSchemaVersion, 2);
    const auto r = s.run(id);
    QVERIFY(r);
    QCOMPARE(r->name, std::string("old run"));
    QCOMPARE(r->notes, std::string());
    QCOMPARE(r->best_val_map.value(), 61.5);
    s.setRunNotes(id, "kept from v1");
    QCOMPARE(s.run(id)->notes, std::string("kept from v1"));
  }

  void renameAndNotesPersist() {
    const auto p = path("edit.mlsproj");
    int64_t id = 0;
    {
      ProjectStore s(p);
      id = s.createRun("first", "q2l", "{}", "");
      s.renameRun(id, "better name");
      s.setRunNotes(id, "lr too high?\nsecond line");
      QVERIFY_THROWS_EXCEPTION(UnknownIdError, s.renameRun(id + 1, "x"));
      QVERIFY_THROWS_EXCEPTION(UnknownIdError, s.setRunNotes(id + 1, "x"));
    }
    ProjectStore again(p);  // a new connection reads what the file holds
    QCOMPARE(again.run(id)->name, std::string("better name"));
    QCOMPARE(again.run(id)->notes, std::string("lr too high?\nsecond line"));
    QCOMPARE(again.runByName("better name")->id, id);
  }

  void deleteRemovesRowsAndFilesOfThatRunOnly() {
    ProjectStore s(path("p.mlsproj"));
    fill(s);
    const int64_t a = addRun(s, "a", {});
    const int64_t b = addRun(s, "b", {});
    const fs::path dir_a = s.run(a)->checkpoint_dir, dir_b = s.run(b)->checkpoint_dir;
    QVERIFY(fs::exists(dir_a / "best.pt"));

    QVERIFY(s.deleteRun(a).empty());
    QVERIFY(!s.run(a));
    QVERIFY(s.runMetrics(a).empty());
    QVERIFY(s.checkpoints(a).empty());
    QVERIFY(s.allPredictions(a).empty());
    QVERIFY(!fs::exists(dir_a));  // the whole run_<id> folder, best.pt included

    QVERIFY(s.run(b));
    QCOMPARE(s.runMetrics(b).size(), size_t(4));
    QCOMPARE(s.checkpoints(b).size(), size_t(2));
    QCOMPARE(s.allPredictions(b).size(), size_t(2));
    QVERIFY(fs::exists(dir_b / "epoch_001.pt") && fs::exists(dir_b / "best.pt"));
    QVERIFY_THROWS_EXCEPTION(UnknownIdError, s.deleteRun(a));
  }

  void deleteKeepsAForeignFolder() {
    // A checkpoint folder not named run_<id> may hold other files: only the recorded checkpoints go.
    ProjectStore s(path("q.mlsproj"));
    fill(s);
    const fs::path shared = fs::path(dir_.path().toStdString()) / "my-models";
    touch(shared / "keep.txt");
    const int64_t id = addRun(s, "c", shared);
    QVERIFY(s.deleteRun(id).empty());
    QVERIFY(!s.run(id));
    QVERIFY(!fs::exists(shared / "epoch_001.pt") && !fs::exists(shared / "epoch_002.pt"));
    QVERIFY(fs::exists(shared / "keep.txt"));
  }

  void statsSumTheRecordedEpochs() {
    ProjectStore s(path("stats.mlsproj"));
    const int64_t id = s.createRun("s", "q2l", "{}", "");
    std::vector<RunMetric> m;
    for (int64_t step = 1; step <= 35; ++step) m.push_back({static_cast<int>((step - 1) / 10 + 1), step, "loss", 1.0});
    const double seconds[3] = {2, 3, 5}, maps[3] = {50, 60, 55};
    for (int e = 1; e <= 3; ++e) {
      m.push_back({e, 0, "epoch_seconds", seconds[e - 1]});
      m.push_back({e, 0, "val_map", maps[e - 1]});
    }
    s.addRunMetrics(id, m);  // epoch 4 was cut short after 5 steps: it has no epoch_seconds
    const int64_t empty = s.createRun("nothing yet", "q2l", "{}", "");
    const auto stats = s.runStats();
    QCOMPARE(stats.size(), size_t(2));
    QCOMPARE(stats[0].run_id, id);
    QCOMPARE(stats[0].epochs, 3);
    QCOMPARE(stats[0].epoch_seconds, 10.0);
    QCOMPARE(stats[0].steps, 30);  // the steps of the three timed epochs only
    QCOMPARE(stats[0].final_val_map.value(), 55.0);
    QCOMPARE(stats[1].run_id, empty);
    QCOMPARE(stats[1].epochs, 0);
    QCOMPARE(stats[1].steps, 0);
    QVERIFY(!stats[1].final_val_map);
  }
};

QTEST_GUILESS_MAIN(TestRunStore)
#include "test_run_store.moc"
