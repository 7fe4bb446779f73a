// The c10d (torch.distributed) headers, for the .cpp files of this folder only: they pull in Gloo's headers
// (Debian: libgloo-dev) and are empty without USE_C10D_GLOO (TorchConfig.cmake defines it; kept as a fallback).
#pragma once
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroup.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
