// mlstudio-cli subcommands. Each register* adds a CLI11 subcommand whose callback does the work;
// errors are thrown and turned into a one-line message plus a non-zero exit code by runCliApp().
//
// Two binaries share these: mlstudio-cli (main.cpp) runs the data commands itself and links neither LibTorch
// nor OpenCV; every command that needs them is registered in mlstudio-cli-torch (torch_main.cpp) and listed by
// name and description in torch_commands.cpp, from where mlstudio-cli hands it over (exec, same argv).
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace mls::cli {

// mlstudio-cli
void registerDataCommands(CLI::App& app);     // import-coco, single-positive, info, export, relink

// mlstudio-cli-torch
void registerDemoCommand(CLI::App& app);      // demo (OpenCV)
// train, eval, predict; `train` starts its data-parallel workers with this command line (minus the
// launcher flags).
void registerTrainCommands(CLI::App& app, int argc, char** argv);
void registerPlanCommand(CLI::App& app);      // plan (resource planner)
void registerWeightsCommands(CLI::App& app);  // export-weights

// Parses argv and runs the chosen subcommand; returns the exit code (CLI11's for bad flags, 1 for errors),
// printing errors as one "error: ..." line on stderr.
int runCliApp(CLI::App& app, int argc, char** argv);

// "a | b | c": an option's choices for its help text, from the engine's name table that CLI::IsMember checks.
inline std::string alternatives(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " | ") + n;
  return out;
}

// One progress line on stderr (overwritten in place when stderr is a terminal).
void progressLine(const std::string& text, bool done = false);

}  // namespace mls::cli
