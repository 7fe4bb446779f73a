#include "torch_commands.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace mls::cli {

const std::vector<TorchCommand>& torchCommands() {
  // Keep in step with the add_subcommand calls behind torch_main.cpp (test_cli_split checks it).
  static const std::vector<TorchCommand> commands = {
      {"demo", "Generate the synthetic demo dataset and a ready project DIR/demo.mlsproj"},
      {"train", "Train a Query2Label, single-positive (MLSPL) or hybrid model on a project"},
      {"eval", "Evaluate a run on a split, or score CSV files (mAP, CP/CR/CF1, OP/OR/OF1)"},
      {"predict", "Per-class scores for one image; optionally its attention heat map"},
      {"plan",
       "Predict a training run's peak memory (itemised) and step/epoch time before it starts; --fit lists the "
       "configurations that fit a memory budget"},
      {"export-weights",
       "Write a run's weights as a PyTorch state dict (torch.load + load_state_dict into the authors' model)"},
  };
  return commands;
}

std::string torchCliPath() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ((ec ? std::filesystem::path() : self.parent_path()) / "mlstudio-cli-torch").string();
}

void execTorchCli(char** argv) {
  const std::string path = torchCliPath();
  std::cout.flush();
  // argv[0] stays what the user typed, so usage lines and messages read "mlstudio-cli train ...".
  ::execv(path.c_str(), argv);
  const int err = errno;
  std::cerr << "error: '" << argv[1] << "' runs in " << path << ", which "
            << (err == ENOENT ? "is missing (build or install it next to mlstudio-cli)"
                              : std::string("cannot be started: ") + std::strerror(err))
            << std::endl;
}

void registerTorchCommands(CLI::App& app, char** argv) {
  for (const auto& c : torchCommands()) {
    auto* cmd = app.add_subcommand(c.name, c.description);
    // Everything after the name (--help included) is the sibling's to parse.
    cmd->set_help_flag();
    cmd->prefix_command();
    cmd->callback([argv] {
      execTorchCli(argv);
      std::exit(1);
    });
  }
}

}  // namespace mls::cli
