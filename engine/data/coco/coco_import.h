// Imports a COCO annotation file + image folder into a project, in one transaction.
#pragma once
#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <functional>
#include <string>
#include <vector>

#include "data/store/project_types.h"

namespace mls {

class ProjectStore;

struct CocoImportOptions {
  std::string annotations;        // instances_*.json
  std::string images;             // folder holding the files named by images[].file_name
  Split split = Split::Train;
  double val_fraction = 0.0;      // with split=train: this seeded fraction becomes val (MLSPL: 0.2)
  uint64_t seed = 1200;           // MLSPL's default seed
  bool check_files = true;
  std::function<void(const std::string& phase)> progress;  // optional, called between phases
  const std::atomic<bool>* cancel = nullptr;                // optional: set to abandon the import
};

// Thrown when CocoImportOptions::cancel was set; like every import error, the project is left unchanged.
class ImportCancelled : public std::runtime_error {
 public:
  ImportCancelled() : std::runtime_error("import cancelled") {}
};

struct CocoImportReport {
  int64_t images = 0;
  int64_t labels = 0;
  int64_t annotations = 0;
  int64_t new_categories = 0;
  int64_t moved_to_val = 0;
  std::vector<std::string> missing_files;  // file names not found in the image folder (import goes on)
  // Images not imported (nor their labels) because their file_name leaves the images folder
  // ("../x.jpg", "/etc/passwd"): reading them would decode files outside the folder the user chose.
  std::vector<std::string> refused_files;
  double seconds = 0;
};

// Throws CocoFormatError (bad json), std::invalid_argument (bad options, missing folder) or DatabaseError
// (conflicts with the project); the project is unchanged in every error case.
CocoImportReport importCoco(ProjectStore& store, const CocoImportOptions& options);

// The same into the project file at `project_path`, created when absent (the CLI's import-coco and the GUI's
// New-from-COCO). On failure an existing project is unchanged and one this call created is removed again
// (with its -wal/-shm files); a missing image folder is reported before any file is created.
CocoImportReport importCocoIntoProject(const std::string& project_path, const CocoImportOptions& options);

// Seeded choice of round(fraction * n) of `count` items (MLSPL-style split); returns a mask.
std::vector<bool> chooseFraction(size_t count, double fraction, uint64_t seed);

}  // namespace mls
