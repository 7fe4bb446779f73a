// "Stop after the current batch": one flag that whoever may ask (the CLI's SIGINT handler, the GUI's Stop
// button) shares with whatever honours it (the training session, the trainer, feature caching). Copies
// share the flag; once requested it stays requested.
#pragma once
#include <atomic>
#include <memory>

namespace mls {

class CancelToken {
 public:
  CancelToken() : flag_(std::make_shared<std::atomic<bool>>(false)) {}

  // A lock-free atomic store: safe in a signal handler, as long as this token object outlives the handler.
  void request() const noexcept { flag_->store(true, std::memory_order_relaxed); }
  bool requested() const noexcept { return flag_->load(std::memory_order_relaxed); }

 private:
  static_assert(std::atomic<bool>::is_always_lock_free, "a signal handler may only store lock-free atomics");
  std::shared_ptr<std::atomic<bool>> flag_;
};

}  // namespace mls
