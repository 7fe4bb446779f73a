// The project file: every read and write of project data goes through this class (no SQL elsewhere).
// One instance = one SQLite connection; open one per thread (SQLite WAL lets them work side by side).
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "data/store/project_types.h"

namespace mls {

class Database;

class ProjectStore {
 public:
  // ReadOnly: inspection (info, eval, export; works in read-only folders); any write through it throws. The
  // one exception: a project from an older version is first upgraded when the file can be written.
  enum class Open { CreateIfMissing, Existing, ReadOnly };
  // Opens (creating if absent, only with CreateIfMissing) and migrates to the current schema. An existing
  // file is identified first (project_identity.h): anything that is not a project of ours, or one from a
  // newer version, is refused unchanged. Throws DatabaseError with a one-line message, e.g. "project 'x' does
  // not exist": opening for info/train/eval or in the GUI must not create a file for a mistyped path.
  explicit ProjectStore(const std::string& path, Open mode = Open::CreateIfMissing);
  ~ProjectStore();
  ProjectStore(const ProjectStore&) = delete;
  ProjectStore& operator=(const ProjectStore&) = delete;

  const std::string& path() const { return path_; }
  std::string projectDir() const;
  int schemaVersion();

  // Runs f inside one transaction: all of its changes land, or none do (an exception rolls back).
  void transaction(const std::function<void()>& f);

  // --- metadata
  std::optional<std::string> meta(const std::string& key);
  void setMeta(const std::string& key, const std::string& value);

  // --- image folders (stored relative to the project file's folder when inside it, so projects can move)
  int64_t folderId(const std::string& folder);
  std::string folderPath(int64_t folder_id);
  // Absolute path of the image file; "" for a stored name that would leave its folder (staysInsideFolder).
  std::string imagePath(const ImageRecord& image);
  // Relinking a moved images folder: list the folders, count how many of a folder's files exist under a
  // candidate directory (changes nothing), then point the folder there (one transaction; the images'
  // `missing` flags follow what exists there). Both return the number of files found; unknown ids throw
  // UnknownIdError, a missing directory std::invalid_argument.
  std::vector<ImageFolderInfo> imageFolders();
  std::vector<std::string> imageFolderPaths();  // absolute, by id; no file is looked at (cheap on open)
  int64_t countFilesUnder(int64_t folder_id, const std::string& dir);
  int64_t relinkFolder(int64_t folder_id, const std::string& new_dir);

  // --- categories
  std::vector<Category> categories();               // ordered by idx
  std::optional<Category> category(int64_t id);

  // --- images and ground truth
  ProjectCounts counts();
  int64_t countImages(const ImageFilter& filter = {});
  std::vector<ImageRecord> images(const ImageFilter& filter = {}, int64_t offset = 0, int64_t limit = -1);
  std::optional<ImageRecord> image(int64_t id);
  // The next (or previous) image by id after `after_id` that passes the filter; wraps around once.
  std::optional<int64_t> neighbourImage(int64_t after_id, const ImageFilter& filter = {}, bool forward = true);
  std::vector<int64_t> labelsOf(int64_t image_id);                        // category ids
  std::unordered_map<int64_t, std::vector<int64_t>> labelsBySplit(Split split);  // image id -> category ids

  // Adds categories (matching existing ones by id; a name clash is an error), images and labels in one
  // transaction. Duplicate image ids, unknown category ids in labels etc. throw and change nothing.
  struct ImportResult { int64_t images = 0, labels = 0, new_categories = 0; };
  ImportResult importCollection(const std::string& folder, const std::vector<Category>& categories,
                                const std::vector<NewImage>& images,
                                const std::vector<std::pair<int64_t, int64_t>>& labels);

  // --- single positives (the one observed positive per training image)
  std::optional<SinglePositive> singlePositive(int64_t image_id);
  std::unordered_map<int64_t, SinglePositive> singlePositives(std::optional<Split> split = std::nullopt);
  // Sets (or clears with nullopt) an image's single positive durably and records it in the history.
  // Returns the previous state. Throws UnknownIdError for unknown image or category ids.
  std::optional<SinglePositive> setSinglePositive(int64_t image_id, std::optional<int64_t> category_id,
                                                  AnnotationSource source);
  // Writes generated positives in one transaction; user / accepted annotations are kept unless overwrite_user.
  // Returns how many were written.
  int64_t storeGeneratedSinglePositives(const std::vector<std::pair<int64_t, int64_t>>& image_category,
                                        bool overwrite_user);
  std::vector<HistoryEntry> history(int64_t limit = 100);

  // --- training runs
  int64_t createRun(const std::string& name, const std::string& method, const std::string& config_json,
                    const std::string& checkpoint_dir);
  void finishRun(int64_t run_id, RunStatus status, const std::string& message,
                 std::optional<double> best_val_map);
  void updateRunBest(int64_t run_id, double best_val_map);
  void setRunCheckpointDir(int64_t run_id, const std::string& dir);
  void setRunStatus(int64_t run_id, RunStatus status);
  void addRunMetrics(int64_t run_id, const std::vector<RunMetric>& metrics);
  std::vector<RunRecord> runs();
  std::optional<RunRecord> run(int64_t run_id);
  std::optional<RunRecord> runByName(const std::string& name);  // newest with that name
  std::vector<RunMetric> runMetrics(int64_t run_id, const std::string& name = "");
  std::vector<RunMetric> runMetrics(int64_t run_id, MetricKey key) { return runMetrics(run_id, metricName(key)); }
  void addCheckpoint(const CheckpointRecord& checkpoint);
  std::vector<CheckpointRecord> checkpoints(int64_t run_id);

  // --- following runs another process writes (project_store_follow.cpp)
  // The run's metrics stored after row `after_seq` (0: all), oldest first, each with its row number: a poller
  // keeps the last number it saw and reads only what is new.
  std::vector<std::pair<int64_t, RunMetric>> runMetricsAfter(int64_t run_id, int64_t after_seq);

  // --- run management (Runs panel; project_store_runs.cpp)
  void renameRun(int64_t run_id, const std::string& name);    // throws UnknownIdError
  void setRunNotes(int64_t run_id, const std::string& notes);  // throws UnknownIdError
  // Removes the run with its metrics, checkpoint rows and predictions in one transaction, then its files:
  // the whole checkpoint folder when it is the run's own "run_<id>" folder, else only the checkpoint files
  // recorded for it (a folder named otherwise may hold the user's other files). Returns the paths it could
  // not remove (the rows are gone either way). Throws UnknownIdError.
  std::vector<std::string> deleteRun(int64_t run_id);
  std::vector<RunStats> runStats();  // one per run, ordered by id
  // Resuming a run (project_store_runs.cpp): drops its metrics recorded after run epoch `epoch` or step
  // `step` and its checkpoint rows after `epoch`, in one transaction, so the resumed epochs replace them.
  void discardRunProgressAfter(int64_t run_id, int epoch, int64_t step);
  void removeCheckpoint(int64_t run_id, int epoch);  // the row only; no-op when absent
  // The run's checkpoints whose file exists, by epoch; rows naming a missing file are deleted.
  std::vector<CheckpointRecord> existingCheckpoints(int64_t run_id);

  // --- stored predictions (per-class scores) for inspection and annotation suggestions
  void storePredictions(int64_t run_id, const std::vector<std::pair<int64_t, std::vector<float>>>& scores);
  std::optional<std::vector<float>> predictions(int64_t run_id, int64_t image_id);
  std::unordered_map<int64_t, std::vector<float>> allPredictions(int64_t run_id);

 private:
  void markInterruptedRuns();  // read-write opens: `running` runs whose process on this host is gone

  std::string path_;
  std::unique_ptr<Database> db_;
  // Resolved image folders by id: imagePath() runs once per image when building loaders and browser rows,
  // and the folder table is tiny and only grows through folderId().
  std::unordered_map<int64_t, std::string> folder_cache_;
};

int64_t nowMs();

}  // namespace mls
