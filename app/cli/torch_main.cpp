// mlstudio-cli-torch: the mlstudio-cli commands that need LibTorch or OpenCV. mlstudio-cli execs it with its own
// argv (torch_commands.h); run directly it works the same. A new command: its own file in app/cli (built into
// this binary by app/CMakeLists.txt), a register call below, and its name and description in torch_commands.cpp.
#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Multi-Label Studio command-line tool, the commands that need LibTorch or OpenCV (mlstudio-cli "
               "runs them here)."};
  app.require_subcommand(1);
  mls::cli::registerDemoCommand(app);
  mls::cli::registerTrainCommands(app, argc, argv);
  mls::cli::registerPlanCommand(app);
  mls::cli::registerWeightsCommands(app);
  return mls::cli::runCliApp(app, argc, argv);
}
