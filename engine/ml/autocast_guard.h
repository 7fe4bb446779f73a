// RAII switch for CUDA autocast (mixed precision) in the forward pass. LibTorch changed this API in 2.4
// (set_enabled / set_autocast_gpu_dtype became set_autocast_enabled / set_autocast_dtype per device);
// the version guard lives in the .cpp so callers compile against Debian's 1.13 and current 2.x alike.
#pragma once
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <optional>

namespace mls {

// Whether autocast is on in this thread for a device type (CUDA or CPU), and its dtype: what a recomputation
// must reproduce. The trainer only uses CUDA autocast; CPU autocast is captured too because
// torch.utils.checkpoint recomputes under both devices' forward state.
struct AutocastState {
  bool enabled = false;
  c10::ScalarType dtype = c10::ScalarType::Half;
};
AutocastState currentAutocast(c10::DeviceType device);
inline AutocastState currentCudaAutocast() { return currentAutocast(c10::DeviceType::CUDA); }

// Sets one device type's autocast to exactly `state` (on or off) for the scope, then restores the previous
// state: what a recomputation needs, whatever the calling thread's autocast state is.
class AutocastStateGuard {
 public:
  explicit AutocastStateGuard(AutocastState state, c10::DeviceType device = c10::DeviceType::CUDA);
  ~AutocastStateGuard();
  AutocastStateGuard(const AutocastStateGuard&) = delete;
  AutocastStateGuard& operator=(const AutocastStateGuard&) = delete;

 private:
  c10::DeviceType device_;
  AutocastState previous_;
  bool nested_;
};

// Turns CUDA autocast on for the scope; enabled = false makes the guard a no-op (the caller's state stays).
// dtype: at::kHalf or at::kBFloat16.
class AutocastGuard {
 public:
  AutocastGuard(bool enabled, c10::ScalarType dtype) {
    if (enabled) on_.emplace(AutocastState{true, dtype});
  }

 private:
  std::optional<AutocastStateGuard> on_;
};

}  // namespace mls
