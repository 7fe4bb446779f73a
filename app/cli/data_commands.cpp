// Project data subcommands: demo, import-coco, single-positive, info, export.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "data/coco/coco_import.h"
#include "data/coco/project_export.h"
#include "data/labels/single_positive_generator.h"
#include "data/store/project_store.h"
#include "demo_generator.h"

namespace mls::cli {

namespace {

std::unique_ptr<ProjectStore> openExisting(const std::string& path) {
  return std::make_unique<ProjectStore>(path, ProjectStore::Open::Existing);
}

void addDemo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Generate the synthetic demo dataset and a ready project DIR/demo.mlsproj");
  auto opt = std::make_shared<DemoOptions>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("--out", *out, "Output folder")->required();
  cmd->add_option("--train", opt->train, "Training images")->capture_default_str();
  cmd->add_option("--val", opt->val, "Validation images")->capture_default_str();
  cmd->add_option("--size", opt->size, "Image side in pixels")->capture_default_str();
  cmd->add_option("--seed", opt->seed, "Random seed")->capture_default_str();
  cmd->callback([opt, out] {
    const auto ds = createDemoProject(*out, *opt, [](int done, int total) {
      progressLine("demo: " + std::to_string(done) + " / " + std::to_string(total) + " images", done == total);
    });
    std::cout << "demo project: " << ds.project << std::endl;
  });
}

void addImport(CLI::App& app) {
  auto* cmd = app.add_subcommand("import-coco", "Import a COCO instances json and its image folder into a project");
  auto opt = std::make_shared<CocoImportOptions>();
  auto project = std::make_shared<std::string>();
  auto split = std::make_shared<std::string>("train");
  cmd->add_option("--project", *project, "Project file (.mlsproj); created if absent")->required();
  cmd->add_option("--annotations", opt->annotations, "COCO instances_*.json")->required();
  cmd->add_option("--images", opt->images, "Image folder")->required();
  cmd->add_option("--split", *split, "Split of the imported images")
      ->check(CLI::IsMember({"train", "val", "test"}))->capture_default_str();
  cmd->add_option("--val-fraction", opt->val_fraction, "Fraction of train images moved to val (seeded)");
  cmd->add_option("--seed", opt->seed, "Seed for --val-fraction")->capture_default_str();
  cmd->callback([opt, project, split] {
    opt->split = parseSplit(*split);
    opt->progress = [](const std::string& phase) { progressLine("import: " + phase); };
    const CocoImportReport r = importCocoIntoProject(*project, *opt);
    std::cout << "imported " << r.images << " images, " << r.labels << " labels (" << r.annotations
              << " annotations), " << r.new_categories << " new categories";
    if (r.moved_to_val) std::cout << ", " << r.moved_to_val << " moved to val";
    std::cout << " in " << r.seconds << " s" << std::endl;
    if (!r.missing_files.empty()) {
      std::cerr << "warning: " << r.missing_files.size() << " image files are missing, e.g.:";
      for (size_t i = 0; i < std::min<size_t>(5, r.missing_files.size()); ++i) std::cerr << ' ' << r.missing_files[i];
      std::cerr << std::endl;
    }
  });
}

void addSinglePositive(CLI::App& app) {
  auto* cmd = app.add_subcommand("single-positive", "Generate one random observed positive per labelled train image");
  auto project = std::make_shared<std::string>();
  auto seed = std::make_shared<uint64_t>(1200);
  auto overwrite = std::make_shared<bool>(false);
  cmd->add_option("--project", *project, "Project file")->required();
  cmd->add_option("--seed", *seed, "Random seed")->capture_default_str();
  cmd->add_flag("--overwrite", *overwrite, "Also replace user annotations");
  cmd->callback([project, seed, overwrite] {
    auto store = openExisting(*project);
    const auto r = generateSinglePositives(*store, *seed, *overwrite);
    std::cout << "single positives: " << r.written << " written for " << r.candidates << " labelled train images";
    if (r.kept_user) std::cout << ", " << r.kept_user << " user annotations kept";
    std::cout << std::endl;
  });
}

void addInfo(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Summarise a project");
  auto project = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  cmd->add_option("--project", *project, "Project file")->required();
  cmd->add_flag("--json", *json, "Print one JSON object");
  cmd->callback([project, json] {
    auto store = openExisting(*project);
    const auto c = store->counts();
    nlohmann::json j = {{"images", {{"train", c.train}, {"val", c.val}, {"test", c.test}}},
                        {"categories", c.categories},
                        {"labels", c.labels},
                        {"single_positives", c.single_positives},
                        {"missing_files", c.missing_files},
                        {"runs", store->runs().size()},
                        {"schema_version", store->schemaVersion()}};
    if (*json) {
      std::cout << j.dump() << std::endl;
      return;
    }
    std::cout << "project:          " << store->path() << "\n"
              << "images:           " << c.train << " train, " << c.val << " val, " << c.test << " test\n"
              << "categories:       " << c.categories << "\n"
              << "labels:           " << c.labels << "\n"
              << "single positives: " << c.single_positives << "\n"
              << "missing files:    " << c.missing_files << "\n"
              << "runs:             " << store->runs().size() << std::endl;
  });
}

void addExport(CLI::App& app) {
  auto* cmd = app.add_subcommand("export", "Export images, labels and single positives as CSV or COCO json");
  auto project = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  cmd->add_option("--project", *project, "Project file")->required();
  cmd->add_option("--format", *format, "csv or coco")->required()->check(CLI::IsMember({"csv", "coco"}));
  cmd->add_option("--out", *out, "Output file")->required();
  cmd->callback([project, format, out] {
    auto store = openExisting(*project);
    const auto n = *format == "csv" ? exportCsv(*store, *out) : exportCoco(*store, *out);
    std::cout << "wrote " << *out << " (" << n << (*format == "csv" ? " images" : " annotations") << ")" << std::endl;
  });
}

}  // namespace

void registerDataCommands(CLI::App& app) {
  addDemo(app);
  addImport(app);
  addSinglePositive(app);
  addInfo(app);
  addExport(app);
}

}  // namespace mls::cli
