#include "data/store/sqlite_db.h"

#include <sqlite3.h>

namespace mls {

namespace {
[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw DatabaseError(what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}
}  // namespace

Statement::Statement(sqlite3* db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
    fail(db_, "cannot prepare '" + sql + "'");
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }

Statement& Statement::bind(int index, int64_t value) {
  if (sqlite3_bind_int64(stmt_, index, value) != SQLITE_OK) fail(db_, "bind");
  return *this;
}
Statement& Statement::bind(int index, double value) {
  if (sqlite3_bind_double(stmt_, index, value) != SQLITE_OK) fail(db_, "bind");
  return *this;
}
Statement& Statement::bind(int index, const std::string& value) {
  if (sqlite3_bind_text(stmt_, index, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT) != SQLITE_OK)
    fail(db_, "bind");
  return *this;
}
Statement& Statement::bindNull(int index) {
  if (sqlite3_bind_null(stmt_, index) != SQLITE_OK) fail(db_, "bind");
  return *this;
}
Statement& Statement::bindBlob(int index, const void* data, int bytes) {
  if (sqlite3_bind_blob(stmt_, index, data, bytes, SQLITE_TRANSIENT) != SQLITE_OK) fail(db_, "bind");
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const std::string sql = sqlite3_sql(stmt_) ? sqlite3_sql(stmt_) : "";
  sqlite3_reset(stmt_);
  fail(db_, "statement failed ('" + sql.substr(0, 80) + "')");
}

void Statement::run() {
  while (step()) {
  }
  reset();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::real(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(stmt_, col)) : std::string();
}
bool Statement::isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
const void* Statement::blob(int col, int* bytes) const {
  *bytes = sqlite3_column_bytes(stmt_, col);
  return sqlite3_column_blob(stmt_, col);
}

namespace {

sqlite3* openConnection(const std::string& name, int flags) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(name.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw DatabaseError(msg);
  }
  sqlite3_extended_result_codes(db, 1);
  return db;
}

// Opening is lazy: the -wal/-shm files are only needed once the first page is read, so probe with a read.
int probeRead(sqlite3* db) {
  sqlite3_stmt* st = nullptr;
  int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(st) == SQLITE_ROW ? SQLITE_OK : sqlite3_errcode(db);
  sqlite3_finalize(st);
  return rc;
}

// file: URI for a plain path; '?', '#' and '%' would otherwise start the query, fragment or an escape.
std::string fileUri(const std::string& path) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%') uri += "%25";
    else if (c == '?') uri += "%3f";
    else if (c == '#') uri += "%23";
    else uri += c;
  }
  return uri;
}

}  // namespace

Database::Database(const std::string& path, Access access) : path_(path) {
  try {
    if (access == Access::Create || access == Access::ReadWrite) {
      db_ = openConnection(path, SQLITE_OPEN_READWRITE | (access == Access::Create ? SQLITE_OPEN_CREATE : 0));
      return;
    }
    if (access == Access::Immutable) {
      db_ = openConnection(fileUri(path) + "?immutable=1", SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
      immutable_ = true;
      return;
    }
    db_ = openConnection(path, SQLITE_OPEN_READONLY);
    const int rc = probeRead(db_) & 0xff;
    // A WAL-mode file in a folder this process cannot write: its -wal/-shm cannot be created (CANTOPEN) or
    // set up (READONLY_CANTINIT). Reading the main file as immutable is then the only way in; it misses
    // changes still in a left-over -wal file, which is acceptable for inspection.
    if (rc == SQLITE_CANTOPEN || rc == SQLITE_READONLY) {
      sqlite3_close_v2(db_);
      db_ = nullptr;
      db_ = openConnection(fileUri(path) + "?immutable=1", SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
      immutable_ = true;
    }
  } catch (const DatabaseError& e) {
    throw DatabaseError("cannot open project '" + path + "': " + e.what());
  }
}

Database::~Database() { sqlite3_close_v2(db_); }

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw DatabaseError(msg);
  }
}

int64_t Database::lastInsertId() const { return sqlite3_last_insert_rowid(db_); }
int Database::changes() const { return sqlite3_changes(db_); }

// Outermost transactions take the write lock up front (BEGIN IMMEDIATE) so two connections never deadlock on
// a read->write upgrade; nested ones become savepoints so store methods compose inside a caller's transaction.
Transaction::Transaction(Database& db) : db_(db) {
  if (sqlite3_get_autocommit(db_.handle())) {
    db_.exec("BEGIN IMMEDIATE");
  } else {
    static thread_local int counter = 0;
    savepoint_ = "mls_sp_" + std::to_string(++counter);
    db_.exec("SAVEPOINT " + savepoint_);
  }
}
Transaction::~Transaction() {
  if (done_) return;
  try {
    if (savepoint_.empty()) {
      db_.exec("ROLLBACK");
    } else {
      db_.exec("ROLLBACK TO " + savepoint_);
      db_.exec("RELEASE " + savepoint_);
    }
  } catch (...) {
  }
}
void Transaction::commit() {
  db_.exec(savepoint_.empty() ? std::string("COMMIT") : "RELEASE " + savepoint_);
  done_ = true;
}

}  // namespace mls
