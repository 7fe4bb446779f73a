// Loaded RunModels kept between inspections, so stepping through images under one run costs one forward
// pass each, not a checkpoint load. Thread-safe; get() loads on the calling (worker) thread with that
// thread's own ProjectStore connection. A run whose checkpoint file changed since loading (resumed or
// retrained) is loaded again.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>

namespace mls {

class RunModel;

class RunModelCache {
 public:
  // capacity: models kept (least recently used dropped first). A Q2L-R101 holds ~200 M parameters
  // (~0.8 GB), so keep few.
  explicit RunModelCache(size_t capacity = 2);
  ~RunModelCache();

  // Throws what RunModel's constructor throws (unknown run, no checkpoint, unreadable file).
  std::shared_ptr<RunModel> get(const std::string& project_path, int64_t run_id, const std::string& device);
  void clear();
  size_t size() const;
  int loads() const;  // how many times a model was actually loaded (tests check the cache works)

 private:
  struct Entry {
    std::string project;
    int64_t run_id = 0;
    std::string device;
    long long checkpoint_stamp = 0;
    std::shared_ptr<RunModel> model;
  };
  size_t capacity_;
  mutable std::mutex mutex_;
  std::mutex load_mutex_;  // one load at a time: two threads asking for one run load it once
  std::list<Entry> entries_;  // most recently used first
  int loads_ = 0;
};

}  // namespace mls
