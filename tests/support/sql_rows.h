// Reading a project file with plain SQLite in tests, outside the store: what another process would see.
#pragma once
#include <QString>
#include <QStringList>
#include <sqlite3.h>

namespace mls::test {

// Rows of `statement`, the columns of each joined by '|'; "sqlite: ..." on an error. `writable` opens the
// file read-write (needed to read a WAL database whose -shm another process may have removed).
inline QStringList sqlRows(const QString& file, const QString& statement, bool writable = false) {
  sqlite3* db = nullptr;
  QStringList out;
  const int flags = writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
  if (sqlite3_open_v2(file.toUtf8().constData(), &db, flags, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return {"sqlite: cannot open"};
  }
  sqlite3_busy_timeout(db, 30000);
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db, statement.toUtf8().constData(), -1, &st, nullptr) != SQLITE_OK) {
    out << QString("sqlite: ") + sqlite3_errmsg(db);
  } else {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
      QStringList cols;
      for (int c = 0; c < sqlite3_column_count(st); ++c)
        cols << QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(st, c)));
      out << cols.join('|');
    }
    if (rc != SQLITE_DONE) out << QString("sqlite: ") + sqlite3_errmsg(db);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// The first row of sqlRows (empty when there is none).
inline QString sqlValue(const QString& file, const QString& statement, bool writable = false) {
  const auto r = sqlRows(file, statement, writable);
  return r.isEmpty() ? QString() : r.first();
}

}  // namespace mls::test
