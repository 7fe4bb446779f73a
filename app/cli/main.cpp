// mlstudio-cli: the headless front end of the engine, for scripts and GPU servers.
#include <iostream>
#include <unistd.h>

#include "commands.h"

namespace mls::cli {

void progressLine(const std::string& text, bool done) {
  static const bool tty = isatty(STDERR_FILENO);
  if (tty) {
    std::cerr << "\r\033[K" << text << (done ? "\n" : "") << std::flush;
  } else {
    std::cerr << text << '\n';
  }
}

}  // namespace mls::cli

int main(int argc, char** argv) {
  CLI::App app{"Multi-Label Studio command-line tool: import COCO data, manage single-positive labels, train "
               "and evaluate Query2Label / single-positive models headless."};
  app.require_subcommand(1);
  mls::cli::registerDataCommands(app);
  mls::cli::registerTrainCommands(app);
  mls::cli::registerWeightsCommands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    // Bad flags get the same one-line form as every other error.
    std::cerr << "error: " << e.what() << " (see --help)" << std::endl;
    return e.get_exit_code();
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}
