#include "data/store/schema.h"

#include <string>
#include <vector>

#include "data/store/sqlite_db.h"

namespace mls {

namespace {

// v1. Ids are COCO's, 64-bit (annotation ids reach ~9e11); categories carry a dense index 0..K-1 used by the models.
const char* const kV1 = R"SQL(
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE image_folders(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE);
CREATE TABLE categories(
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  supercategory TEXT NOT NULL DEFAULT '',
  idx INTEGER NOT NULL UNIQUE);
CREATE TABLE images(
  id INTEGER PRIMARY KEY,
  file_name TEXT NOT NULL,
  folder_id INTEGER NOT NULL REFERENCES image_folders(id),
  width INTEGER NOT NULL DEFAULT 0,
  height INTEGER NOT NULL DEFAULT 0,
  split TEXT NOT NULL CHECK(split IN ('train','val','test')),
  missing INTEGER NOT NULL DEFAULT 0);
CREATE INDEX images_split ON images(split, id);
CREATE TABLE labels(
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  category_id INTEGER NOT NULL REFERENCES categories(id) ON DELETE CASCADE,
  PRIMARY KEY(image_id, category_id)) WITHOUT ROWID;
CREATE TABLE single_positives(
  image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
  category_id INTEGER NOT NULL REFERENCES categories(id),
  source TEXT NOT NULL CHECK(source IN ('user','generated','accepted-suggestion')),
  updated_at INTEGER NOT NULL);
CREATE INDEX single_positives_category ON single_positives(category_id);
CREATE TABLE annotation_history(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  image_id INTEGER NOT NULL,
  old_category_id INTEGER, old_source TEXT,
  new_category_id INTEGER, new_source TEXT,
  at INTEGER NOT NULL);
CREATE TABLE runs(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  method TEXT NOT NULL,
  config TEXT NOT NULL,
  status TEXT NOT NULL CHECK(status IN ('running','finished','failed','cancelled')),
  message TEXT NOT NULL DEFAULT '',
  started_at INTEGER NOT NULL,
  finished_at INTEGER,
  best_val_map REAL,
  checkpoint_dir TEXT NOT NULL DEFAULT '');
CREATE TABLE run_metrics(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  step INTEGER NOT NULL,
  name TEXT NOT NULL,
  value REAL NOT NULL);
CREATE INDEX run_metrics_run ON run_metrics(run_id, name, step);
CREATE TABLE checkpoints(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  path TEXT NOT NULL,
  val_map REAL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY(run_id, epoch));
CREATE TABLE predictions(
  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  scores BLOB NOT NULL,
  PRIMARY KEY(run_id, image_id)) WITHOUT ROWID;
)SQL";

// v2: the user's free-text notes on a run (Runs panel). Existing runs get an empty note.
const char* const kV2 = R"SQL(
ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
)SQL";

const std::vector<const char*>& migrations() {
  static const std::vector<const char*> list = {kV1, kV2};
  return list;
}

// Our schema has no views or virtual tables. In a file from elsewhere they would run SQL of the file's
// choosing inside every query we make (a view `labels` over an endless recursive CTE hangs `info`), so the
// file is refused before the first query (https://www.sqlite.org/security.html, untrusted database files).
void requireOwnSchemaObjects(Database& db) {
  auto st = db.prepare(
      "SELECT type, name FROM sqlite_master WHERE type = 'view' OR (type = 'table' AND sql LIKE 'CREATE VIRTUAL%') "
      "LIMIT 1");
  if (!st.step()) return;
  const std::string kind = st.text(0) == "view" ? "a view" : "a virtual table";
  throw DatabaseError("contains " + kind + " ('" + st.text(1) +
                      "'), which Multi-Label Studio projects never have");
}

}  // namespace

int readSchemaVersion(Database& db) {
  auto st = db.prepare("PRAGMA user_version");
  st.step();
  return static_cast<int>(st.int64(0));
}

void requireReadableSchema(Database& db, bool read_only) {
  const int version = readSchemaVersion(db);
  const std::string reads = "this build reads up to " + std::to_string(kSchemaVersion);
  if (version > kSchemaVersion)
    throw DatabaseError("made by a newer version of Multi-Label Studio (schema " +
                        std::to_string(version) + ", " + reads + ")");
  if (read_only && version < kSchemaVersion)
    throw DatabaseError("made by an older version of Multi-Label Studio (schema " + std::to_string(version) +
                        ", this build uses " + std::to_string(kSchemaVersion) +
                        "); open it once with write access to upgrade it");
  requireOwnSchemaObjects(db);
}

void migrateSchema(Database& db) {
  requireReadableSchema(db, false);
  const int current = readSchemaVersion(db);
  for (int v = current; v < kSchemaVersion; ++v) {
    Transaction tx(db);
    db.exec(migrations()[static_cast<size_t>(v)]);
    db.exec("PRAGMA user_version = " + std::to_string(v + 1));
    db.exec("INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', '" + std::to_string(v + 1) + "')");
    tx.commit();
  }
}

}  // namespace mls
