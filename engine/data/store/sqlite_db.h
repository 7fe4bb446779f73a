// Thin RAII wrapper over the SQLite C API: one connection, prepared statements, transactions.
// Only the store uses it; no SQL appears outside engine/data/store.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "data/store/one_line.h"

struct sqlite3;
struct sqlite3_stmt;

namespace mls {

// The message is folded onto one line: SQLite quotes the schema's SQL, line breaks included, in some errors
// ("malformed database schema (x) - unrecognized token: ..."; found by tests/fuzz/fuzz_project_open).
class DatabaseError : public std::runtime_error {
 public:
  explicit DatabaseError(const std::string& what) : std::runtime_error(oneLine(what)) {}
};

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql);
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind(int index, const std::string& value);
  Statement& bind(int index, const char* value) { return bind(index, std::string(value)); }
  Statement& bindNull(int index);
  Statement& bindBlob(int index, const void* data, int bytes);
  template <typename T>
  Statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bindNull(index);
  }

  bool step();   // true while a row is available
  void run();    // step to completion, then reset
  void reset();  // reset and clear bindings for reuse

  int64_t int64(int col) const;
  double real(int col) const;
  std::string text(int col) const;
  bool isNull(int col) const;
  const void* blob(int col, int* bytes) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

class Database {
 public:
  // Create: open or create read-write. ReadWrite: the file must exist. ReadOnly: SQLite's read-only flag, so
  // nothing this connection does can change the file; when that open fails because the -wal/-shm companion
  // files cannot be created (a read-only folder), it falls back to `immutable=1`, which reads the main file
  // without locks or WAL (https://www.sqlite.org/uri.html#uriimmutable; https://www.sqlite.org/wal.html,
  // "Read-Only Databases"). Immutable: straight to `immutable=1`, for a quick look at a file that has no
  // -wal file (so the main file holds everything) without creating the -wal/-shm files a plain read-only
  // connection leaves behind.
  enum class Access { Create, ReadWrite, ReadOnly, Immutable };
  explicit Database(const std::string& path, Access access = Access::Create);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  void exec(const std::string& sql);
  Statement prepare(const std::string& sql) { return Statement(db_, sql); }
  int64_t lastInsertId() const;
  int changes() const;
  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  bool immutable() const { return immutable_; }  // the ReadOnly fallback was taken

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  bool immutable_ = false;
};

// Commits on commit(), rolls back in the destructor otherwise (so an exception undoes everything).
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

 private:
  Database& db_;
  std::string savepoint_;  // empty for the outermost transaction
  bool done_ = false;
};

}  // namespace mls
