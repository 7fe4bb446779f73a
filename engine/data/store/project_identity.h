// Telling a Multi-Label Studio project from any other file before anything is written to it. A foreign
// database, an empty file or random bytes must be refused and left byte-for-byte unchanged, and even
// SQLite's `PRAGMA journal_mode=WAL` rewrites the header, so identification only reads.
#pragma once
#include <cstdint>
#include <string>

#include "data/store/sqlite_db.h"

namespace mls {

// SQLite's `PRAGMA application_id` (header offset 68) for our files: 'MLSP' in ASCII. The header's
// application_id is the place SQLite reserves for "what program is this file for"
// (https://www.sqlite.org/fileformat.html#application_id; the `file` utility reads it too).
constexpr int32_t kApplicationId = 0x4D4C5350;

// The file exists but is not a project of ours ("'x.db' is not a Multi-Label Studio project (empty file)").
class NotAProjectError : public DatabaseError {
 public:
  using DatabaseError::DatabaseError;
};

struct ProjectFileIdentity {
  bool exists = false;   // false: no file at the path (creation is the caller's choice)
  bool stamped = false;  // carries kApplicationId; false for projects made before it was stamped
};

// Reads the header (and, only when that cannot decide, the file through a read-only connection). Throws
// NotAProjectError for anything that is not ours: an empty file, not SQLite, another program's SQLite file.
ProjectFileIdentity identifyProjectFile(const std::string& path);

}  // namespace mls
