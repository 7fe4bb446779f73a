// Precompiled header for the LibTorch targets: <torch/torch.h> is slow to parse,
// so it is parsed once per target instead of once per translation unit.
#pragma once
#include <torch/torch.h>
