// One training run on a project, end to end: samples from the store, the model, the loaders, the trainer,
// the run's record in the project, and stored predictions for inspection and annotation suggestions.
// Used by `mlstudio-cli train` and by the GUI's worker thread (call run() there); the caller keeps a copy of
// the CancelToken it passes in and requests it from anywhere (a signal handler included) to stop after the
// current batch.
//
// Data-parallel (a ReplicaGroup, torch DistributedDataParallel's semantics): every process runs a session with
// the same request. `batch` is the global batch, split evenly over the processes as Query2Label's main_mlc.py
// does; each rank trains and validates on its shard. Rank 0 is the only writer (run record, metrics,
// checkpoints, predictions); the other ranks open the project read-only and report only to their observer.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "data/training/train_request.h"
#include "ml/cancel_token.h"
#include "ml/training/training_types.h"

namespace mls {

class ProjectStore;
class ReplicaGroup;
class RunRecorder;
class SkippedImages;
class Trainer;

struct TrainOutcome {
  int64_t run_id = 0;
  int epochs = 0;             // epochs completed over the whole run (also across resumes)
  double best_val_map = 0;    // percent; NaN without a val split
  double final_val_map = 0;
  double seconds = 0;
  bool cancelled = false;
  int64_t skipped_images = 0;
};

class TrainingSession {
 public:
  // `replicas`: this process's data-parallel peers (null: a single process).
  TrainingSession(TrainRequest request, TrainObserver* observer = nullptr, CancelToken cancel = {},
                  std::shared_ptr<ReplicaGroup> replicas = nullptr);
  ~TrainingSession();
  // Blocking. On failure the run is marked failed in the project (with the message) and the error rethrown.
  // A token requested before run() ends the run cancelled before its first batch.
  TrainOutcome run();
  // Known once run() has created or resumed it; 0 before (and on ranks > 0 of a new data-parallel run).
  int64_t runId() const { return run_id_.load(); }

 private:
  struct Resume {
    int64_t run_id = 0;  // 0 = a new run
    std::string checkpoint;
  };
  // The steps of run(). A resumed run takes its stored request (only the epoch budget and the speed
  // switches come from this one).
  Resume adoptResumedRun(ProjectStore& store);
  bool writer() const;  // rank 0, or a single process
  int rank() const;
  int worldSize() const;
  void openRunRecord(ProjectStore& store, const Resume& resume);  // creates or reopens; sets run_id_
  void finish(ProjectStore& store, RunRecorder& recorder, const TrainResult& result, const SkippedImages& skipped,
              TrainOutcome& outcome, const std::string& note);

  TrainRequest request_;
  TrainObserver* observer_;
  std::atomic<int64_t> run_id_{0};
  CancelToken cancel_;
  std::shared_ptr<ReplicaGroup> replicas_;
};

// Run id from "12" or a run name (newest run with that name). Throws UnknownIdError.
int64_t resolveRunId(class ProjectStore& store, const std::string& run);

}  // namespace mls
