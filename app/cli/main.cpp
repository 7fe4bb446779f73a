// mlstudio-cli: the headless front end of the engine, for scripts and GPU servers. The data commands run here;
// the ones needing LibTorch or OpenCV run in mlstudio-cli-torch (torch_commands.h), so that `import-coco`,
// `info` or `--help` never wait for LibTorch to load.
#include "commands.h"
#include "torch_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"Multi-Label Studio command-line tool: import COCO data, manage single-positive labels, train "
               "and evaluate Query2Label / single-positive models headless."};
  app.require_subcommand(1);
  mls::cli::registerDataCommands(app);
  mls::cli::registerTorchCommands(app, argv);
  return mls::cli::runCliApp(app, argc, argv);
}
