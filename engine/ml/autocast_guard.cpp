#include "ml/autocast_guard.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace mls {

namespace {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocastEnabled(c10::DeviceType d) { return at::autocast::is_autocast_enabled(d); }
void setAutocastEnabled(c10::DeviceType d, bool on) { at::autocast::set_autocast_enabled(d, on); }
c10::ScalarType autocastDtype(c10::DeviceType d) { return at::autocast::get_autocast_dtype(d); }
void setAutocastDtype(c10::DeviceType d, c10::ScalarType t) { at::autocast::set_autocast_dtype(d, t); }
#else
bool isCpu(c10::DeviceType d) { return d == c10::DeviceType::CPU; }
bool autocastEnabled(c10::DeviceType d) { return isCpu(d) ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled(); }
void setAutocastEnabled(c10::DeviceType d, bool on) {
  if (isCpu(d)) at::autocast::set_cpu_enabled(on);
  else at::autocast::set_enabled(on);
}
c10::ScalarType autocastDtype(c10::DeviceType d) {
  return isCpu(d) ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
}
void setAutocastDtype(c10::DeviceType d, c10::ScalarType t) {
  if (isCpu(d)) at::autocast::set_autocast_cpu_dtype(t);
  else at::autocast::set_autocast_gpu_dtype(t);
}
#endif

}  // namespace

AutocastState currentAutocast(c10::DeviceType device) { return {autocastEnabled(device), autocastDtype(device)}; }

AutocastStateGuard::AutocastStateGuard(AutocastState state, c10::DeviceType device)
    : device_(device), previous_(currentAutocast(device)), nested_(state.enabled) {
  setAutocastDtype(device_, state.dtype);
  setAutocastEnabled(device_, state.enabled);
  if (nested_) at::autocast::increment_nesting();
}

// Like torch.autocast.__exit__: the cast cache lives only as long as the outermost autocast region.
AutocastStateGuard::~AutocastStateGuard() {
  if (nested_ && at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  setAutocastEnabled(device_, previous_.enabled);
  setAutocastDtype(device_, previous_.dtype);
}

}  // namespace mls
