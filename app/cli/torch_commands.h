// The commands mlstudio-cli does not run itself: they need LibTorch (train, eval, predict, export-weights) or
// OpenCV (demo), whose shared libraries take longer to load (~0.6 s) than a whole data command runs. They live
// in the sibling binary mlstudio-cli-torch; mlstudio-cli lists them in its --help and execs the sibling with the
// same argv, so their options, help, output, exit codes and signals are the sibling's own.
#pragma once
#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace mls::cli {

struct TorchCommand {
  const char* name;
  const char* description;  // as registered in mlstudio-cli-torch (a test compares both --help listings)
};

const std::vector<TorchCommand>& torchCommands();

// Adds a placeholder subcommand per torch command; choosing one execs mlstudio-cli-torch with `argv`.
void registerTorchCommands(CLI::App& app, char** argv);

// mlstudio-cli-torch next to this executable (/proc/self/exe), whether or not it exists.
std::string torchCliPath();

// Replaces this process with mlstudio-cli-torch run with `argv`. Returns only on failure, after printing one
// "error: ..." line; the caller exits with 1.
void execTorchCli(char** argv);

}  // namespace mls::cli
