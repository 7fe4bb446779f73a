// Training subcommands (train, eval, predict): filled in by the training engine.
#include "commands.h"

namespace mls::cli {

void registerTrainCommands(CLI::App&) {}

}  // namespace mls::cli
