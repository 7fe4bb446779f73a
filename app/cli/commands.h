// mlstudio-cli subcommands. Each register* adds a CLI11 subcommand whose callback does the work;
// errors are thrown and turned into a one-line message plus a non-zero exit code by main().
#pragma once
#include <CLI/CLI.hpp>

namespace mls::cli {

void registerDataCommands(CLI::App& app);   // demo, import-coco, single-positive, info, export, relink
void registerTrainCommands(CLI::App& app);  // train, eval, predict
void registerWeightsCommands(CLI::App& app);  // export-weights

// One progress line on stderr (overwritten in place when stderr is a terminal).
void progressLine(const std::string& text, bool done = false);

}  // namespace mls::cli
