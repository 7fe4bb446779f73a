// A private scratch folder for one fuzzing process: the targets hand their bytes to the code under test as
// files, the way users do (the COCO reader maps a file, the store opens one).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace mls::fuzz {

class FuzzTempDir {
 public:
  explicit FuzzTempDir(const std::string& tag);  // mkdtemp under $TMPDIR (scripts/fuzz points it into build-fuzz/)
  ~FuzzTempDir();                                // removes the folder and everything in it
  FuzzTempDir(const FuzzTempDir&) = delete;
  FuzzTempDir& operator=(const FuzzTempDir&) = delete;

  const std::string& path() const { return path_; }
  // Writes `size` bytes to <dir>/<name> (replacing it) and returns the file's path; aborts when it cannot,
  // since a harness that silently skips inputs would report coverage it never had.
  std::string write(const std::string& name, const uint8_t* data, size_t size) const;
  // Removes <dir>/<name> and the -wal / -shm / -journal files SQLite may have left beside it.
  void removeWithCompanions(const std::string& name) const;

 private:
  std::string path_;
};

// Stops the process with a message: the harness found a broken promise (not a sanitizer finding), and libFuzzer
// saves the input that led here like any other crash.
[[noreturn]] void fail(const std::string& what);

}  // namespace mls::fuzz
