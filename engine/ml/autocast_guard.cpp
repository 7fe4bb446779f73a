#include "ml/autocast_guard.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace mls {

namespace {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool cudaAutocastEnabled() { return at::autocast::is_autocast_enabled(at::kCUDA); }
void setCudaAutocastEnabled(bool on) { at::autocast::set_autocast_enabled(at::kCUDA, on); }
c10::ScalarType cudaAutocastDtype() { return at::autocast::get_autocast_dtype(at::kCUDA); }
void setCudaAutocastDtype(c10::ScalarType t) { at::autocast::set_autocast_dtype(at::kCUDA, t); }
#else
bool cudaAutocastEnabled() { return at::autocast::is_enabled(); }
void setCudaAutocastEnabled(bool on) { at::autocast::set_enabled(on); }
c10::ScalarType cudaAutocastDtype() { return at::autocast::get_autocast_gpu_dtype(); }
void setCudaAutocastDtype(c10::ScalarType t) { at::autocast::set_autocast_gpu_dtype(t); }
#endif

}  // namespace

AutocastState currentCudaAutocast() { return {cudaAutocastEnabled(), cudaAutocastDtype()}; }

AutocastStateGuard::AutocastStateGuard(AutocastState state) : previous_(currentCudaAutocast()), nested_(state.enabled) {
  setCudaAutocastDtype(state.dtype);
  setCudaAutocastEnabled(state.enabled);
  if (nested_) at::autocast::increment_nesting();
}

// Like torch.autocast.__exit__: the cast cache lives only as long as the outermost autocast region.
AutocastStateGuard::~AutocastStateGuard() {
  if (nested_ && at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  setCudaAutocastEnabled(previous_.enabled);
  setCudaAutocastDtype(previous_.dtype);
}

}  // namespace mls
