// The engine's counting CPU allocator (ml/planning), under the name the tests have always used.
#pragma once
#include "ml/planning/counting_cpu_allocator.h"

namespace mls::test {
using mls::CountingCpuAllocator;
using mls::CpuAllocatorScope;
}  // namespace mls::test
