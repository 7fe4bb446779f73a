// Project data subcommands: import-coco, single-positive, info, export, relink. They run in mlstudio-cli itself,
// which links neither LibTorch nor OpenCV (see torch_commands.h).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "data/coco/coco_import.h"
#include "data/coco/project_export.h"
#include "data/labels/single_positive_generator.h"
#include "data/store/project_store.h"

namespace fs = std::filesystem;

namespace mls::cli {

namespace {

std::unique_ptr<ProjectStore> openExisting(const std::string& path) {
  return std::make_unique<ProjectStore>(path, ProjectStore::Open::Existing);
}

// Inspection never writes, so it also works on a read-only file or folder (a copy on a shared server).
std::unique_ptr<ProjectStore> openForReading(const std::string& path) {
  return std::make_unique<ProjectStore>(path, ProjectStore::Open::ReadOnly);
}

// "a, b, c" for the first few names of a long list, with how many more there are.
std::string firstFew(const std::vector<std::string>& names, size_t few = 5) {
  std::string out;
  for (size_t i = 0; i < std::min(few, names.size()); ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > few) out += ", ... (" + std::to_string(names.size() - few) + " more)";
  return out;
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
      ->check(CLI::IsMember(splitNames()))->capture_default_str();
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
    if (!r.refused_files.empty())
      std::cerr << "warning: " << r.refused_files.size() << " images not imported because their file_name leaves "
                << "the images folder: " << firstFew(r.refused_files) << std::endl;
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
    auto store = openForReading(*project);
    const auto c = store->counts();
    const auto folders = store->imageFolders();
    nlohmann::json folder_list = nlohmann::json::array();
    // Missing now, counted on disk: the store's count is from import time and misses a folder moved since.
    int64_t missing = 0;
    for (const auto& f : folders) {
      folder_list.push_back({{"id", f.id}, {"path", f.path}, {"images", f.images}, {"present", f.present}});
      missing += f.images - f.present;
    }
    nlohmann::json j = {{"images", {{"train", c.train}, {"val", c.val}, {"test", c.test}}},
                        {"categories", c.categories},
                        {"labels", c.labels},
                        {"single_positives", c.single_positives},
                        {"missing_files", missing},
                        {"runs", store->runs().size()},
                        {"schema_version", store->schemaVersion()},
                        {"image_folders", folder_list}};
    if (*json) {
      std::cout << j.dump() << std::endl;
      return;
    }
    std::cout << "project:          " << store->path() << "\n"
              << "images:           " << c.train << " train, " << c.val << " val, " << c.test << " test\n"
              << "categories:       " << c.categories << "\n"
              << "labels:           " << c.labels << "\n"
              << "single positives: " << c.single_positives << "\n"
              << "missing files:    " << missing << "\n"
              << "runs:             " << store->runs().size() << "\n";
    for (const auto& f : folders)
      std::cout << "image folder " << f.id << ":   " << f.path << " (" << f.present << " of " << f.images
                << " files present)\n";
    std::cout << std::flush;
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
    auto store = openForReading(*project);
    const auto n = *format == "csv" ? exportCsv(*store, *out) : exportCoco(*store, *out);
    std::cout << "wrote " << *out << " (" << n << (*format == "csv" ? " images" : " annotations") << ")" << std::endl;
  });
}

void addRelink(CLI::App& app) {
  auto* cmd = app.add_subcommand("relink", "Point a moved image folder of a project at its new location");
  struct Args {
    std::string project, from, to;
    int64_t folder = 0;
    bool dry_run = false;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--project", a->project, "Project file")->required();
  auto* from = cmd->add_option("--from", a->from, "The folder's old path (as `info` lists it)");
  auto* folder = cmd->add_option("--folder", a->folder, "The folder's id (as `info` lists it)");
  cmd->add_option("--to", a->to, "The folder's new location")->required();
  cmd->add_flag("--dry-run", a->dry_run, "Only count the files found under --to");
  from->excludes(folder);
  cmd->callback([a] {
    if (a->from.empty() && a->folder == 0) throw std::invalid_argument("give --from OLD or --folder ID");
    auto store = a->dry_run ? openForReading(a->project) : openExisting(a->project);
    const auto folders = store->imageFolders();
    const ImageFolderInfo* target = nullptr;
    fs::path old_path = a->from.empty() ? fs::path() : fs::absolute(a->from).lexically_normal();
    if (old_path.has_relative_path() && old_path.filename().empty()) old_path = old_path.parent_path();  // "old/"
    for (const auto& f : folders)
      if (a->from.empty() ? f.id == a->folder : fs::path(f.path) == old_path) target = &f;
    if (!target) {
      std::string known;
      for (const auto& f : folders) known += (known.empty() ? "" : ", ") + std::to_string(f.id) + " = " + f.path;
      throw std::invalid_argument("the project has no image folder " +
                                  (a->from.empty() ? std::to_string(a->folder) : "'" + a->from + "'") +
                                  " (its folders: " + (known.empty() ? "none" : known) + ")");
    }
    const int64_t found = a->dry_run ? store->countFilesUnder(target->id, a->to) : store->relinkFolder(target->id, a->to);
    std::cout << (a->dry_run ? "would relink" : "relinked") << " image folder " << target->id << " '" << target->path
              << "' -> '" << a->to << "': " << found << " of " << target->images << " files found" << std::endl;
    if (found < target->images)
      std::cerr << "warning: " << target->images - found << " files are not under '" << a->to << "'" << std::endl;
  });
}

}  // namespace

void registerDataCommands(CLI::App& app) {
  addImport(app);
  addSinglePositive(app);
  addInfo(app);
  addExport(app);
  addRelink(app);
}

}  // namespace mls::cli
