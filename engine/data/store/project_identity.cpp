#include "data/store/project_identity.h"

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace mls {

namespace {

// The database header is the first 100 bytes; integers are big-endian.
// https://www.sqlite.org/fileformat.html#the_database_header
constexpr size_t kHeaderBytes = 100;
constexpr size_t kUserVersionOffset = 60;
constexpr size_t kApplicationIdOffset = 68;

uint32_t bigEndian32(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

[[noreturn]] void notOurs(const std::string& path, const std::string& why) {
  throw NotAProjectError("'" + path + "' is not a Multi-Label Studio project (" + why + ")");
}

int64_t pragma(Database& db, const char* name) {
  auto st = db.prepare(std::string("PRAGMA ") + name);
  st.step();
  return st.int64(0);
}

// A project made before the application_id was stamped: our meta table records a schema version.
bool hasOurMetaTable(Database& db) {
  auto table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
  if (!table.step()) return false;
  try {
    auto row = db.prepare("SELECT 1 FROM meta WHERE key = 'schema_version'");
    return row.step();
  } catch (const DatabaseError&) {
    return false;  // someone else's table called meta, without our columns
  }
}

}  // namespace

ProjectFileIdentity identifyProjectFile(const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) return {};
  if (!fs::is_regular_file(status)) notOurs(path, "not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DatabaseError("cannot read '" + path + "'");
  std::array<unsigned char, kHeaderBytes> header{};
  in.read(reinterpret_cast<char*>(header.data()), header.size());
  const auto got = static_cast<size_t>(in.gcount());
  // SQLite itself would take an empty file as an empty database and happily write a schema into it.
  if (got == 0) notOurs(path, "empty file");
  if (got < kHeaderBytes || std::memcmp(header.data(), "SQLite format 3", 16) != 0)
    notOurs(path, "not an SQLite database");

  const auto app_id = static_cast<int32_t>(bigEndian32(header.data() + kApplicationIdOffset));
  const uint32_t user_version = bigEndian32(header.data() + kUserVersionOffset);
  if (app_id == kApplicationId) return {true, true};
  if (app_id != 0) notOurs(path, "an SQLite database of another program");
  // Without a -wal file the header is the whole truth; with one, newer values may still sit in the WAL.
  const bool wal = fs::exists(path + "-wal", ec);
  if (!wal && user_version == 0) notOurs(path, "an SQLite database without Multi-Label Studio's tables");

  try {
    Database db(path, wal ? Database::Access::ReadOnly : Database::Access::Immutable);
    if (pragma(db, "application_id") == kApplicationId) return {true, true};
    if (pragma(db, "application_id") == 0 && pragma(db, "user_version") >= 1 && hasOurMetaTable(db))
      return {true, false};
  } catch (const NotAProjectError&) {
    throw;
  } catch (const DatabaseError& e) {
    notOurs(path, std::string("unreadable: ") + e.what());
  }
  notOurs(path, "an SQLite database without Multi-Label Studio's tables");
}

}  // namespace mls
