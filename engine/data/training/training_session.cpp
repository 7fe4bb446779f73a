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
#include "data/training/run_model_spec.h"
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

LossConfig lossFor(const TrainRequest& r, double expected_positives) {
  LossConfig cfg;
  const auto kind = parseLossKind(r.loss);
  // Q2L's COCO command: ASL with gamma- = 2, gamma+ = 0, clip 0, detached focusing weight.
  if (kind == LossKind::ASL && r.method != "mlspl") cfg = LossConfig::q2lCoco();
  cfg.kind = kind;
  cfg.expected_positives = expected_positives;
  return cfg;
}

// k for EPR and ROLE (the only losses that use it): the mean positives per train image when the project
// has full labels, else COCO's value.
double expectedPositives(ProjectStore& store, const TrainRequest& r) {
  if (r.expected_positives > 0) return r.expected_positives;
  const auto kind = parseLossKind(r.loss);
  if (kind != LossKind::EPR && kind != LossKind::ROLE) return 2.9;
  const auto labels = store.labelsBySplit(Split::Train);
  if (!labels.empty()) {
    size_t total = 0;
    for (const auto& [id, cats] : labels) total += cats.size();
    return static_cast<double>(total) / static_cast<double>(labels.size());
  }
  return 2.9;  // COCO's value in the MLSPL paper
}

AugmentationOptions augmentationFor(const TrainRequest& r) {
  // The tiny CPU preset is for the synthetic demo, whose labels survive flips and quarter turns.
  if (r.backbone == "tiny") return AugmentationOptions::syntheticShapes();
  if (r.method == "mlspl") return AugmentationOptions::singlePositive();
  // Real backbones get the Q2L policy (Cutout + RandAugment).
  return AugmentationOptions::query2label();
}

}  // namespace

TrainingSession::TrainingSession(TrainRequest request, TrainObserver* observer)
    : request_(std::move(request)), observer_(observer) {}

TrainingSession::~TrainingSession() = default;

void TrainingSession::cancel() {
  cancel_requested_ = true;
  std::lock_guard<std::mutex> lock(trainer_mutex_);
  if (trainer_) trainer_->requestCancel();
}

TrainOutcome TrainingSession::run() {
  const auto start = std::chrono::steady_clock::now();
  request_.validate();  // also what a resume only takes from this request (--epochs)
  ProjectStore store(request_.project, ProjectStore::Open::Existing);

  // Resume: the stored request wins (same model, same data), only the epoch budget may grow.
  int64_t run_id = 0;
  std::string resume_checkpoint;
  if (!request_.resume.empty()) {
    run_id = resolveRunId(store, request_.resume);
    const auto record = store.run(run_id);
    auto stored = TrainRequest::fromJson(record->config);
    stored.project = request_.project;
    if (request_.epochs > stored.epochs) stored.epochs = request_.epochs;
    stored.device = request_.device;
    stored.workers = request_.workers;
    // Memory/speed switches compute the same model: a resumed run may turn them on (e.g. after running out
    // of memory) and profile as asked now.
    stored.checkpoint_backbone = stored.checkpoint_backbone || request_.checkpoint_backbone;
    stored.channels_last = stored.channels_last || request_.channels_last;
    stored.profile = request_.profile;
    request_ = stored;
    const auto cps = store.checkpoints(run_id);
    if (cps.empty()) throw std::invalid_argument("run " + std::to_string(run_id) + " has no checkpoint to resume from");
    resume_checkpoint = cps.back().path;
  }
  request_.resolveDefaults();
  if (run_id == 0) request_.checkLossChoice();  // a resumed run keeps the choice it was started with

  const auto train = trainingSamples(store, parseLabelMode(request_.labels));
  requireSomeTrainingFile(train, request_.project);  // before a run is created
  const auto val = evaluationSamples(store, Split::Val);
  const double k_expected = expectedPositives(store, request_);

  if (run_id == 0) {
    const std::string name = request_.run_name.empty()
                                 ? request_.method + "-" + request_.loss + "-" + request_.labels + "-" + request_.backbone
                                 : request_.run_name;
    run_id = store.createRun(name, request_.method, request_.toJson(), "");
    const auto dir = fs::path(request_.project).parent_path() /
                     (fs::path(request_.project).stem().string() + ".runs") / ("run_" + std::to_string(run_id));
    fs::create_directories(dir);
    store.setRunCheckpointDir(run_id, fs::absolute(dir).lexically_normal().string());
  } else {
    store.setRunStatus(run_id, "running");
  }
  run_id_ = run_id;
  const std::string checkpoint_dir = store.run(run_id)->checkpoint_dir;

  RunRecorder recorder(store, run_id, observer_);
  TrainOutcome outcome;
  outcome.run_id = run_id;
  try {
    torch::manual_seed(static_cast<uint64_t>(request_.seed));
    auto model = buildModel(modelSpecFor(request_, train.num_classes));
    if (!model->weightsSummary().empty()) recorder.onMessage(MessageLevel::Info, model->weightsSummary());

    TrainerOptions opt;
    const bool mlspl = request_.method == "mlspl";
    opt.optimizer = mlspl ? "adam" : "adamw";           // MLSPL code: Adam; Q2L: AdamW (wd 1e-2)
    opt.weight_decay = mlspl ? 0.0 : 1e-2;
    opt.schedule = mlspl ? "constant" : "onecycle";      // MLSPL: constant lr; Q2L: OneCycle
    opt.lr = request_.lr;
    opt.epochs = request_.epochs;
    opt.grad_accum = request_.grad_accum;
    opt.ema_decay = request_.ema;
    opt.amp = request_.amp;
    opt.amp_dtype = request_.amp_dtype;
    opt.checkpoint_backbone = request_.checkpoint_backbone;
    opt.channels_last = request_.channels_last;
    opt.profile_steps = request_.profile;
    opt.early_stop_patience = request_.early_stop;
    opt.device = request_.device;
    opt.seed = request_.seed;
    opt.loss = lossFor(request_, k_expected);
    opt.checkpoint_dir = checkpoint_dir;

    Trainer trainer(model, opt, &recorder);
    {
      std::lock_guard<std::mutex> lock(trainer_mutex_);
      trainer_ = &trainer;
    }
    struct Unregister {
      TrainingSession* s;
      ~Unregister() {
        std::lock_guard<std::mutex> lock(s->trainer_mutex_);
        s->trainer_ = nullptr;
      }
    } unregister{this};
    if (cancel_requested_) trainer.requestCancel();
    if (lossNeedsEstimator(opt.loss.kind)) trainer.setObservedLabels(targetMatrix(train));

    const int workers = request_.workers;
    ImageBatchSource train_source(train.samples, request_.image_size, request_.batch, true, augmentationFor(request_),
                                  request_.seed, workers);
    train_source.setDropLast(train.samples.size() > static_cast<size_t>(request_.batch));
    std::unique_ptr<ImageBatchSource> val_source;
    if (!val.samples.empty())
      val_source = std::make_unique<ImageBatchSource>(val.samples, request_.image_size, std::max(request_.batch, 32), false,
                                                      AugmentationOptions::none(), request_.seed, workers);
    else
      recorder.onMessage(MessageLevel::Warning, "the project has no val split: no mAP will be reported");

    if (!resume_checkpoint.empty()) {
      trainer.resumeFrom(resume_checkpoint);
    } else if (request_.linear_init > 0) {
      if (!mlspl) throw std::invalid_argument("--linear-init applies to --method mlspl only");
      // MLSPL LinearInit: features of the frozen backbone, cached once, then a linear head trained on them.
      recorder.onMessage(MessageLevel::Info, "LinearInit: caching frozen backbone features");
      const auto device = model->parameters().front().device();
      auto extract = [&](const torch::Tensor& x) { return model->pooledFeatures(x.to(device)).cpu(); };
      ImageBatchSource plain(train.samples, request_.image_size, std::max(request_.batch, 32), false,
                             AugmentationOptions::none(), request_.seed, workers);
      model->eval();
      auto train_cache = computeFeatureCache(plain, extract);
      std::unique_ptr<FeatureBatchSource> val_features;
      if (val_source) val_features = std::make_unique<FeatureBatchSource>(computeFeatureCache(*val_source, extract), 256, false);
      model->train();
      FeatureBatchSource train_features(train_cache, request_.batch, true, request_.seed);
      trainer.fitLinear(train_features, val_features.get(), request_.linear_init, request_.lr * 100.0);
      recorder.setEpochOffset(request_.linear_init);
    }

    TrainResult result;
    try {
      result = trainer.fit(train_source, val_source.get());
    } catch (const TrainingError&) {
      // Nothing to train on because every image failed to decode: say which, not only "no batch".
      if (train_source.skippedSamples() >= train_source.size()) {
        SkippedImages none_read;
        none_read.addDisjoint(train_source);
        throw TrainingError("no training image could be read: " + none_read.summary());
      }
      throw;
    }
    outcome.epochs = result.epochs_run;
    outcome.best_val_map = result.best_val_map;
    outcome.final_val_map = result.final_val_map;
    outcome.cancelled = result.cancelled;
    SkippedImages skipped;
    skipped.addDisjoint(train_source);
    if (val_source) skipped.addDisjoint(*val_source);
    recorder.flush();

    // Scores of the best weights for every train and val image: the Inspect tab and annotation suggestions.
    if (!result.cancelled) {
      recorder.onMessage(MessageLevel::Info, "storing predictions");
      auto all = evaluationSamples(store, Split::Train);
      for (size_t i = 0; i < val.samples.size(); ++i) {  // the val samples loaded above
        all.samples.push_back(val.samples[i]);
        all.samples.back().index = static_cast<int64_t>(all.samples.size() - 1);
        all.image_ids.push_back(val.image_ids[i]);
      }
      ImageBatchSource everything(all.samples, request_.image_size, 64, false, AugmentationOptions::none(), 0, workers);
      const auto [scores, indices] = trainer.predict(everything);
      std::vector<std::pair<int64_t, std::vector<float>>> rows;
      const auto s = scores.contiguous();
      const auto idx = indices.to(torch::kLong).contiguous();
      const int64_t k = s.size(1);
      const float* p = s.data_ptr<float>();
      const int64_t* row_index = idx.data_ptr<int64_t>();
      for (int64_t r = 0; r < s.size(0); ++r)
        rows.emplace_back(all.image_ids[static_cast<size_t>(row_index[r])], std::vector<float>(p + r * k, p + (r + 1) * k));
      store.storePredictions(run_id, rows);
      skipped.addCovering(everything);
    }
    // Skipped images go on stderr / the GUI log and into the run's record, whichever loader met them.
    outcome.skipped_images = skipped.count();
    if (skipped.count() > 0) recorder.onMessage(MessageLevel::Warning, skipped.summary());
    const double best = std::isfinite(result.best_val_map) ? result.best_val_map : -1;
    store.finishRun(run_id, result.cancelled ? "cancelled" : "finished", skipped.summary(),
                    best >= 0 ? std::optional<double>(best) : std::nullopt);
  } catch (const std::exception& e) {
    try {
      recorder.flush();
      store.finishRun(run_id, "failed", e.what(), std::nullopt);
    } catch (...) {
    }
    throw;
  }
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

}  // namespace mls
