#include "fuzz_temp_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <vector>

namespace fs = std::filesystem;

namespace mls::fuzz {

void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz harness: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

FuzzTempDir::FuzzTempDir(const std::string& tag) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/mls-fuzz-" + tag + "-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (!mkdtemp(buffer.data())) fail("cannot create a temporary folder from " + pattern);
  path_ = buffer.data();
}

FuzzTempDir::~FuzzTempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string FuzzTempDir::write(const std::string& name, const uint8_t* data, size_t size) const {
  const std::string file = path_ + "/" + name;
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot write " + file);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) fail("cannot write " + file);
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return file;
}

void FuzzTempDir::removeWithCompanions(const std::string& name) const {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) ::unlink((path_ + "/" + name + suffix).c_str());
}

}  // namespace mls::fuzz
