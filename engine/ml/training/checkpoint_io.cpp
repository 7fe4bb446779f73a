#include "ml/training/checkpoint_io.h"

#include <torch/torch.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include "ml/models/multilabel_model.h"
#include "ml/training/module_state.h"
#include "ml/training/training_types.h"

namespace mls {

namespace fs = std::filesystem;

std::string epochCheckpointPath(const std::string& dir, int epoch) {
  char name[32];
  std::snprintf(name, sizeof name, "epoch_%03d.pt", epoch);
  return (fs::path(dir) / name).string();
}

std::string bestCheckpointPath(const std::string& dir) { return (fs::path(dir) / "best.pt").string(); }

namespace {

std::string errorText(int error) { return std::generic_category().message(error); }

[[noreturn]] void cannotWrite(const std::string& path, const std::string& reason) {
  throw std::runtime_error("cannot write '" + path + "': " + reason);
}

// Streams the archive into an open file and keeps the first write error, whose errno says why (No space left
// on device, File too large, ...). After an error it swallows the rest: LibTorch 1.13's zip writer that sees a
// short write throws, then throws again from its destructor while finishing the archive, and that second
// exception terminates the process (pytorch/pytorch#87997, #156955). The caller checks `error` once torch is done.
struct FileSink {
  int fd;
  int error = 0;
  size_t operator()(const void* data, size_t bytes) {
    const char* p = static_cast<const char*>(data);
    size_t left = bytes;
    while (left > 0 && error == 0) {
      const ssize_t n = ::write(fd, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error = n < 0 ? errno : EIO;
        break;
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    return bytes;
  }
};

// Makes the rename itself durable; some file systems refuse fsync on a directory, which changes nothing here.
void syncDirectory(const fs::path& dir) {
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

void saveArchiveAtomically(torch::serialize::OutputArchive& archive, const std::string& path) {
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec) cannotWrite(path, ec.message());
  }
  // Temp file, fsync, rename (POSIX rename replaces the target atomically), fsync of the folder: a crash or a
  // full disk leaves either the previous file or the new one, never a torn one.
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) cannotWrite(path, errorText(errno));
  FileSink sink{fd};
  std::string error;
  try {
    archive.save_to([&sink](const void* data, size_t bytes) { return sink(data, bytes); });
  } catch (const c10::Error& e) {
    error = e.what_without_backtrace();
  }
  if (sink.error != 0) error = errorText(sink.error);
  if (error.empty() && ::fsync(fd) != 0) error = errorText(errno);
  if (::close(fd) != 0 && error.empty()) error = errorText(errno);
  if (error.empty() && ::rename(temp.c_str(), path.c_str()) != 0) error = errorText(errno);
  if (!error.empty()) {
    ::unlink(temp.c_str());
    cannotWrite(path, error);
  }
  syncDirectory(target.parent_path());
}

void loadCheckpointWeights(MultiLabelModel& model, const std::string& checkpoint_path) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(checkpoint_path, torch::Device(torch::kCPU));
    c10::IValue format;
    if (!archive.try_read(ckpt::kFormat, format) || !format.isString())
      throw TrainingError("'" + checkpoint_path + "' is not a Multi-Label Studio checkpoint");
    c10::IValue use_ema;
    const bool want_ema = archive.try_read(ckpt::kUseEma, use_ema) && use_ema.isBool() && use_ema.toBool();
    torch::serialize::InputArchive weights;
    if (!(want_ema && archive.try_read(ckpt::kEmaModel, weights)) && !archive.try_read(ckpt::kModel, weights))
      throw TrainingError("checkpoint '" + checkpoint_path + "' holds no model weights");
    loadStateFromArchive(model, weights);
  } catch (const TrainingError&) {
    throw;
  } catch (const c10::Error& e) {
    throw TrainingError("cannot read checkpoint '" + checkpoint_path + "': " + e.what_without_backtrace());
  } catch (const std::runtime_error& e) {
    throw TrainingError("checkpoint '" + checkpoint_path + "' does not fit this model: " + e.what());
  }
}

}  // namespace mls
