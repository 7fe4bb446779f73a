// A TrainRequest as `mlstudio-cli train` flags: what the Train tab runs as a child process (data-parallel
// runs through the launcher), and what a user can paste into a shell to run the same training headless.
#pragma once
#include <string>
#include <vector>

#include "data/training/train_request.h"

namespace mls {

// The flags after `mlstudio-cli train` that make the CLI build exactly this request: --project and every
// chosen setting; a setting left at its "default" sentinel (0, or -1 for ema / early-stop / workers) is left
// out so the CLI picks the same default. Numbers are written in the shortest form that reads back exactly.
// frozen_bn has no flag: it is the method's choice for a new run and the stored run's on --resume.
std::vector<std::string> trainArguments(const TrainRequest& request);

// The arguments joined for a POSIX shell, each quoted when it needs it.
std::string shellCommand(const std::vector<std::string>& args);

}  // namespace mls
