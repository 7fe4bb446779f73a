#include "ml/device.h"

#include <dlfcn.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <optional>
#include <sstream>
#include <stdexcept>

namespace mls {

namespace {

// Name and memory of CUDA device `ordinal` from the CUDA driver (libcuda.so.1, present wherever a GPU
// works), opened at run time: no CUDA headers or toolkit at build time, and the same binary runs on CPU-only
// machines. nullopt when the driver or the call is unavailable. The driver honours CUDA_VISIBLE_DEVICES
// like the runtime LibTorch uses, so ordinals agree.
std::optional<CudaDeviceInfo> driverDeviceInfo(int ordinal) {
  static void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
  if (!driver) return std::nullopt;
  using InitFn = int (*)(unsigned int);
  using GetFn = int (*)(int*, int);
  using NameFn = int (*)(char*, int, int);
  using MemFn = int (*)(size_t*, int);
  auto init = reinterpret_cast<InitFn>(dlsym(driver, "cuInit"));
  auto get = reinterpret_cast<GetFn>(dlsym(driver, "cuDeviceGet"));
  auto name = reinterpret_cast<NameFn>(dlsym(driver, "cuDeviceGetName"));
  auto mem = reinterpret_cast<MemFn>(dlsym(driver, "cuDeviceTotalMem_v2"));
  if (!init || !get || !name || !mem || init(0) != 0) return std::nullopt;
  int device = 0;
  char text[256] = {};
  size_t bytes = 0;
  if (get(&device, ordinal) != 0 || name(text, sizeof(text) - 1, device) != 0 || mem(&bytes, device) != 0)
    return std::nullopt;
  CudaDeviceInfo info;
  info.index = ordinal;
  info.name = text;
  info.total_memory_gib = static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0);
  return info;
}

}  // namespace

bool cudaAvailable() { return torch::cuda::is_available(); }

std::vector<CudaDeviceInfo> cudaDevices() {
  std::vector<CudaDeviceInfo> out;
  if (!cudaAvailable()) return out;
  const auto n = static_cast<int>(torch::cuda::device_count());
  for (int i = 0; i < n; ++i) {
    CudaDeviceInfo info;
    info.index = i;
    info.name = "CUDA device " + std::to_string(i);
    if (auto detailed = driverDeviceInfo(i)) info = *detailed;
    out.push_back(info);
  }
  return out;
}

c10::Device resolveDevice(const std::string& name) {
  if (name == "auto") return cudaAvailable() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name.rfind("cuda", 0) == 0) {
    if (!cudaAvailable()) throw std::invalid_argument("device '" + name + "' requested but CUDA is not available");
    return c10::Device(name);
  }
  throw std::invalid_argument("unknown device '" + name + "' (expected auto, cpu, cuda or cuda:N)");
}

std::string describeDevice(const std::string& name) {
  const auto dev = resolveDevice(name);
  std::ostringstream s;
  if (dev.is_cuda()) {
    const int index = dev.has_index() ? dev.index() : 0;
    s << "CUDA " << index;
    if (auto info = driverDeviceInfo(index)) {
      s.setf(std::ios::fixed);
      s.precision(1);
      s << ": " << info->name << " (" << info->total_memory_gib << " GiB)";
    }
  } else {
    s << "CPU (" << at::get_num_threads() << " threads, LibTorch " << TORCH_VERSION << ")";
  }
  return s.str();
}

}  // namespace mls
