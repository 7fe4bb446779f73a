#include "ml/device.h"

#include <torch/torch.h>
#include <torch/version.h>
#if defined(MLS_WITH_CUDA_RUNTIME)
#include <c10/cuda/CUDAFunctions.h>
#endif

#include <sstream>
#include <stdexcept>

namespace mls {

bool cudaAvailable() { return torch::cuda::is_available(); }

std::vector<CudaDeviceInfo> cudaDevices() {
  std::vector<CudaDeviceInfo> out;
  if (!cudaAvailable()) return out;
  const auto n = static_cast<int>(torch::cuda::device_count());
  for (int i = 0; i < n; ++i) {
    CudaDeviceInfo info;
    info.index = i;
    info.name = "CUDA device " + std::to_string(i);
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
    s << "CUDA " << (dev.has_index() ? dev.index() : 0);
  } else {
    s << "CPU (" << at::get_num_threads() << " threads, LibTorch " << TORCH_VERSION << ")";
  }
  return s.str();
}

}  // namespace mls
