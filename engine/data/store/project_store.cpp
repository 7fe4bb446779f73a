#include "data/store/project_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <filesystem>
#include <stdexcept>
#include <unordered_set>
#include <variant>

#include "data/store/project_identity.h"
#include "data/store/run_owner.h"
#include "data/store/schema.h"
#include "data/store/sqlite_db.h"

namespace fs = std::filesystem;

namespace mls {

int64_t nowMs() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

using SqlArg = std::variant<int64_t, std::string>;

void bindAll(Statement& st, const std::vector<SqlArg>& args, int first = 1) {
  for (size_t i = 0; i < args.size(); ++i) {
    const int index = first + static_cast<int>(i);
    if (std::holds_alternative<int64_t>(args[i]))
      st.bind(index, std::get<int64_t>(args[i]));
    else
      st.bind(index, std::get<std::string>(args[i]));
  }
}

// Turns an ImageFilter into "WHERE ..." over images aliased `i`, with positional arguments.
std::string whereClause(const ImageFilter& f, std::vector<SqlArg>& args) {
  std::vector<std::string> parts;
  if (f.split) {
    parts.push_back("i.split = ?");
    args.emplace_back(std::string(splitName(*f.split)));
  }
  if (f.annotated) {
    parts.push_back(std::string(*f.annotated ? "" : "NOT ") +
                    "EXISTS (SELECT 1 FROM single_positives s WHERE s.image_id = i.id)");
  }
  if (f.category_id) {
    parts.push_back(f.category_in_ground_truth
                        ? "EXISTS (SELECT 1 FROM labels l WHERE l.image_id = i.id AND l.category_id = ?)"
                        : "EXISTS (SELECT 1 FROM single_positives s WHERE s.image_id = i.id AND s.category_id = ?)");
    args.emplace_back(*f.category_id);
  }
  if (!f.name_contains.empty()) {
    parts.push_back("instr(lower(i.file_name), lower(?)) > 0");
    args.emplace_back(f.name_contains);
  }
  if (parts.empty()) return "";
  std::string sql = " WHERE " + parts[0];
  for (size_t k = 1; k < parts.size(); ++k) sql += " AND " + parts[k];
  return sql;
}

ImageRecord readImage(const Statement& st) {
  ImageRecord r;
  r.id = st.int64(0);
  r.file_name = st.text(1);
  r.folder_id = st.int64(2);
  r.width = static_cast<int>(st.int64(3));
  r.height = static_cast<int>(st.int64(4));
  r.split = parseSplit(st.text(5));
  r.missing = st.int64(6) != 0;
  return r;
}

const char* const kImageColumns = "i.id, i.file_name, i.folder_id, i.width, i.height, i.split, i.missing";

SinglePositive readPositive(const Statement& st) {
  SinglePositive p;
  p.image_id = st.int64(0);
  p.category_id = st.int64(1);
  p.source = parseSource(st.text(2));
  p.updated_at = st.int64(3);
  return p;
}

RunRecord readRun(const Statement& st) {
  RunRecord r;
  r.id = st.int64(0);
  r.name = st.text(1);
  r.method = st.text(2);
  r.config = st.text(3);
  r.status = parseRunStatus(st.text(4));  // the schema's CHECK allows only the table's names
  r.message = st.text(5);
  r.started_at = st.int64(6);
  if (!st.isNull(7)) r.finished_at = st.int64(7);
  if (!st.isNull(8)) r.best_val_map = st.real(8);
  r.checkpoint_dir = st.text(9);
  r.notes = st.text(10);
  return r;
}

const char* const kRunColumns =
    "id, name, method, config, status, message, started_at, finished_at, best_val_map, checkpoint_dir, notes";

}  // namespace

ProjectStore::ProjectStore(const std::string& path, Open mode) : path_(path) {
  // Identify before anything touches the file: a foreign or newer file must stay byte-for-byte as it was.
  const ProjectFileIdentity identity = identifyProjectFile(path);
  if (!identity.exists && mode != Open::CreateIfMissing) throw DatabaseError("project '" + path + "' does not exist");
  const fs::path p(path);
  if (p.has_parent_path() && !fs::exists(p.parent_path()))
    throw DatabaseError("cannot open project '" + path + "': folder " + p.parent_path().string() + " does not exist");
  // Writing needs the file and its folder (SQLite creates the -wal/-shm files there); without this check the
  // first read already fails with SQLite's "attempt to write a readonly database".
  const std::string folder = p.has_parent_path() ? p.parent_path().string() : ".";
  const bool cannot_write = identity.exists && (access(path.c_str(), W_OK) != 0 || access(folder.c_str(), W_OK) != 0);
  const std::string read_only_hint = "cannot open project '" + path + "' for writing: the file or its folder is " +
                                     "read-only (mlstudio-cli info, export and eval only read it and still work)";
  if (mode != Open::ReadOnly && cannot_write) throw DatabaseError(read_only_hint);
  using Access = Database::Access;
  db_ = std::make_unique<Database>(path, !identity.exists ? Access::Create
                                         : mode == Open::ReadOnly ? Access::ReadOnly : Access::ReadWrite);
  if (mode != Open::ReadOnly && sqlite3_db_readonly(db_->handle(), "main") == 1) throw DatabaseError(read_only_hint);
  try {
    db_->exec("PRAGMA busy_timeout = 10000");
    if (mode == Open::ReadOnly) {
      // This build's queries need its schema. Upgrading an older project is what any read-write open does
      // (in one transaction per step), so do it once when the file can be written, then read as asked.
      if (readSchemaVersion(*db_) < kSchemaVersion && !cannot_write) {
        db_.reset();
        ProjectStore upgrade(path, Open::Existing);
        db_ = std::make_unique<Database>(path, Access::ReadOnly);
        db_->exec("PRAGMA busy_timeout = 10000");
      }
      requireReadableSchema(*db_, true);
      return;
    }
    requireReadableSchema(*db_, false);
    if (!identity.stamped) db_->exec("PRAGMA application_id = " + std::to_string(kApplicationId));
    db_->exec("PRAGMA journal_mode = WAL");
    db_->exec("PRAGMA synchronous = NORMAL");  // durable across app crashes in WAL mode
    db_->exec("PRAGMA foreign_keys = ON");
    db_->exec("PRAGMA cache_size = -131072");  // up to 128 MiB of page cache: big imports stay in memory
    migrateSchema(*db_);
    markInterruptedRuns();
  } catch (const DatabaseError& e) {
    throw DatabaseError("cannot open project '" + path + "': " + e.what());
  }
}

ProjectStore::~ProjectStore() = default;

std::string ProjectStore::projectDir() const {
  return fs::absolute(fs::path(path_)).parent_path().lexically_normal().string();
}

int ProjectStore::schemaVersion() { return readSchemaVersion(*db_); }

void ProjectStore::transaction(const std::function<void()>& f) {
  Transaction tx(*db_);
  f();
  tx.commit();
}

std::optional<std::string> ProjectStore::meta(const std::string& key) {
  auto st = db_->prepare("SELECT value FROM meta WHERE key = ?");
  st.bind(1, key);
  if (st.step()) return st.text(0);
  return std::nullopt;
}

void ProjectStore::setMeta(const std::string& key, const std::string& value) {
  auto st = db_->prepare("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  st.bind(1, key).bind(2, value).run();
}

std::vector<Category> ProjectStore::categories() {
  std::vector<Category> out;
  auto st = db_->prepare("SELECT id, name, supercategory, idx FROM categories ORDER BY idx");
  while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), static_cast<int>(st.int64(3))});
  return out;
}

std::optional<Category> ProjectStore::category(int64_t id) {
  auto st = db_->prepare("SELECT id, name, supercategory, idx FROM categories WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return Category{st.int64(0), st.text(1), st.text(2), static_cast<int>(st.int64(3))};
}

ProjectCounts ProjectStore::counts() {
  ProjectCounts c;
  auto st = db_->prepare("SELECT split, COUNT(*), SUM(missing) FROM images GROUP BY split");
  while (st.step()) {
    const auto split = parseSplit(st.text(0));
    const int64_t n = st.int64(1);
    c.missing_files += st.int64(2);
    if (split == Split::Train) c.train = n;
    if (split == Split::Val) c.val = n;
    if (split == Split::Test) c.test = n;
  }
  auto one = [&](const char* sql) {
    auto q = db_->prepare(sql);
    q.step();
    return q.int64(0);
  };
  c.categories = one("SELECT COUNT(*) FROM categories");
  c.labels = one("SELECT COUNT(*) FROM labels");
  c.single_positives = one("SELECT COUNT(*) FROM single_positives");
  return c;
}

int64_t ProjectStore::countImages(const ImageFilter& filter) {
  std::vector<SqlArg> args;
  auto st = db_->prepare("SELECT COUNT(*) FROM images i" + whereClause(filter, args));
  bindAll(st, args);
  st.step();
  return st.int64(0);
}

std::vector<ImageRecord> ProjectStore::images(const ImageFilter& filter, int64_t offset, int64_t limit) {
  std::vector<SqlArg> args;
  std::string sql = std::string("SELECT ") + kImageColumns + " FROM images i" + whereClause(filter, args) +
                    " ORDER BY i.id LIMIT ? OFFSET ?";
  auto st = db_->prepare(sql);
  bindAll(st, args);
  st.bind(static_cast<int>(args.size()) + 1, limit);
  st.bind(static_cast<int>(args.size()) + 2, offset);
  std::vector<ImageRecord> out;
  while (st.step()) out.push_back(readImage(st));
  return out;
}

std::optional<ImageRecord> ProjectStore::image(int64_t id) {
  auto st = db_->prepare(std::string("SELECT ") + kImageColumns + " FROM images i WHERE i.id = ?");
  st.bind(1, id);
  if (!st.step()) return std::nullopt;
  return readImage(st);
}

std::optional<int64_t> ProjectStore::neighbourImage(int64_t after_id, const ImageFilter& filter, bool forward) {
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<SqlArg> args;
    std::string where = whereClause(filter, args);
    where += (where.empty() ? " WHERE " : " AND ") + std::string(forward ? "i.id > ?" : "i.id < ?");
    args.emplace_back(pass == 0 ? after_id : (forward ? INT64_MIN : INT64_MAX));
    auto st = db_->prepare("SELECT i.id FROM images i" + where + " ORDER BY i.id " + (forward ? "ASC" : "DESC") + " LIMIT 1");
    bindAll(st, args);
    if (st.step()) return st.int64(0);
  }
  return std::nullopt;
}

std::vector<int64_t> ProjectStore::labelsOf(int64_t image_id) {
  auto st = db_->prepare(
      "SELECT l.category_id FROM labels l JOIN categories c ON c.id = l.category_id WHERE l.image_id = ? ORDER BY c.idx");
  st.bind(1, image_id);
  std::vector<int64_t> out;
  while (st.step()) out.push_back(st.int64(0));
  return out;
}

std::unordered_map<int64_t, std::vector<int64_t>> ProjectStore::labelsBySplit(Split split) {
  auto st = db_->prepare(
      "SELECT l.image_id, l.category_id FROM labels l JOIN images i ON i.id = l.image_id WHERE i.split = ?");
  st.bind(1, std::string(splitName(split)));
  std::unordered_map<int64_t, std::vector<int64_t>> out;
  while (st.step()) out[st.int64(0)].push_back(st.int64(1));
  return out;
}

ProjectStore::ImportResult ProjectStore::importCollection(
    const std::string& folder, const std::vector<Category>& cats, const std::vector<NewImage>& images,
    const std::vector<std::pair<int64_t, int64_t>>& labels) {
  ImportResult result;
  for (const auto& im : images)
    if (!staysInsideFolder(im.file_name))
      throw std::invalid_argument("image file name '" + im.file_name + "' leaves the images folder");
  Transaction tx(*db_);
  const int64_t folder_id = folderId(folder);

  // Categories: existing ids must keep their name; new ones get the next dense index.
  int next_idx = 0;
  {
    auto st = db_->prepare("SELECT COALESCE(MAX(idx) + 1, 0) FROM categories");
    st.step();
    next_idx = static_cast<int>(st.int64(0));
  }
  auto insert_cat = db_->prepare("INSERT INTO categories(id, name, supercategory, idx) VALUES(?, ?, ?, ?)");
  for (const auto& c : cats) {
    if (auto existing = category(c.id)) {
      if (existing->name != c.name)
        throw DatabaseError("category id " + std::to_string(c.id) + " is '" + existing->name +
                            "' in the project but '" + c.name + "' in the import");
      continue;
    }
    insert_cat.bind(1, c.id).bind(2, c.name).bind(3, c.supercategory).bind(4, next_idx++);
    insert_cat.run();
    ++result.new_categories;
  }

  // Multi-row INSERTs: one statement execution per kRows rows cuts the per-row VM overhead of a COCO-size
  // import (~80k images, ~240k labels) roughly in half.
  constexpr size_t kRows = 100;
  auto values = [](size_t rows, const char* tuple) {
    std::string sql;
    for (size_t r = 0; r < rows; ++r) sql += (r ? "," : "") + std::string(tuple);
    return sql;
  };
  const std::string image_sql = "INSERT INTO images(id, file_name, folder_id, width, height, split, missing) VALUES ";
  const char* image_tuple = "(?,?,?,?,?,?,?)";
  auto image_batch = db_->prepare(image_sql + values(kRows, image_tuple));
  for (size_t start = 0; start < images.size(); start += kRows) {
    const size_t n = std::min(kRows, images.size() - start);
    Statement tail_stmt = n == kRows ? Statement(db_->handle(), "SELECT 1") : db_->prepare(image_sql + values(n, image_tuple));
    Statement& st = n == kRows ? image_batch : tail_stmt;
    for (size_t r = 0; r < n; ++r) {
      const auto& im = images[start + r];
      const int b = static_cast<int>(r * 7);
      st.bind(b + 1, im.id).bind(b + 2, im.file_name).bind(b + 3, folder_id).bind(b + 4, im.width);
      st.bind(b + 5, im.height).bind(b + 6, std::string(splitName(im.split))).bind(b + 7, im.missing ? 1 : 0);
    }
    try {
      st.run();
    } catch (const DatabaseError&) {
      st.reset();
      // Name the offending image: the first of this chunk that already exists (or repeats within the chunk).
      std::unordered_set<int64_t> seen;
      for (size_t r = 0; r < n; ++r) {
        const auto& im = images[start + r];
        if (!seen.insert(im.id).second || image(im.id))
          throw DatabaseError("image id " + std::to_string(im.id) + " ('" + im.file_name + "') is already in the project");
      }
      throw;
    }
    result.images += static_cast<int64_t>(n);
  }

  const std::string label_sql = "INSERT OR IGNORE INTO labels(image_id, category_id) VALUES ";
  auto label_batch = db_->prepare(label_sql + values(kRows, "(?,?)"));
  for (size_t start = 0; start < labels.size(); start += kRows) {
    const size_t n = std::min(kRows, labels.size() - start);
    Statement tail_stmt = n == kRows ? Statement(db_->handle(), "SELECT 1") : db_->prepare(label_sql + values(n, "(?,?)"));
    Statement& st = n == kRows ? label_batch : tail_stmt;
    for (size_t r = 0; r < n; ++r) {
      st.bind(static_cast<int>(2 * r + 1), labels[start + r].first).bind(static_cast<int>(2 * r + 2), labels[start + r].second);
    }
    try {
      st.run();
    } catch (const DatabaseError&) {
      st.reset();
      for (size_t r = 0; r < n; ++r) {
        const auto [image_id, category_id] = labels[start + r];
        if (!image(image_id) || !category(category_id))
          throw DatabaseError("label (image " + std::to_string(image_id) + ", category " + std::to_string(category_id) +
                              ") refers to an unknown image or category");
      }
      throw;
    }
    result.labels += db_->changes();
  }
  tx.commit();
  return result;
}

std::optional<SinglePositive> ProjectStore::singlePositive(int64_t image_id) {
  auto st = db_->prepare("SELECT image_id, category_id, source, updated_at FROM single_positives WHERE image_id = ?");
  st.bind(1, image_id);
  if (!st.step()) return std::nullopt;
  return readPositive(st);
}

std::unordered_map<int64_t, SinglePositive> ProjectStore::singlePositives(std::optional<Split> split) {
  std::string sql = "SELECT s.image_id, s.category_id, s.source, s.updated_at FROM single_positives s";
  if (split) sql += " JOIN images i ON i.id = s.image_id WHERE i.split = ?";
  auto st = db_->prepare(sql);
  if (split) st.bind(1, std::string(splitName(*split)));
  std::unordered_map<int64_t, SinglePositive> out;
  while (st.step()) {
    auto p = readPositive(st);
    out.emplace(p.image_id, p);
  }
  return out;
}

std::optional<SinglePositive> ProjectStore::setSinglePositive(int64_t image_id, std::optional<int64_t> category_id,
                                                              AnnotationSource source) {
  Transaction tx(*db_);
  if (!image(image_id)) throw UnknownIdError("unknown image id " + std::to_string(image_id));
  if (category_id && !category(*category_id))
    throw UnknownIdError("unknown category id " + std::to_string(*category_id));
  const auto previous = singlePositive(image_id);
  const int64_t now = nowMs();
  if (category_id) {
    auto st = db_->prepare(
        "INSERT INTO single_positives(image_id, category_id, source, updated_at) VALUES(?, ?, ?, ?) "
        "ON CONFLICT(image_id) DO UPDATE SET category_id = excluded.category_id, source = excluded.source, "
        "updated_at = excluded.updated_at");
    st.bind(1, image_id).bind(2, *category_id).bind(3, std::string(sourceName(source))).bind(4, now).run();
  } else {
    auto st = db_->prepare("DELETE FROM single_positives WHERE image_id = ?");
    st.bind(1, image_id).run();
  }
  auto hist = db_->prepare(
      "INSERT INTO annotation_history(image_id, old_category_id, old_source, new_category_id, new_source, at) "
      "VALUES(?, ?, ?, ?, ?, ?)");
  hist.bind(1, image_id);
  if (previous) {
    hist.bind(2, previous->category_id).bind(3, std::string(sourceName(previous->source)));
  } else {
    hist.bindNull(2).bindNull(3);
  }
  if (category_id) {
    hist.bind(4, *category_id).bind(5, std::string(sourceName(source)));
  } else {
    hist.bindNull(4).bindNull(5);
  }
  hist.bind(6, now).run();
  tx.commit();
  return previous;
}

int64_t ProjectStore::storeGeneratedSinglePositives(const std::vector<std::pair<int64_t, int64_t>>& image_category,
                                                    bool overwrite_user) {
  Transaction tx(*db_);
  const std::string guard = overwrite_user ? "" : " WHERE single_positives.source = 'generated'";
  auto st = db_->prepare(
      "INSERT INTO single_positives(image_id, category_id, source, updated_at) VALUES(?, ?, 'generated', ?) "
      "ON CONFLICT(image_id) DO UPDATE SET category_id = excluded.category_id, source = 'generated', "
      "updated_at = excluded.updated_at" + guard);
  const int64_t now = nowMs();
  int64_t written = 0;
  for (const auto& [image_id, category_id] : image_category) {
    st.bind(1, image_id).bind(2, category_id).bind(3, now);
    st.run();
    written += db_->changes();
  }
  tx.commit();
  return written;
}

std::vector<HistoryEntry> ProjectStore::history(int64_t limit) {
  auto st = db_->prepare(
      "SELECT seq, image_id, old_category_id, old_source, new_category_id, new_source, at FROM annotation_history "
      "ORDER BY seq DESC LIMIT ?");
  st.bind(1, limit);
  std::vector<HistoryEntry> out;
  while (st.step()) {
    HistoryEntry h;
    h.seq = st.int64(0);
    h.image_id = st.int64(1);
    if (!st.isNull(2)) h.old_category_id = st.int64(2);
    h.old_source = st.text(3);
    if (!st.isNull(4)) h.new_category_id = st.int64(4);
    h.new_source = st.text(5);
    h.at = st.int64(6);
    out.push_back(h);
  }
  return out;
}

int64_t ProjectStore::createRun(const std::string& name, const std::string& method, const std::string& config_json,
                                const std::string& checkpoint_dir) {
  Transaction tx(*db_);
  auto st = db_->prepare(
      "INSERT INTO runs(name, method, config, status, started_at, checkpoint_dir) VALUES(?, ?, ?, 'running', ?, ?)");
  st.bind(1, name).bind(2, method).bind(3, config_json).bind(4, nowMs()).bind(5, checkpoint_dir).run();
  const int64_t id = db_->lastInsertId();
  setMeta(runOwnerKey(id), thisProcess().str());
  tx.commit();
  return id;
}

void ProjectStore::finishRun(int64_t run_id, RunStatus status, const std::string& message,
                             std::optional<double> best_val_map) {
  auto st = db_->prepare(
      "UPDATE runs SET status = ?, message = ?, finished_at = ?, best_val_map = COALESCE(?, best_val_map) WHERE id = ?");
  st.bind(1, std::string(runStatusName(status))).bind(2, message).bind(3, nowMs()).bind(4, best_val_map).bind(5, run_id).run();
  if (db_->changes() == 0) throw UnknownIdError("unknown run id " + std::to_string(run_id));
  auto owner = db_->prepare("DELETE FROM meta WHERE key = ?");
  owner.bind(1, runOwnerKey(run_id)).run();
}

void ProjectStore::updateRunBest(int64_t run_id, double best_val_map) {
  auto st = db_->prepare("UPDATE runs SET best_val_map = ? WHERE id = ?");
  st.bind(1, best_val_map).bind(2, run_id).run();
}

void ProjectStore::setRunCheckpointDir(int64_t run_id, const std::string& dir) {
  auto st = db_->prepare("UPDATE runs SET checkpoint_dir = ? WHERE id = ?");
  st.bind(1, dir).bind(2, run_id).run();
}

void ProjectStore::setRunStatus(int64_t run_id, RunStatus status) {
  Transaction tx(*db_);
  auto st = db_->prepare("UPDATE runs SET status = ?, finished_at = NULL WHERE id = ?");
  st.bind(1, std::string(runStatusName(status))).bind(2, run_id).run();
  if (status == RunStatus::Running) setMeta(runOwnerKey(run_id), thisProcess().str());  // a resumed run: its new owner
  tx.commit();
}

void ProjectStore::markInterruptedRuns() {
  const RunOwner me = thisProcess();
  std::vector<std::pair<int64_t, RunOwner>> gone;
  {
    auto st = db_->prepare(
        "SELECT r.id, m.value FROM runs r JOIN meta m ON m.key = 'run_owner.' || r.id WHERE r.status = 'running'");
    while (st.step()) {
      const auto owner = RunOwner::parse(st.text(1));
      // Only this machine's processes can be checked; a run trained elsewhere on a shared file stays as is.
      // (Containers that share a host name but not a pid namespace would look alike; should a live run be
      // marked by mistake, its own finishRun() still records the true outcome.)
      if (owner && owner->host == me.host && !processAlive(owner->pid)) gone.emplace_back(st.int64(0), *owner);
    }
  }
  if (gone.empty()) return;
  Transaction tx(*db_);
  for (const auto& [id, owner] : gone) {
    // The runs table's status CHECK has no 'interrupted' (changing it needs a migration); "failed" with
    // this message lets the GUI and `info` tell it apart, and a checkpoint, if any, can still be resumed.
    finishRun(id, RunStatus::Failed,
              "interrupted: its process (" + owner.str() + ") ended before the run finished", std::nullopt);
  }
  tx.commit();
}

void ProjectStore::addRunMetrics(int64_t run_id, const std::vector<RunMetric>& metrics) {
  if (metrics.empty()) return;
  Transaction tx(*db_);
  auto st = db_->prepare("INSERT INTO run_metrics(run_id, epoch, step, name, value) VALUES(?, ?, ?, ?, ?)");
  for (const auto& m : metrics) {
    st.bind(1, run_id).bind(2, m.epoch).bind(3, m.step).bind(4, m.name).bind(5, m.value);
    st.run();
  }
  tx.commit();
}

std::vector<RunRecord> ProjectStore::runs() {
  auto st = db_->prepare(std::string("SELECT ") + kRunColumns + " FROM runs ORDER BY id");
  std::vector<RunRecord> out;
  while (st.step()) out.push_back(readRun(st));
  return out;
}

std::optional<RunRecord> ProjectStore::run(int64_t run_id) {
  auto st = db_->prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
  st.bind(1, run_id);
  if (!st.step()) return std::nullopt;
  return readRun(st);
}

std::optional<RunRecord> ProjectStore::runByName(const std::string& name) {
  auto st = db_->prepare(std::string("SELECT ") + kRunColumns + " FROM runs WHERE name = ? ORDER BY id DESC LIMIT 1");
  st.bind(1, name);
  if (!st.step()) return std::nullopt;
  return readRun(st);
}

std::vector<RunMetric> ProjectStore::runMetrics(int64_t run_id, const std::string& name) {
  std::string sql = "SELECT epoch, step, name, value FROM run_metrics WHERE run_id = ?";
  if (!name.empty()) sql += " AND name = ?";
  sql += " ORDER BY rowid";
  auto st = db_->prepare(sql);
  st.bind(1, run_id);
  if (!name.empty()) st.bind(2, name);
  std::vector<RunMetric> out;
  while (st.step()) out.push_back({static_cast<int>(st.int64(0)), st.int64(1), st.text(2), st.real(3)});
  return out;
}

void ProjectStore::addCheckpoint(const CheckpointRecord& c) {
  auto st = db_->prepare(
      "INSERT OR REPLACE INTO checkpoints(run_id, epoch, path, val_map, created_at) VALUES(?, ?, ?, ?, ?)");
  st.bind(1, c.run_id).bind(2, c.epoch).bind(3, c.path).bind(4, c.val_map).bind(5, nowMs()).run();
}

std::vector<CheckpointRecord> ProjectStore::checkpoints(int64_t run_id) {
  auto st = db_->prepare("SELECT run_id, epoch, path, val_map FROM checkpoints WHERE run_id = ? ORDER BY epoch");
  st.bind(1, run_id);
  std::vector<CheckpointRecord> out;
  while (st.step()) {
    CheckpointRecord c{st.int64(0), static_cast<int>(st.int64(1)), st.text(2), std::nullopt};
    if (!st.isNull(3)) c.val_map = st.real(3);
    out.push_back(c);
  }
  return out;
}

}  // namespace mls
