// libFuzzer target: the input becomes a project file, opened read-only like `mlstudio-cli info`, `export` and
// `eval` do; when the store accepts it, it is queried the way `info` does. Any file may be refused, but only
// with an exception carrying a one-line message (what the CLI prints and the GUI shows), never a crash.
#include <cstdint>
#include <exception>
#include <string>

#include "data/store/project_store.h"
#include "fuzz_temp_dir.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const mls::fuzz::FuzzTempDir dir("project");
  static const std::string name = "fuzz.mlsproj";
  dir.removeWithCompanions(name);  // a -wal file from the previous input would change how this one reads
  const std::string path = dir.write(name, data, size);
  try {
    mls::ProjectStore store(path, mls::ProjectStore::Open::ReadOnly);
    const auto counts = store.counts();
    int64_t missing = 0;
    for (const auto& f : store.imageFolders()) missing += f.images - f.present;
    const auto runs = store.runs();
    (void)store.schemaVersion();
    (void)counts;
    (void)missing;
    (void)runs;
  } catch (const std::exception& e) {
    const std::string message = e.what();
    if (message.empty() || message.find('\n') != std::string::npos)
      mls::fuzz::fail("opening a project gave an empty or multi-line error: '" + message + "'");
  }
  dir.removeWithCompanions(name);
  return 0;
}
