#include "data/store/project_identity.h"

#include <fcntl.h>
#include <cerrno>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <utility>

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

// POSIX drops every lock a process holds on a file when the process closes any descriptor of that file,
// SQLite's locks included (https://www.sqlite.org/howtocorrupt.html, section 2.2). Reading the header with
// an open/close of our own while this process has a connection to the file (a second ProjectStore: the run
// follower's next to the session's) left that connection without its shared lock; a CLI run's last close in
// another process then deleted the WAL under it (stale reads, "database disk image is malformed"). So the
// header is read through one descriptor per file, kept open for the life of the process, as SQLite keeps its.
int headerDescriptor(const std::string& path) {
  static std::mutex mutex;
  static std::map<std::pair<dev_t, ino_t>, int> open_files;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  const std::lock_guard<std::mutex> lock(mutex);
  if (const auto it = open_files.find({st.st_dev, st.st_ino}); it != open_files.end()) return it->second;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  if (::fstat(fd, &st) != 0) return fd;  // kept open all the same: closing it is what must not happen
  // While it is open the inode cannot be reused, so the key stays this file's.
  const auto [it, inserted] = open_files.emplace(std::make_pair(st.st_dev, st.st_ino), fd);
  if (inserted) return fd;
  return it->second;  // another thread got there first; this descriptor stays open unused (rare, harmless)
}

}  // namespace

ProjectFileIdentity identifyProjectFile(const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) return {};
  if (!fs::is_regular_file(status)) notOurs(path, "not a file");
  const int fd = headerDescriptor(path);
  if (fd < 0) throw DatabaseError("cannot read '" + path + "'");
  std::array<unsigned char, kHeaderBytes> header{};
  size_t got = 0;
  while (got < header.size()) {
    const ssize_t n = ::pread(fd, header.data() + got, header.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw DatabaseError("cannot read '" + path + "': " + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
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
