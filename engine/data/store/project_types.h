// Plain records the project store reads and writes. No SQLite here, so any layer may include it.
#pragma once
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mls {

// Each enum below has one name table (project_types.cpp): its names are what project files store, what the CLI
// accepts and what the GUI lists. parse* throws std::invalid_argument("unknown split 'x' (expected train, val
// or test)"); *Names() lists every name in the table's order.
enum class Split { Train, Val, Test };
const char* splitName(Split split);
Split parseSplit(const std::string& name);
std::vector<std::string> splitNames();

enum class AnnotationSource { User, Generated, AcceptedSuggestion };
const char* sourceName(AnnotationSource source);
AnnotationSource parseSource(const std::string& name);
std::vector<std::string> sourceNames();

// A training run's state (runs.status).
enum class RunStatus { Running, Finished, Failed, Cancelled };
const char* runStatusName(RunStatus status);
RunStatus parseRunStatus(const std::string& name);
std::vector<std::string> runStatusNames();

// What a run records (run_metrics.name). Per step: loss, lr. Per epoch: train_loss, val_map (scikit-learn's,
// of the better of raw and EMA weights), val_map_raw, val_map_ema, val_map_mlspl and val_map_q2l_voc
// (val_map's weights in the two papers' conventions), cf1, of1, epoch_seconds.
enum class MetricKey {
  Loss, Lr, TrainLoss, ValMap, ValMapRaw, ValMapEma, ValMapMlspl, ValMapQ2lVoc, Cf1, Of1, EpochSeconds
};
const char* metricName(MetricKey key);
MetricKey parseMetricKey(const std::string& name);
std::vector<std::string> metricNames();

// A user-triggerable reference to something that does not exist (unknown image/category/run id).
class UnknownIdError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Category {
  int64_t id = 0;             // COCO category id
  std::string name;
  std::string supercategory;
  int idx = 0;                // dense 0..K-1, the model's output index
};

struct ImageRecord {
  int64_t id = 0;             // COCO image id
  std::string file_name;
  int64_t folder_id = 0;
  int width = 0, height = 0;
  Split split = Split::Train;
  bool missing = false;       // file was absent at import time
};

struct SinglePositive {
  int64_t image_id = 0;
  int64_t category_id = 0;
  AnnotationSource source = AnnotationSource::User;
  int64_t updated_at = 0;     // unix ms
};

struct HistoryEntry {
  int64_t seq = 0;
  int64_t image_id = 0;
  std::optional<int64_t> old_category_id, new_category_id;
  std::string old_source, new_source;
  int64_t at = 0;
};

// Which images a browser/filter wants. Unset fields do not filter.
struct ImageFilter {
  std::optional<Split> split;
  std::optional<bool> annotated;         // has a single positive
  std::optional<int64_t> category_id;    // with category_in_ground_truth: in labels, else the single positive
  bool category_in_ground_truth = true;
  std::string name_contains;             // substring of file_name (case-insensitive for ASCII)
};

struct ProjectCounts {
  int64_t train = 0, val = 0, test = 0;
  int64_t categories = 0;
  int64_t labels = 0;                    // distinct image-category pairs
  int64_t single_positives = 0;
  int64_t missing_files = 0;
};

struct NewImage {
  int64_t id = 0;
  std::string file_name;
  int width = 0, height = 0;
  Split split = Split::Train;
  bool missing = false;
};

// An image folder of the project: `path` resolved to an absolute path; `present` = how many of its
// images' files exist there now.
struct ImageFolderInfo {
  int64_t id = 0;
  std::string path;
  int64_t images = 0, present = 0;
};

// True when `file_name` names a file inside its images folder: relative, non-empty, no ".." component.
// COCO's file_name is joined to the folder; "../x.jpg" or "/etc/passwd" would read files outside it.
bool staysInsideFolder(const std::string& file_name);

struct RunRecord {
  int64_t id = 0;
  std::string name, method, config;
  RunStatus status = RunStatus::Running;
  std::string message, checkpoint_dir;
  int64_t started_at = 0;
  std::optional<int64_t> finished_at;
  std::optional<double> best_val_map;
  std::string notes;
};

// What a run's recorded metrics add up to, for comparing runs (ProjectStore::runStats).
struct RunStats {
  int64_t run_id = 0;
  std::optional<double> final_val_map;  // val_map of the last recorded epoch
  int epochs = 0;                        // epochs with a recorded epoch_seconds
  double epoch_seconds = 0;              // their sum (training + validation wall time)
  int64_t steps = 0;                     // optimizer batches recorded within those epochs
};

struct RunMetric {
  int epoch = 0;
  int64_t step = 0;
  std::string name;  // a metricName(); a project from a newer version may hold others
  double value = 0;
};

struct CheckpointRecord {
  int64_t run_id = 0;
  int epoch = 0;
  std::string path;
  std::optional<double> val_map;
};

}  // namespace mls
