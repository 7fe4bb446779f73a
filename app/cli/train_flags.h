// The `train` flags, shared by `train` and `plan` (which plans exactly what `train` would run).
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "data/training/train_request.h"

namespace mls::cli {

struct TrainFlags {
  std::shared_ptr<TrainRequest> request;
  std::shared_ptr<std::string> method;  // --method by name, parsed into request->method by finishTrainFlags
  CLI::Option* amp_dtype = nullptr;
  CLI::Option* project = nullptr;
  // Values given explicitly, for which 0 means an error rather than the default (`--epochs 0`).
  std::vector<std::pair<CLI::Option*, std::function<double()>>> explicit_values;
};

TrainFlags addTrainFlags(CLI::App* cmd);
// After parsing: --amp-dtype implies --amp; explicit values checked; the request validated.
void finishTrainFlags(const TrainFlags& flags);

}  // namespace mls::cli
