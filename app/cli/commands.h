// mlstudio-cli subcommands. Each register* adds a CLI11 subcommand whose callback does the work;
// errors are thrown and turned into a one-line message plus a non-zero exit code by main().
#pragma once
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace mls::cli {

void registerDataCommands(CLI::App& app);   // demo, import-coco, single-positive, info, export, relink
void registerTrainCommands(CLI::App& app);  // train, eval, predict
void registerWeightsCommands(CLI::App& app);  // export-weights

// "a | b | c": an option's choices for its help text, from the engine's name table that CLI::IsMember checks.
inline std::string alternatives(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " | ") + n;
  return out;
}

// One progress line on stderr (overwritten in place when stderr is a terminal).
void progressLine(const std::string& text, bool done = false);

}  // namespace mls::cli
