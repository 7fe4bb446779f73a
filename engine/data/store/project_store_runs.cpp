// Run management for the Runs panel: rename, notes, delete (rows and files), and per-run totals of the
// recorded metrics. Kept apart from project_store.cpp, which records runs while they train.
#include <filesystem>
#include <system_error>

#include "data/store/project_store.h"
#include "data/store/sqlite_db.h"

namespace fs = std::filesystem;

namespace mls {

namespace {

void requireChange(Database& db, int64_t run_id) {
  if (db.changes() == 0) throw UnknownIdError("unknown run id " + std::to_string(run_id));
}

// A recorded path: relative ones are relative to the project's folder.
fs::path resolvePath(const std::string& project_dir, const std::string& p) {
  fs::path path(p);
  if (path.is_relative()) path = fs::path(project_dir) / path;
  path = path.lexically_normal();
  if (!path.has_filename()) path = path.parent_path();  // "…/run_3/" names the folder too
  return path;
}

}  // namespace

void ProjectStore::renameRun(int64_t run_id, const std::string& name) {
  auto st = db_->prepare("UPDATE runs SET name = ? WHERE id = ?");
  st.bind(1, name).bind(2, run_id).run();
  requireChange(*db_, run_id);
}

void ProjectStore::setRunNotes(int64_t run_id, const std::string& notes) {
  auto st = db_->prepare("UPDATE runs SET notes = ? WHERE id = ?");
  st.bind(1, notes).bind(2, run_id).run();
  requireChange(*db_, run_id);
}

std::vector<std::string> ProjectStore::deleteRun(int64_t run_id) {
  const auto record = run(run_id);
  if (!record) throw UnknownIdError("unknown run id " + std::to_string(run_id));
  const auto files = checkpoints(run_id);
  {
    // Explicit deletes rather than relying on ON DELETE CASCADE: they do not depend on the connection's
    // foreign_keys pragma, and all four land or none do.
    Transaction tx(*db_);
    for (const char* sql : {"DELETE FROM predictions WHERE run_id = ?", "DELETE FROM checkpoints WHERE run_id = ?",
                            "DELETE FROM run_metrics WHERE run_id = ?", "DELETE FROM runs WHERE id = ?"}) {
      auto st = db_->prepare(sql);
      st.bind(1, run_id).run();
    }
    tx.commit();
  }

  // Files after the rows: a failure here leaves stray files, never a listed run whose checkpoints are gone.
  std::vector<std::string> failed;
  auto resolve = [&](const std::string& p) { return resolvePath(projectDir(), p); };
  std::error_code ec;
  const fs::path dir = record->checkpoint_dir.empty() ? fs::path() : resolve(record->checkpoint_dir);
  if (!dir.empty() && dir.filename() == "run_" + std::to_string(run_id) && fs::is_directory(dir, ec)) {
    fs::remove_all(dir, ec);
    if (ec) failed.push_back(dir.string());
    return failed;
  }
  for (const auto& c : files) {
    if (c.path.empty()) continue;
    const fs::path file = resolve(c.path);
    if (fs::exists(file, ec) && !fs::remove(file, ec)) failed.push_back(file.string());
    else if (ec) failed.push_back(file.string());
  }
  return failed;
}

std::vector<RunStats> ProjectStore::runStats() {
  // Per run through the (run_id, name, step) index: a COCO run has ~10^5 loss rows, so nothing here may
  // scan them all.
  const std::string epoch_seconds = metricName(MetricKey::EpochSeconds), val_map = metricName(MetricKey::ValMap),
                    loss = metricName(MetricKey::Loss);
  auto epochs = db_->prepare(
      "SELECT COUNT(*), COALESCE(SUM(value), 0), MAX(epoch) FROM run_metrics WHERE run_id = ? AND name = '" +
      epoch_seconds + "'");
  auto last_map = db_->prepare("SELECT value FROM run_metrics WHERE run_id = ? AND name = '" + val_map +
                               "' ORDER BY step DESC, rowid DESC LIMIT 1");
  auto steps = db_->prepare("SELECT step FROM run_metrics WHERE run_id = ? AND name = '" + loss +
                            "' AND epoch <= ? ORDER BY step DESC LIMIT 1");
  std::vector<RunStats> out;
  for (const auto& r : runs()) {
    RunStats s;
    s.run_id = r.id;
    epochs.bind(1, r.id);
    if (epochs.step()) {
      s.epochs = static_cast<int>(epochs.int64(0));
      s.epoch_seconds = epochs.real(1);
      if (!epochs.isNull(2)) {
        steps.bind(1, r.id).bind(2, epochs.int64(2));
        if (steps.step()) s.steps = steps.int64(0);
        steps.reset();
      }
    }
    epochs.reset();
    last_map.bind(1, r.id);
    if (last_map.step()) s.final_val_map = last_map.real(0);
    last_map.reset();
    out.push_back(s);
  }
  return out;
}

void ProjectStore::discardRunProgressAfter(int64_t run_id, int epoch, int64_t step) {
  Transaction tx(*db_);
  auto metrics = db_->prepare("DELETE FROM run_metrics WHERE run_id = ? AND (epoch > ? OR step > ?)");
  metrics.bind(1, run_id).bind(2, epoch).bind(3, step).run();
  auto rows = db_->prepare("DELETE FROM checkpoints WHERE run_id = ? AND epoch > ?");
  rows.bind(1, run_id).bind(2, epoch).run();
  tx.commit();
}

void ProjectStore::removeCheckpoint(int64_t run_id, int epoch) {
  auto st = db_->prepare("DELETE FROM checkpoints WHERE run_id = ? AND epoch = ?");
  st.bind(1, run_id).bind(2, epoch).run();
}

std::vector<CheckpointRecord> ProjectStore::existingCheckpoints(int64_t run_id) {
  std::vector<CheckpointRecord> out;
  for (auto& c : checkpoints(run_id)) {
    std::error_code ec;
    if (!c.path.empty() && fs::is_regular_file(resolvePath(projectDir(), c.path), ec)) out.push_back(std::move(c));
    else removeCheckpoint(run_id, c.epoch);
  }
  return out;
}

}  // namespace mls
