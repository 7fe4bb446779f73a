// What mlstudio-cli and mlstudio-cli-torch share: the error convention and the progress line.
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

int runCliApp(CLI::App& app, int argc, char** argv) {
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

}  // namespace mls::cli
