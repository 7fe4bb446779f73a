#include "inspect/run_model_cache.h"

#include <filesystem>

#include "data/store/project_store.h"
#include "data/training/run_model.h"

namespace mls {

namespace {
long long checkpointStamp(const std::string& path) {
  std::error_code ec;
  const auto t = std::filesystem::last_write_time(path, ec);
  return ec ? -1 : static_cast<long long>(t.time_since_epoch().count());
}
}  // namespace

RunModelCache::RunModelCache(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}
RunModelCache::~RunModelCache() = default;

std::shared_ptr<RunModel> RunModelCache::get(const std::string& project_path, int64_t run_id,
                                             const std::string& device) {
  auto lookup = [&]() -> std::shared_ptr<RunModel> {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->project != project_path || it->run_id != run_id || it->device != device) continue;
      if (checkpointStamp(it->model->checkpoint()) != it->checkpoint_stamp) {
        entries_.erase(it);  // retrained since: reload
        return nullptr;
      }
      entries_.splice(entries_.begin(), entries_, it);
      return entries_.front().model;
    }
    return nullptr;
  };
  if (auto hit = lookup()) return hit;
  std::lock_guard<std::mutex> load_lock(load_mutex_);
  if (auto hit = lookup()) return hit;  // another thread loaded it while this one waited
  std::shared_ptr<RunModel> model;
  {
    ProjectStore store(project_path, ProjectStore::Open::Existing);  // this thread's own connection, closed once the model is built
    model = std::make_shared<RunModel>(store, run_id, device);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  ++loads_;
  entries_.push_front(Entry{project_path, run_id, device, checkpointStamp(model->checkpoint()), model});
  while (entries_.size() > capacity_) entries_.pop_back();
  return model;
}

void RunModelCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
}

size_t RunModelCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.size();
}

int RunModelCache::loads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return loads_;
}

}  // namespace mls
