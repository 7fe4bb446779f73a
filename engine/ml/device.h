// Picks the compute device ("auto" = CUDA when available) and describes it for the status bar / logs.
#pragma once
#include <string>
#include <vector>

namespace c10 { struct Device; }

namespace mls {

struct CudaDeviceInfo {
  int index = 0;
  std::string name;
  double total_memory_gib = 0;
};

// "auto" | "cpu" | "cuda" | "cuda:N". Throws std::invalid_argument for unknown names or CUDA when absent.
c10::Device resolveDevice(const std::string& name);
bool cudaAvailable();
std::vector<CudaDeviceInfo> cudaDevices();
// e.g. "CUDA 0: NVIDIA H100 (79.1 GiB)" or "CPU (2 threads, LibTorch 1.13.1)".
std::string describeDevice(const std::string& name);

}  // namespace mls
