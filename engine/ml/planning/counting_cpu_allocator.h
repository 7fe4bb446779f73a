// Measures peak CPU tensor memory by wrapping LibTorch's CPU allocator (the CPU has no caching-allocator
// statistics like CUDA's): the resource planner's probe and the memory tests use it. Install with a scope
// object; allocations made while it is installed are counted until they are freed, even after the scope ends.
#pragma once
#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <torch/version.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace mls {

class CountingCpuAllocator : public c10::Allocator {
 public:
  // base must hand out DataPtrs whose context is the data pointer (LibTorch's default CPU allocator does),
  // so raw_allocate() works through this wrapper too.
  explicit CountingCpuAllocator(c10::Allocator* base) : base_(base) { base_deleter() = base->raw_deleter(); }

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
  c10::DataPtr allocate(size_t n) override { return wrap(n); }
  void copy_data(void* dest, const void* src, std::size_t count) const override { default_copy_data(dest, src, count); }
#else
  c10::DataPtr allocate(size_t n) const override { return wrap(n); }
#endif
  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  int64_t current() const { return current_.load(); }
  int64_t peak() const { return peak_.load(); }
  void resetPeak() { peak_.store(current_.load()); }

 private:
  struct Registry {
    std::mutex mutex;
    std::unordered_map<void*, std::pair<size_t, CountingCpuAllocator*>> blocks;
  };
  static Registry& registry() {
    static Registry r;
    return r;
  }
  static c10::DeleterFnPtr& base_deleter() {
    static c10::DeleterFnPtr d = nullptr;
    return d;
  }

  c10::DataPtr wrap(size_t n) const {
    auto* self = const_cast<CountingCpuAllocator*>(this);
    c10::DataPtr inner = base_->allocate(n);
    void* data = inner.get();
    const auto device = inner.device();
    inner.release_context();  // ownership moves to release()
    if (data) {
      std::lock_guard<std::mutex> lock(registry().mutex);
      registry().blocks[data] = {n, self};
    }
    const int64_t now = self->current_.fetch_add(static_cast<int64_t>(n)) + static_cast<int64_t>(n);
    int64_t seen = self->peak_.load();
    while (now > seen && !self->peak_.compare_exchange_weak(seen, now)) {
    }
    return {data, data, &release, device};
  }

  static void release(void* data) {
    if (!data) return;
    {
      std::lock_guard<std::mutex> lock(registry().mutex);
      auto it = registry().blocks.find(data);
      if (it != registry().blocks.end()) {
        it->second.second->current_.fetch_sub(static_cast<int64_t>(it->second.first));
        registry().blocks.erase(it);
      }
    }
    base_deleter()(data);
  }

  c10::Allocator* base_;
  std::atomic<int64_t> current_{0}, peak_{0};
};

// Routes CPU allocations through `counter` for the scope's lifetime. The counter must outlive every
// tensor allocated meanwhile.
class CpuAllocatorScope {
 public:
  explicit CpuAllocatorScope(CountingCpuAllocator& counter) : previous_(c10::GetCPUAllocator()) {
    c10::SetCPUAllocator(&counter, kPriority);
  }
  ~CpuAllocatorScope() { c10::SetCPUAllocator(previous_, kPriority); }
  CpuAllocatorScope(const CpuAllocatorScope&) = delete;
  CpuAllocatorScope& operator=(const CpuAllocatorScope&) = delete;

 private:
  static constexpr uint8_t kPriority = 200;
  c10::Allocator* previous_;
};

}  // namespace mls
