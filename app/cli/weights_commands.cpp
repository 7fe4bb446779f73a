// Weights subcommand: export-weights (a run's weights as a PyTorch state dict for the authors' models).
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "data/store/project_store.h"
#include "data/training/run_weights_export.h"
#include "data/training/training_session.h"

namespace mls::cli {

namespace {

void addExportWeights(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "export-weights",
      "Write a run's weights as a PyTorch state dict (torch.load + load_state_dict into the authors' model)");
  struct Args {
    std::string project, run, out, checkpoint = "best", names = "authors";
    bool no_info = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--project", a->project, "Project file")->required();
  cmd->add_option("--run", a->run, "Run id or name")->required();
  cmd->add_option("--out", a->out, "Output file (.pth); class names and settings go to OUT.json")->required();
  cmd->add_option("--checkpoint", a->checkpoint, "best | last")->check(CLI::IsMember({"best", "last"}))->capture_default_str();
  cmd->add_option("--names", a->names, "authors (Query2Label / MLSPL code) | native (this project)")
      ->check(CLI::IsMember({"authors", "native"}))
      ->capture_default_str();
  cmd->add_flag("--no-info", a->no_info, "Do not write OUT.json");
  cmd->callback([a] {
    ProjectStore store(a->project, ProjectStore::Open::Existing);
    ExportWeightsOptions options;
    options.checkpoint = parseExportCheckpoint(a->checkpoint);
    options.naming = parseExportNaming(a->names);
    options.write_info = !a->no_info;
    const auto r = exportRunWeights(store, resolveRunId(store, a->run), a->out, options);
    for (const auto& note : r.notes) std::cerr << "note: " << note << '\n';
    nlohmann::json j = {{"out", r.path},          {"tensors", r.tensors}, {"module", r.module},
                        {"exact", r.exact},       {"checkpoint", r.checkpoint_path},
                        {"epoch", r.epoch},       {"ema", r.ema}};
    if (!r.info_path.empty()) j["info"] = r.info_path;
    std::cout << j.dump() << std::endl;
  });
}

}  // namespace

void registerWeightsCommands(CLI::App& app) { addExportWeights(app); }

}  // namespace mls::cli
