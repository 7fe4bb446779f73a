// RAII switch for CUDA autocast (mixed precision) in the forward pass. LibTorch changed this API in 2.4
// (set_enabled / set_autocast_gpu_dtype became set_autocast_enabled / set_autocast_dtype per device);
// the version guard lives in the .cpp so callers compile against Debian's 1.13 and current 2.x alike.
#pragma once
#include <c10/core/ScalarType.h>

namespace mls {

// Whether CUDA autocast is on in this thread, and its dtype (what a recomputation must reproduce).
struct AutocastState {
  bool enabled = false;
  c10::ScalarType dtype = c10::ScalarType::Half;
};
AutocastState currentCudaAutocast();

class AutocastGuard {
 public:
  // enabled = false makes the guard a no-op. dtype: at::kHalf or at::kBFloat16.
  AutocastGuard(bool enabled, c10::ScalarType dtype);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_;
  bool previous_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Half;
};

// Sets CUDA autocast to exactly `state` (on or off) for the scope, then restores the previous state: what a
// recomputation needs, whatever the calling thread's autocast state is.
class AutocastStateGuard {
 public:
  explicit AutocastStateGuard(AutocastState state);
  ~AutocastStateGuard();
  AutocastStateGuard(const AutocastStateGuard&) = delete;
  AutocastStateGuard& operator=(const AutocastStateGuard&) = delete;

 private:
  AutocastState previous_;
  bool nested_;
};

}  // namespace mls
