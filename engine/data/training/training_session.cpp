#include "data/training/training_session.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "data/pipeline/feature_batch_source.h"
#include "data/pipeline/image_batch_source.h"
#include "data/store/project_store.h"
#include "data/training/project_samples.h"
#include "data/training/run_recorder.h"
#include "data/training/training_recipe.h"
#include "data/training/skipped_images.h"
#include "ml/losses.h"
#include "ml/models/multilabel_model.h"
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

struct Loaders {
  std::unique_ptr<ImageBatchSource> train;
  std::unique_ptr<ImageBatchSource> val;  // null without a val split
};

Loaders buildLoaders(const TrainRequest& r, const TrainingRecipe& recipe, const ProjectSamples& train,
                     const ProjectSamples& val, RunRecorder& recorder) {
  Loaders loaders;
  loaders.train = std::make_unique<ImageBatchSource>(train.samples, r.image_size, r.batch, true,
                                                     recipe.train_augmentation, r.seed, r.workers);
  loaders.train->setDropLast(train.samples.size() > static_cast<size_t>(r.batch));
  if (!val.samples.empty())
    loaders.val = std::make_unique<ImageBatchSource>(val.samples, r.image_size, std::max(r.batch, 32), false,
                                                     AugmentationOptions::none(), r.seed, r.workers);
  else
    recorder.onMessage(MessageLevel::Warning, "the project has no val split: no mAP will be reported");
  return loaders;
}

// MLSPL LinearInit: features of the frozen backbone, cached once, then a linear head trained on them.
void runLinearPhase(MultiLabelModel& model, Trainer& trainer, RunRecorder& recorder, const TrainRequest& r,
                    const LinearInitPhase& phase, const ProjectSamples& train, ImageBatchSource* val_source,
                    const CancelToken& cancel) {
  recorder.onMessage(MessageLevel::Info, "LinearInit: caching frozen backbone features");
  const auto device = model.parameters().front().device();
  auto extract = [&](const torch::Tensor& x) { return model.pooledFeatures(x.to(device)).cpu(); };
  ImageBatchSource plain(train.samples, r.image_size, std::max(r.batch, 32), false, AugmentationOptions::none(),
                         r.seed, r.workers);
  // Caching a large train split takes minutes: it stops with the run (fit() then ends at once, cancelled).
  const auto go_on = [&](int64_t, int64_t) { return !cancel.requested(); };
  model.eval();
  auto train_cache = computeFeatureCache(plain, extract, go_on);
  std::unique_ptr<FeatureBatchSource> val_features;
  if (val_source && !train_cache.cancelled)
    val_features = std::make_unique<FeatureBatchSource>(computeFeatureCache(*val_source, extract, go_on), 256, false);
  model.train();
  if (cancel.requested()) return;
  // The trainer numbers the end-to-end epochs and steps after the linear phase's.
  FeatureBatchSource train_features(train_cache, phase.batch, true, r.seed);
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

TrainingSession::TrainingSession(TrainRequest request, TrainObserver* observer, CancelToken cancel)
    : request_(std::move(request)), observer_(observer), cancel_(std::move(cancel)) {}

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
  // Only a checkpoint whose file is still there (rows of pruned or deleted files are dropped here).
  const auto cps = store.existingCheckpoints(run_id);
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
  ProjectStore store(request_.project, ProjectStore::Open::Existing);

  const Resume resume = adoptResumedRun(store);
  request_.resolveDefaults();
  if (resume.run_id == 0) request_.checkLossChoice();  // a resumed run keeps the choice it was started with

  const auto train = trainingSamples(store, parseLabelMode(request_.labels));
  requireSomeTrainingFile(train, request_.project);  // before a run is created
  const auto val = evaluationSamples(store, Split::Val);
  auto recipe = trainingRecipe(request_, readProjectFacts(store, request_, train.num_classes));

  openRunRecord(store, resume);
  const int64_t run_id = run_id_;
  recipe.trainer.checkpoint_dir = store.run(run_id)->checkpoint_dir;

  RunRecorder recorder(store, run_id, observer_);
  TrainOutcome outcome;
  outcome.run_id = run_id;
  try {
    torch::manual_seed(static_cast<uint64_t>(request_.seed));
    auto model = buildModel(recipe.model);
    if (!model->weightsSummary().empty()) recorder.onMessage(MessageLevel::Info, model->weightsSummary());

    Trainer trainer(model, recipe.trainer, &recorder, cancel_);
    if (lossNeedsEstimator(recipe.trainer.loss.kind)) trainer.setObservedLabels(targetMatrix(train));

    auto loaders = buildLoaders(request_, recipe, train, val, recorder);
    if (resume.run_id != 0)
      trainer.resumeFrom(resume.checkpoint);
    else if (recipe.linear_init.epochs > 0)
      runLinearPhase(*model, trainer, recorder, request_, recipe.linear_init, train, loaders.val.get(), cancel_);

    const TrainResult result = fitEndToEnd(trainer, loaders);
    outcome.epochs = result.epochs_run;
    outcome.best_val_map = result.best_val_map;
    outcome.final_val_map = result.final_val_map;
    outcome.cancelled = result.cancelled;
    SkippedImages skipped;
    skipped.addDisjoint(*loaders.train);
    if (loaders.val) skipped.addDisjoint(*loaders.val);
    recorder.flush();

    if (!result.cancelled) {
      recorder.onMessage(MessageLevel::Info, "storing predictions");
      storePredictions(store, run_id, trainer, request_, val, skipped);
    }
    finish(store, recorder, result, skipped, outcome);
  } catch (const std::exception& e) {
    try {
      recorder.flush();
      store.finishRun(run_id, RunStatus::Failed, e.what(), std::nullopt);
    } catch (...) {
    }
    throw;
  }
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

void TrainingSession::finish(ProjectStore& store, RunRecorder& recorder, const TrainResult& result,
                             const SkippedImages& skipped, TrainOutcome& outcome) {
  // Skipped images go on stderr / the GUI log and into the run's record, whichever loader met them.
  outcome.skipped_images = skipped.count();
  if (skipped.count() > 0) recorder.onMessage(MessageLevel::Warning, skipped.summary());
  const double best = std::isfinite(result.best_val_map) ? result.best_val_map : -1;
  store.finishRun(run_id_, result.cancelled ? RunStatus::Cancelled : RunStatus::Finished, skipped.summary(),
                  best >= 0 ? std::optional<double>(best) : std::nullopt);
}

}  // namespace mls
