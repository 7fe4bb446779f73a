#include "data/training/training_session.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <optional>

#include "data/pipeline/feature_batch_source.h"
#include "data/pipeline/image_batch_source.h"
#include "data/store/project_store.h"
#include "data/training/project_samples.h"
#include "data/training/run_recorder.h"
#include "data/training/training_recipe.h"
#include "data/training/skipped_images.h"
#include "ml/losses.h"
#include "ml/models/multilabel_model.h"
#include "ml/training/replica_group.h"
#include "ml/training/trainer.h"

namespace fs = std::filesystem;

namespace mls {

int64_t resolveRunId(ProjectStore& store, const std::string& run) {
  if (!run.empty() && run.find_first_not_of("0123456789") == std::string::npos) {
    const int64_t id = std::stoll(run);
    if (store.run(id)) return id;
  }
  if (auto r = store.runByName(run)) return r->id;
  throw UnknownIdError("unknown run '" + run + "' (give a run id or name; `mlstudio-cli info` lists them)");
}

namespace {

std::string runDirectory(const std::string& project, int64_t run_id) {
  const auto dir = fs::path(project).parent_path() / (fs::path(project).stem().string() + ".runs") /
                   ("run_" + std::to_string(run_id));
  fs::create_directories(dir);
  return fs::absolute(dir).lexically_normal().string();
}

// One process's share of a data-parallel run (rank 0 of 1 for a single process).
struct Sharding {
  int rank = 0;
  int world = 1;
  // DistributedSampler's split (pads to a multiple of the world size); a single process keeps its source as is.
  void apply(BatchSource& source) const {
    if (world > 1) source.setShard(Shard{rank, world});
  }
  // Each rank's share of a global batch. Query2Label's main_mlc.py divides args.batch_size by the world size
  // and asserts that it divides; so do we, with a message naming the flag.
  int localBatch(int global, const std::string& what) const {
    if (global % world != 0)
      throw std::invalid_argument(what + " " + std::to_string(global) + " is the global batch of " + std::to_string(world) +
                                  " processes and must be a multiple of " + std::to_string(world));
    return global / world;
  }
};

void say(TrainObserver* log, MessageLevel level, const std::string& text) {
  if (log) log->onMessage(level, text);
}

struct Loaders {
  std::unique_ptr<ImageBatchSource> train;
  std::unique_ptr<ImageBatchSource> val;  // null without a val split
};

Loaders buildLoaders(const TrainRequest& r, const TrainingRecipe& recipe, const ProjectSamples& train,
                     const ProjectSamples& val, TrainObserver* log, const Sharding& shard) {
  const int batch = shard.localBatch(r.batch, "--batch");
  Loaders loaders;
  loaders.train = std::make_unique<ImageBatchSource>(train.samples, r.image_size, batch, true,
                                                     recipe.train_augmentation, r.seed, r.workers);
  // Drop the incomplete last batch unless it is the only one (per rank: the shard's length).
  const auto n = static_cast<int64_t>(train.samples.size());
  loaders.train->setDropLast((n + shard.world - 1) / shard.world > batch);
  shard.apply(*loaders.train);
  if (!val.samples.empty()) {
    loaders.val = std::make_unique<ImageBatchSource>(val.samples, r.image_size, std::max(batch, 32), false,
                                                     AugmentationOptions::none(), r.seed, r.workers);
    shard.apply(*loaders.val);  // the trainer gathers the scores in dataset order: the same mAP
  } else {
    say(log, MessageLevel::Warning, "the project has no val split: no mAP will be reported");
  }
  return loaders;
}

// MLSPL LinearInit: features of the frozen backbone, cached once, then a linear head trained on them.
// Data-parallel: every process caches the features of the whole train (and val) split, which is simple and
// gives the same cache everywhere but no speed-up for the caching; the cached sources are then sharded.
void runLinearPhase(MultiLabelModel& model, Trainer& trainer, TrainObserver* log, const TrainRequest& r,
                    const LinearInitPhase& phase, const ProjectSamples& train, const ProjectSamples& val,
                    const CancelToken& cancel, const Sharding& shard, ReplicaGroup* replicas) {
  const int batch = shard.localBatch(phase.batch, "the LinearInit batch");
  say(log, MessageLevel::Info,
      std::string("LinearInit: caching frozen backbone features") +
          (shard.world > 1 ? " (every process caches the whole split: no faster than one process)" : ""));
  const auto device = model.parameters().front().device();
  auto extract = [&](const torch::Tensor& x) { return model.pooledFeatures(x.to(device)).cpu(); };
  const int cache_batch = std::max(r.batch, 32);
  ImageBatchSource plain(train.samples, r.image_size, cache_batch, false, AugmentationOptions::none(), r.seed,
                         r.workers);
  // Caching a large train split takes minutes: it stops with the run (fit() then ends at once, cancelled).
  const auto go_on = [&](int64_t, int64_t) { return !cancel.requested(); };
  model.eval();
  auto train_cache = computeFeatureCache(plain, extract, go_on);
  std::unique_ptr<FeatureBatchSource> val_features;
  if (!val.samples.empty() && !train_cache.cancelled) {
    ImageBatchSource plain_val(val.samples, r.image_size, cache_batch, false, AugmentationOptions::none(), r.seed,
                               r.workers);
    val_features = std::make_unique<FeatureBatchSource>(computeFeatureCache(plain_val, extract, go_on), 256, false);
    shard.apply(*val_features);
  }
  model.train();
  // All ranks take the same branch (a Ctrl-C reaches them at different moments): skip the phase together.
  bool stop = cancel.requested();
  if (replicas) stop = replicas->anyRank(stop, "LinearInit cancellation");
  if (stop) return;
  // The trainer numbers the end-to-end epochs and steps after the linear phase's.
  FeatureBatchSource train_features(train_cache, batch, true, r.seed);
  shard.apply(train_features);
  trainer.fitLinear(train_features, val_features.get(), phase.epochs, phase.lr);
}

TrainResult fitEndToEnd(Trainer& trainer, Loaders& loaders) {
  try {
    return trainer.fit(*loaders.train, loaders.val.get());
  } catch (const TrainingError&) {
    // Nothing to train on because every image failed to decode: say which, not only "no batch".
    if (loaders.train->skippedSamples() >= loaders.train->size()) {
      SkippedImages none_read;
      none_read.addDisjoint(*loaders.train);
      throw TrainingError("no training image could be read: " + none_read.summary());
    }
    throw;
  }
}

// Scores of the best weights for every train and val image: the Inspect tab and annotation suggestions.
void storePredictions(ProjectStore& store, int64_t run_id, Trainer& trainer, const TrainRequest& r,
                      const ProjectSamples& val, SkippedImages& skipped) {
  auto all = evaluationSamples(store, Split::Train);
  for (size_t i = 0; i < val.samples.size(); ++i) {  // the val samples loaded before training
    all.samples.push_back(val.samples[i]);
    all.samples.back().index = static_cast<int64_t>(all.samples.size() - 1);
    all.image_ids.push_back(val.image_ids[i]);
  }
  ImageBatchSource everything(all.samples, r.image_size, 64, false, AugmentationOptions::none(), 0, r.workers);
  const auto [scores, indices] = trainer.predict(everything);
  std::vector<std::pair<int64_t, std::vector<float>>> rows;
  const auto s = scores.contiguous();
  const auto idx = indices.to(torch::kLong).contiguous();
  const int64_t k = s.size(1);
  const float* p = s.data_ptr<float>();
  const int64_t* row_index = idx.data_ptr<int64_t>();
  for (int64_t i = 0; i < s.size(0); ++i)
    rows.emplace_back(all.image_ids[static_cast<size_t>(row_index[i])], std::vector<float>(p + i * k, p + (i + 1) * k));
  store.storePredictions(run_id, rows);
  skipped.addCovering(everything);
}

}  // namespace

TrainingSession::TrainingSession(TrainRequest request, TrainObserver* observer, CancelToken cancel,
                                 std::shared_ptr<ReplicaGroup> replicas)
    : request_(std::move(request)), observer_(observer), cancel_(std::move(cancel)), replicas_(std::move(replicas)) {}

bool TrainingSession::writer() const { return rank() == 0; }
int TrainingSession::rank() const { return replicas_ ? replicas_->rank() : 0; }
int TrainingSession::worldSize() const { return replicas_ ? replicas_->worldSize() : 1; }

TrainingSession::~TrainingSession() = default;

TrainingSession::Resume TrainingSession::adoptResumedRun(ProjectStore& store) {
  if (request_.resume.empty()) return {};
  // The stored request wins (same model, same data), only the epoch budget may grow.
  const int64_t run_id = resolveRunId(store, request_.resume);
  auto stored = TrainRequest::fromJson(store.run(run_id)->config);
  stored.project = request_.project;
  if (request_.epochs > stored.epochs) stored.epochs = request_.epochs;
  stored.device = request_.device;
  stored.workers = request_.workers;
  // Memory/speed switches compute the same model: a resumed run may turn them on (e.g. after running out
  // of memory) and profile as asked now.
  stored.checkpoint_backbone = stored.checkpoint_backbone || request_.checkpoint_backbone;
  stored.channels_last = stored.channels_last || request_.channels_last;
  // So may mixed precision and another split of the same effective batch (batch x accumulation): the
  // resource planner's "configuration that fits" after running out of memory.
  if (request_.amp) stored.amp = true, stored.amp_dtype = request_.amp_dtype;
  if (request_.batch > 0 && request_.batch * request_.grad_accum == stored.batch * stored.grad_accum)
    stored.batch = request_.batch, stored.grad_accum = request_.grad_accum;
  stored.profile = request_.profile;
  request_ = stored;
  // Only a checkpoint whose file is still there (rows of pruned or deleted files are dropped here, by the
  // writer; the other ranks of a data-parallel run only read).
  std::vector<CheckpointRecord> cps;
  if (writer()) {
    cps = store.existingCheckpoints(run_id);
  } else {
    for (auto& c : store.checkpoints(run_id)) {
      fs::path file(c.path);
      if (file.is_relative()) file = fs::path(store.projectDir()) / file;
      std::error_code ec;
      if (!c.path.empty() && fs::is_regular_file(file, ec)) cps.push_back(std::move(c));
    }
  }
  if (cps.empty()) throw std::invalid_argument("run " + std::to_string(run_id) + " has no checkpoint to resume from");
  return {run_id, cps.back().path};
}

void TrainingSession::openRunRecord(ProjectStore& store, const Resume& resume) {
  if (resume.run_id != 0) {
    store.setRunStatus(resume.run_id, RunStatus::Running);
    run_id_ = resume.run_id;
    return;
  }
  const std::string name = request_.run_name.empty()
                               ? methodName(request_.method) + ("-" + request_.loss) + "-" + request_.labels + "-" + request_.backbone
                               : request_.run_name;
  const int64_t run_id = store.createRun(name, methodName(request_.method), request_.toJson(), "");
  store.setRunCheckpointDir(run_id, runDirectory(request_.project, run_id));
  run_id_ = run_id;
}

TrainOutcome TrainingSession::run() {
  const auto start = std::chrono::steady_clock::now();
  request_.validate();  // also what a resume only takes from this request (--epochs)
  // Ranks > 0 of a data-parallel run only read: rank 0 records the run for all.
  ProjectStore store(request_.project, writer() ? ProjectStore::Open::Existing : ProjectStore::Open::ReadOnly);

  const Resume resume = adoptResumedRun(store);
  const int trained_by = request_.world_size;  // a resumed run's stored world size
  request_.world_size = worldSize();
  request_.resolveDefaults();
  if (resume.run_id == 0) request_.checkLossChoice();  // a resumed run keeps the choice it was started with
  const Sharding shard{rank(), worldSize()};
  shard.localBatch(request_.batch, "--batch");  // before a run is created

  const auto train = trainingSamples(store, parseLabelMode(request_.labels));
  requireSomeTrainingFile(train, request_.project);  // before a run is created
  const auto val = evaluationSamples(store, Split::Val);
  auto recipe = trainingRecipe(request_, readProjectFacts(store, request_, train.num_classes));
  if (resume.run_id == 0 && recipe.linear_init.epochs > 0) shard.localBatch(recipe.linear_init.batch, "the LinearInit batch");

  std::optional<RunRecorder> recorder;
  if (writer()) {
    openRunRecord(store, resume);
    recipe.trainer.checkpoint_dir = store.run(run_id_)->checkpoint_dir;
    recorder.emplace(store, run_id_, observer_);
  } else {
    run_id_ = resume.run_id;
    recipe.trainer.checkpoint_dir.clear();  // only rank 0 writes checkpoint files
  }
  const int64_t run_id = run_id_;
  TrainObserver* log = recorder ? &*recorder : observer_;
  std::string data_parallel;
  if (shard.world > 1) {
    data_parallel = "data-parallel: " + std::to_string(shard.world) + " processes (Gloo), batch " +
                    std::to_string(request_.batch / shard.world) + " per process (global batch " +
                    std::to_string(request_.batch) + ")";
    if (writer()) say(log, MessageLevel::Info, data_parallel);
  }
  if (resume.run_id != 0 && trained_by != shard.world && writer())
    say(log, MessageLevel::Info,
        "resuming a run trained by " + std::to_string(trained_by) + " process" + (trained_by == 1 ? "" : "es") + " with " +
            std::to_string(shard.world) + " (same global batch " + std::to_string(request_.batch) + ")");

  TrainOutcome outcome;
  outcome.run_id = run_id;
  try {
    torch::manual_seed(static_cast<uint64_t>(request_.seed));
    auto model = buildModel(recipe.model);
    if (!model->weightsSummary().empty() && writer()) say(log, MessageLevel::Info, model->weightsSummary());

    Trainer trainer(model, recipe.trainer, log, cancel_);
    if (replicas_) trainer.setReplicas(replicas_);
    if (lossNeedsEstimator(recipe.trainer.loss.kind)) trainer.setObservedLabels(targetMatrix(train));

    auto loaders = buildLoaders(request_, recipe, train, val, writer() ? log : nullptr, shard);
    if (resume.run_id != 0)
      trainer.resumeFrom(resume.checkpoint);
    else if (recipe.linear_init.epochs > 0)
      runLinearPhase(*model, trainer, writer() ? log : nullptr, request_, recipe.linear_init, train, val, cancel_, shard,
                     replicas_.get());

    const TrainResult result = fitEndToEnd(trainer, loaders);
    outcome.epochs = result.epochs_run;
    outcome.best_val_map = result.best_val_map;
    outcome.final_val_map = result.final_val_map;
    outcome.cancelled = result.cancelled;
    if (writer()) {
      SkippedImages skipped;  // data-parallel: those of rank 0's shards
      skipped.addDisjoint(*loaders.train);
      if (loaders.val) skipped.addDisjoint(*loaders.val);
      recorder->flush();

      if (!result.cancelled) {
        // Rank 0 alone scores every image (the others are done once training is).
        say(log, MessageLevel::Info, "storing predictions");
        storePredictions(store, run_id, trainer, request_, val, skipped);
      }
      finish(store, *recorder, result, skipped, outcome, data_parallel);
    }
  } catch (const std::exception& e) {
    if (writer()) {
      try {
        recorder->flush();
        store.finishRun(run_id, RunStatus::Failed, e.what(), std::nullopt);
      } catch (...) {
      }
    }
    throw;
  }
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

void TrainingSession::finish(ProjectStore& store, RunRecorder& recorder, const TrainResult& result,
                             const SkippedImages& skipped, TrainOutcome& outcome, const std::string& note) {
  // Skipped images go on stderr / the GUI log and into the run's record, whichever loader met them.
  outcome.skipped_images = skipped.count();
  if (skipped.count() > 0) recorder.onMessage(MessageLevel::Warning, skipped.summary());
  const double best = std::isfinite(result.best_val_map) ? result.best_val_map : -1;
  std::string message = skipped.summary();
  if (!note.empty()) message = message.empty() ? note : note + "; " + message;
  store.finishRun(run_id_, result.cancelled ? RunStatus::Cancelled : RunStatus::Finished, message,
                  best >= 0 ? std::optional<double>(best) : std::nullopt);
}

}  // namespace mls
