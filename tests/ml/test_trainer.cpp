// Trainer: learning on synthetic blob images (Q2L + ASL, MLSPL + ROLE from single positives), the
// OneCycle curve against PyTorch's OneCycleLR, EMA and loss-scaler arithmetic, exact checkpoint resume,
// cancellation from another thread, NaN / out-of-memory / bad-configuration errors, and the linear phase.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "../support/tensor_compare.h"
#include "ml/batch_source.h"
#include "ml/label_estimator.h"
#include "ml/models/mlspl_classifier.h"
#include "ml/models/query2label.h"
#include "ml/models/tiny_cnn.h"
#include "ml/tensor_batch_source.h"
#include "ml/training/early_stop.h"
#include "ml/training/grad_scaler.h"
#include "ml/training/grouped_optimizer.h"
#include "ml/training/model_ema.h"
#include "ml/training/one_cycle_schedule.h"
#include "ml/training/trainer.h"

using namespace mls;
using test::contains;

namespace {

constexpr int kClasses = 4;
constexpr int kSide = 16;

// Class k is a bright 5x5 blob in colour channel k (k < 3) or a dark blob in all channels (k = 3), each
// present class in its own randomly chosen quadrant, over uniform noise. Learnable both with attention
// (Q2L) and after global average pooling (MLSPL).
struct BlobSet {
  torch::Tensor images;  // (N,3,16,16)
  torch::Tensor labels;  // (N,4) 0/1
};

BlobSet makeBlobs(int n, uint64_t seed) {
  DeterministicRng rng(seed);
  auto images = torch::empty({n, 3, kSide, kSide});
  auto labels = torch::zeros({n, kClasses});
  auto img = images.accessor<float, 4>();
  auto lab = labels.accessor<float, 2>();
  for (int i = 0; i < n; ++i) {
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < kSide; ++y)
        for (int x = 0; x < kSide; ++x) img[i][c][y][x] = static_cast<float>(rng.uniform(-0.5, 0.5));
    std::vector<int> present;
    for (int k = 0; k < kClasses; ++k)
      if (rng.bernoulli(0.4)) present.push_back(k);
    if (present.empty()) present.push_back(static_cast<int>(rng.below(kClasses)));
    std::vector<int> quadrants{0, 1, 2, 3};
    for (int q = 3; q > 0; --q) std::swap(quadrants[q], quadrants[rng.below(q + 1)]);
    for (size_t j = 0; j < present.size(); ++j) {
      const int k = present[j];
      lab[i][k] = 1;
      const int qy = (quadrants[j] / 2) * 8 + static_cast<int>(rng.below(4));
      const int qx = (quadrants[j] % 2) * 8 + static_cast<int>(rng.below(4));
      for (int y = qy; y < qy + 5; ++y)
        for (int x = qx; x < qx + 5; ++x) {
          if (k < 3) img[i][k][y][x] = 2.5f;
          else
            for (int c = 0; c < 3; ++c) img[i][c][y][x] = -2.5f;
        }
    }
  }
  return {images, labels};
}

// One observed positive per image, chosen uniformly (the MLSPL protocol).
torch::Tensor singlePositives(const torch::Tensor& labels, uint64_t seed) {
  DeterministicRng rng(seed);
  auto observed = torch::zeros_like(labels);
  for (int64_t i = 0; i < labels.size(0); ++i) {
    std::vector<int64_t> pos;
    for (int64_t k = 0; k < labels.size(1); ++k)
      if (labels[i][k].item<float>() > 0.5f) pos.push_back(k);
    observed[i][pos[static_cast<size_t>(rng.below(static_cast<int64_t>(pos.size())))]] = 1;
  }
  return observed;
}

std::shared_ptr<Backbone> tinyBackbone() {
  TinyCnnOptions o;
  o.widths = {16, 32, 48};  // stride 4: a 16x16 image gives a 4x4 map
  o.double_conv = false;
  return std::make_shared<TinyCnn>(o);
}

std::shared_ptr<MultiLabelModel> tinyQ2L(uint64_t seed) {
  torch::manual_seed(seed);
  auto c = Q2LConfig::smallCpu(kClasses);
  c.transformer.d_model = 64;
  c.transformer.dim_feedforward = 128;
  return std::make_shared<Query2Label>(tinyBackbone(), c);
}

std::shared_ptr<MultiLabelModel> tinyMlspl(uint64_t seed) {
  torch::manual_seed(seed);
  return std::make_shared<MlsplClassifier>(tinyBackbone(), kClasses);
}

TrainerOptions cpuOptions() {
  TrainerOptions o;
  o.device = "cpu";
  o.lr = 2e-3;
  o.epochs = 2;
  return o;
}

struct Recorder : TrainObserver {
  std::vector<StepInfo> steps;
  std::vector<EpochInfo> epochs;
  std::vector<ProgressInfo> progress;
  std::vector<std::pair<MessageLevel, std::string>> messages;
  std::vector<std::string> checkpoints;
  std::vector<int> checkpoint_epochs, removed_epochs;
  std::vector<std::pair<int, int64_t>> resumed;
  std::function<void(const StepInfo&)> step_hook;
  std::function<void(const EpochInfo&)> epoch_hook;

  void onStep(const StepInfo& s) override {
    steps.push_back(s);
    if (step_hook) step_hook(s);
  }
  void onEpoch(const EpochInfo& e) override {
    epochs.push_back(e);
    if (epoch_hook) epoch_hook(e);
  }
  void onCheckpointRemoved(int epoch, const std::string&) override { removed_epochs.push_back(epoch); }
  void onResumed(int epoch, int64_t global_step) override { resumed.emplace_back(epoch, global_step); }
  void onProgress(const ProgressInfo& p) override { progress.push_back(p); }
  void onMessage(MessageLevel l, const std::string& m) override { messages.emplace_back(l, m); }
  void onCheckpoint(int epoch, const std::string& path, double) override {
    checkpoints.push_back(path);
    checkpoint_epochs.push_back(epoch);
  }
  bool saidSomething(const std::string& needle) const {
    for (const auto& m : messages)
      if (m.second.find(needle) != std::string::npos) return true;
    return false;
  }
};

// Validation features whose labels are the true ones at validation number `good` (1-based) and inverted at
// every other: that validation scores best, whatever training does, and the ones after it score worse.
class FlippingLabelsSource : public BatchSource {
 public:
  FlippingLabelsSource(torch::Tensor features, torch::Tensor labels, int good)
      : features_(std::move(features)), labels_(std::move(labels)), good_(good) {}
  int64_t size() const override { return features_.size(0); }
  int64_t numClasses() const override { return labels_.size(1); }
  void startEpoch(int) override {
    ++validations_;
    done_ = false;
  }
  std::optional<Batch> next() override {
    if (done_) return std::nullopt;
    done_ = true;
    return Batch{features_, validations_ == good_ ? labels_ : 1 - labels_, torch::arange(size())};
  }

 private:
  torch::Tensor features_, labels_;
  int good_;
  int validations_ = 0;
  bool done_ = true;
};

// Yields NaN images: the loss must become NaN on the first batch.
class NanSource : public TensorBatchSource {
 public:
  NanSource() : TensorBatchSource(torch::full({8, 3, kSide, kSide}, NAN), torch::ones({8, kClasses}), 4) {}
};

// Fails like a CUDA allocation would.
class OutOfMemorySource : public BatchSource {
 public:
  int64_t size() const override { return 8; }
  int64_t numClasses() const override { return kClasses; }
  void startEpoch(int) override {}
  std::optional<Batch> next() override {
    TORCH_CHECK(false, "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.10 GiB total capacity)");
    return std::nullopt;
  }
};

std::string trainingErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const TrainingError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("WRONG EXCEPTION TYPE: ") + e.what();
  }
  return "NO EXCEPTION";
}

}  // namespace

class TestTrainer : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  // Reference values printed by torch 1.13's OneCycleLR(max_lr=[1e-3, 1e-2], total_steps=20, pct_start=0.2)
  // over AdamW (lr and beta1 read before each optimizer.step()).
  void oneCycleMatchesPyTorch() {
    OneCycleOptions o;
    o.max_lr = 1e-3;
    o.total_steps = 20;
    o.pct_start = 0.2;
    OneCycleSchedule s(o);
    const std::vector<std::pair<int, double>> lr{{0, 3.9999999999999996e-05}, {1, 0.00028}, {2, 0.0007599999999999999},
                                                 {3, 0.001},  {4, 0.0009903926786310544}, {11, 0.0005000019999999999},
                                                 {16, 8.426885678795192e-05}, {19, 4e-09}};
    for (const auto& [step, expected] : lr) QVERIFY2(std::abs(s.lr(step) - expected) <= 1e-12 * expected + 1e-18, qPrintable(QString::number(step)));
    const std::vector<std::pair<int, double>> beta1{{0, 0.95}, {1, 0.9249999999999999}, {3, 0.85}, {11, 0.8999999999999999}, {19, 0.95}};
    for (const auto& [step, expected] : beta1) QVERIFY(std::abs(s.momentum(step) - expected) < 1e-12);
    QCOMPARE(s.initialLr(), 1e-3 / 25);
    QCOMPARE(s.minLr(), 1e-3 / 25 / 1e4);
    QCOMPARE(s.lr(25), s.lr(19));  // clamped past the end

    // The per-group ratio survives every step (PyTorch's second group: max_lr 1e-2).
    auto a = torch::zeros({2}, torch::requires_grad());
    auto b = torch::zeros({2}, torch::requires_grad());
    GroupedOptimizer opt("adamw", {{"head", {a}, 1.0, 0.01}, {"label_estimator", {b}, 10.0, 0.0}}, 1e-3);
    for (int step : {0, 3, 16}) {
      opt.setLearningRate(s.lr(step), s.momentum(step));
      const auto info = opt.info();
      QCOMPARE(info.size(), size_t(2));
      QVERIFY(std::abs(info[1].lr - 10 * s.lr(step)) < 1e-15);
      QCOMPARE(info[1].weight_decay, 0.0);
    }
    QVERIFY(std::abs(opt.info()[1].lr - 0.0008426885678795193) < 1e-15);
  }

  void emaFollowsTheOfficialFormula() {
    torch::nn::Sequential m(torch::nn::Linear(2, 1), torch::nn::BatchNorm1d(1));
    ModelEma ema(*m.ptr(), 0.9);
    const auto w0 = m->named_parameters()["0.weight"].detach().clone();
    const auto rm0 = m->named_buffers()["1.running_mean"].detach().clone();
    {
      torch::NoGradGuard g;
      m->named_parameters()["0.weight"].copy_(torch::tensor({{1.0f, -2.0f}}));
      m->named_buffers()["1.running_mean"].fill_(4.0f);
      m->named_buffers()["1.num_batches_tracked"].fill_(7);
    }
    ema.update(*m.ptr());
    torch::nn::Sequential copy(torch::nn::Linear(2, 1), torch::nn::BatchNorm1d(1));
    ema.copyTo(*copy.ptr());
    const auto expected_w = 0.9 * w0 + 0.1 * torch::tensor({{1.0f, -2.0f}});
    QVERIFY(torch::allclose(copy->named_parameters()["0.weight"], expected_w, 0, 1e-7));
    QVERIFY(torch::allclose(copy->named_buffers()["1.running_mean"], 0.9 * rm0 + 0.4, 0, 1e-7));
    QCOMPARE(copy->named_buffers()["1.num_batches_tracked"].item<int64_t>(), int64_t(7));  // copied, not averaged
    // A second update compounds: ema2 = 0.9 * ema1 + 0.1 * w.
    ema.update(*m.ptr());
    ema.copyTo(*copy.ptr());
    QVERIFY(torch::allclose(copy->named_parameters()["0.weight"], 0.9 * expected_w + 0.1 * torch::tensor({{1.0f, -2.0f}}), 0, 1e-7));
  }

  void gradScalerSkipsOverflowAndAdapts() {
    GradScalerOptions o;
    o.init_scale = 1024;
    o.growth_interval = 2;
    GradScaler scaler(true, o);
    QCOMPARE(scaler.scale(torch::tensor(3.0)).item<double>(), 3072.0);
    auto p = torch::zeros({3}, torch::requires_grad());
    p.mutable_grad() = torch::tensor({1024.0f, 2048.0f, -512.0f});
    QVERIFY(scaler.unscale({p}));
    QVERIFY(torch::equal(p.grad(), torch::tensor({1.0f, 2.0f, -0.5f})));
    scaler.update(true);
    scaler.update(true);
    QCOMPARE(scaler.scaleValue(), 2048.0);  // grown after growth_interval clean steps
    p.mutable_grad() = torch::tensor({1.0f, INFINITY, 0.0f});
    QVERIFY(!scaler.unscale({p}));
    scaler.update(false);
    QCOMPARE(scaler.scaleValue(), 1024.0);  // backed off
    QCOMPARE(scaler.growthTracker(), int64_t(0));
    GradScaler off(false);
    QCOMPARE(off.scale(torch::tensor(3.0)).item<double>(), 3.0);
  }

  void q2lLearnsBlobsWithAsl() {
    const auto train = makeBlobs(256, 1);
    const auto val = makeBlobs(128, 2);
    TensorBatchSource train_src(train.images, train.labels, 32, /*shuffle=*/true, 5);
    TensorBatchSource val_src(val.images, val.labels, 64);
    QTemporaryDir dir;
    auto o = cpuOptions();
    o.epochs = 6;
    o.loss = LossConfig::q2lCoco();
    o.ema_decay = 0.9;
    o.checkpoint_dir = dir.path().toStdString();
    Recorder rec;
    auto model = tinyQ2L(3);
    Trainer trainer(model, o, &rec);
    const auto result = trainer.fit(train_src, &val_src);

    QCOMPARE(result.epochs_run, 6);
    QVERIFY(!result.cancelled && !result.early_stopped);
    QCOMPARE(rec.epochs.size(), size_t(6));
    QCOMPARE(rec.steps.size(), size_t(6 * 8));
    // Chance mAP is the positive rate (~45 %); the blobs are easy.
    QVERIFY2(result.best_val_map > 90.0, qPrintable(QString::number(result.best_val_map)));
    QVERIFY(rec.epochs.back().train_loss < 0.5 * rec.epochs.front().train_loss);
    for (const auto& e : rec.epochs) {
      QVERIFY(!std::isnan(e.val_map_raw) && !std::isnan(e.val_map_ema));
      QCOMPARE(e.val_map, std::max(e.val_map_raw, e.val_map_ema));
    }
    QCOMPARE(rec.epochs[size_t(result.best_epoch - 1)].val_map, result.best_val_map);

    // OneCycle over 48 optimizer steps: starts at lr/25, peaks at step 0.2*48-1, ends at lr/25/1e4.
    QVERIFY(std::abs(rec.steps.front().lr - o.lr / 25) < 1e-12);
    OneCycleOptions oc;
    oc.max_lr = o.lr;
    oc.total_steps = 48;
    oc.pct_start = 0.2;
    const OneCycleSchedule expected(oc);
    for (size_t i = 0; i < rec.steps.size(); ++i) QVERIFY(std::abs(rec.steps[i].lr - expected.lr(int64_t(i))) < 1e-12);
    QVERIFY(std::abs(rec.steps.back().lr - o.lr / 25 / 1e4) < 1e-15);
    QVERIFY(!rec.progress.empty());
    QCOMPARE(rec.progress.back().fraction, 1.0);
    QCOMPARE(rec.steps.back().global_step, int64_t(48));

    // The model now holds the best weights, and best.pt reproduces them in a fresh model.
    const auto metrics = trainer.evaluate(val_src);
    QVERIFY(std::abs(metrics.map - result.best_val_map) < 1e-9);
    const auto [scores, indices] = trainer.predict(val_src);
    QCOMPARE(scores.sizes(), (torch::IntArrayRef{128, kClasses}));
    QVERIFY(torch::equal(indices, torch::arange(128, torch::kLong)));
    QCOMPARE(result.best_checkpoint, dir.filePath("best.pt").toStdString());
    auto fresh = tinyQ2L(99);
    loadCheckpointWeights(*fresh, result.best_checkpoint);
    Trainer reloaded(fresh, o);
    QVERIFY(torch::allclose(reloaded.predict(val_src).first, scores, 0, 1e-6));
    // Epoch checkpoints: the newest keep_last_checkpoints (3) remain.
    QCOMPARE(rec.checkpoints.size(), size_t(6));
    QVERIFY(!QFile::exists(dir.filePath("epoch_003.pt")));
    QVERIFY(QFile::exists(dir.filePath("epoch_004.pt")) && QFile::exists(dir.filePath("epoch_006.pt")));
  }

  void mlsplRoleFromSinglePositives() {
    const auto train = makeBlobs(192, 11);
    const auto val = makeBlobs(96, 12);
    const auto observed = singlePositives(train.labels, 13);
    TensorBatchSource train_src(train.images, observed, 8, true, 5);
    TensorBatchSource val_src(val.images, val.labels, 96);
    auto o = cpuOptions();
    o.optimizer = "adam";
    o.weight_decay = 0;
    o.schedule = "constant";
    o.lr = 5e-3;  // the estimator moves at 10x this: enough to separate its estimates within 6 short epochs
    o.epochs = 6;
    o.loss.kind = LossKind::ROLE;
    o.loss.expected_positives = train.labels.sum(1).mean().item<double>();
    QTemporaryDir dir;
    o.checkpoint_dir = dir.path().toStdString();
    Recorder rec;
    Trainer trainer(tinyMlspl(4), o, &rec);
    QVERIFY(contains(trainingErrorOf([&] { trainer.fit(train_src, &val_src); }), "setObservedLabels"));
    trainer.setObservedLabels(observed);
    const auto initial = trainer.labelEstimates().clone();
    QCOMPARE(initial.sizes(), (torch::IntArrayRef{192, kClasses}));
    const auto result = trainer.fit(train_src, &val_src);

    const auto groups = trainer.parameterGroups();
    QCOMPARE(groups.size(), size_t(3));
    QCOMPARE(groups[2].name, std::string("label_estimator"));
    QCOMPARE(groups[2].lr_multiplier, kRoleEstimatorLrMultiplier);
    QVERIFY(std::abs(groups[2].lr - 10 * groups[1].lr) < 1e-15);
    QCOMPARE(groups[2].weight_decay, 0.0);

    const auto estimates = trainer.labelEstimates();
    QVERIFY((estimates - initial).abs().max().item<double>() > 0.15);
    // Among the unobserved entries, the estimator ranks true positives above true negatives.
    const auto unobserved = observed.eq(0);
    const auto truly_pos = unobserved.logical_and(train.labels.gt(0.5));
    const auto truly_neg = unobserved.logical_and(train.labels.lt(0.5));
    const double mean_pos = estimates.masked_select(truly_pos).mean().item<double>();
    const double mean_neg = estimates.masked_select(truly_neg).mean().item<double>();
    QVERIFY2(mean_pos > mean_neg + 0.2, qPrintable(QString("%1 vs %2").arg(mean_pos).arg(mean_neg)));
    // The estimator is part of the checkpoint, also when the observed labels arrive after resumeFrom().
    Trainer resumed(tinyMlspl(77), o);
    resumed.resumeFrom(dir.filePath("epoch_006.pt").toStdString());
    QVERIFY(!resumed.labelEstimates().defined());
    resumed.setObservedLabels(observed);
    QVERIFY(torch::equal(resumed.labelEstimates(), estimates));
    // Chance is ~45 %; the full-label upper bound on these blobs is ~99.
    QVERIFY2(result.best_val_map > 90.0, qPrintable(QString::number(result.best_val_map)));
  }

  void fitLinearTrainsOnlyTheHead() {
    const auto train = makeBlobs(128, 21);
    const auto val = makeBlobs(64, 22);
    auto model = tinyMlspl(5);
    torch::Tensor train_features, val_features;
    {
      torch::NoGradGuard g;
      model->eval();
      train_features = model->pooledFeatures(train.images);
      val_features = model->pooledFeatures(val.images);
    }
    TensorBatchSource train_src(train_features, train.labels, 32, true, 1);
    TensorBatchSource val_src(val_features, val.labels, 64);
    auto o = cpuOptions();
    o.loss.kind = LossKind::BCE;
    Recorder rec;
    Trainer trainer(model, o, &rec);
    const auto backbone_before = trainer.model().backbone().parameters();
    std::vector<torch::Tensor> backbone_copy;
    for (const auto& p : backbone_before) backbone_copy.push_back(p.detach().clone());
    const auto head_before = trainer.model().headParameters().front().detach().clone();

    trainer.fitLinear(train_src, &val_src, 8, 1e-2);
    const auto after = trainer.model().backbone().parameters();
    for (size_t i = 0; i < after.size(); ++i) QVERIFY(torch::equal(after[i], backbone_copy[i]));
    QVERIFY(!torch::equal(trainer.model().headParameters().front(), head_before));
    const auto groups = trainer.parameterGroups();
    QCOMPARE(groups.size(), size_t(1));
    QCOMPARE(groups[0].name, std::string("head"));
    QCOMPARE(rec.epochs.size(), size_t(8));
    QCOMPARE(rec.steps.size(), size_t(8 * 4));
    QVERIFY(rec.epochs.back().train_loss < rec.epochs.front().train_loss);
    QVERIFY(!std::isnan(rec.epochs.back().val_map));
    QVERIFY(std::isnan(rec.epochs.back().val_map_ema));

    // Query2Label's head attends over the map: no linear phase.
    Trainer q2l(tinyQ2L(1), o);
    QVERIFY(contains(trainingErrorOf([&] { q2l.fitLinear(train_src, nullptr, 1, 1e-2); }), "linear head"));
  }

  void resumeContinuesExactly() {
    const auto train = makeBlobs(64, 31);
    const auto val = makeBlobs(32, 32);
    QTemporaryDir dir_a, dir_b;
    auto o = cpuOptions();
    o.epochs = 2;
    o.grad_accum = 2;  // accumulation and dropout (Q2L) must replay identically too
    o.ema_decay = 0.8;
    o.loss = LossConfig::q2lCoco();
    auto run = [&](const std::string& dir, const std::string& resume, uint64_t model_seed) {
      TensorBatchSource train_src(train.images, train.labels, 16, true, 9);
      TensorBatchSource val_src(val.images, val.labels, 32);
      auto opts = o;
      opts.checkpoint_dir = dir;
      Recorder rec;
      Trainer trainer(tinyQ2L(model_seed), opts, &rec);
      if (!resume.empty()) trainer.resumeFrom(resume);
      const auto result = trainer.fit(train_src, &val_src);
      return std::make_pair(result, rec.epochs);
    };
    const auto [result_a, epochs_a] = run(dir_a.path().toStdString(), "", 7);
    QCOMPARE(result_a.epochs_run, 2);
    QVERIFY(QFile::exists(dir_a.filePath("epoch_001.pt")));

    // Determinism: an identical second run gives identical losses.
    const auto [result_b, epochs_b] = run(dir_b.path().toStdString(), "", 7);
    QCOMPARE(epochs_b[0].train_loss, epochs_a[0].train_loss);
    QCOMPARE(epochs_b[1].train_loss, epochs_a[1].train_loss);

    // Resume from epoch 1 into a differently initialised model: epoch 2 is replayed exactly.
    const auto resume_path = dir_a.filePath("epoch_001.pt").toStdString();
    const auto [result_c, epochs_c] = run(dir_b.path().toStdString(), resume_path, 1234);
    QCOMPARE(result_c.epochs_run, 1);
    QCOMPARE(epochs_c.size(), size_t(1));
    QCOMPARE(epochs_c[0].epoch, 2);
    QVERIFY2(std::abs(epochs_c[0].train_loss - epochs_a[1].train_loss) < 1e-6,
             qPrintable(QString("%1 vs %2").arg(epochs_c[0].train_loss, 0, 'g', 10).arg(epochs_a[1].train_loss, 0, 'g', 10)));
    QVERIFY(std::abs(epochs_c[0].val_map_raw - epochs_a[1].val_map_raw) < 1e-6);
    QVERIFY(std::abs(epochs_c[0].val_map_ema - epochs_a[1].val_map_ema) < 1e-6);

    // Resuming a finished run does nothing; best.pt is weights only and cannot be resumed from.
    {
      TensorBatchSource train_src(train.images, train.labels, 16, true, 9);
      Trainer done(tinyQ2L(1), o);
      done.resumeFrom(dir_a.filePath("epoch_002.pt").toStdString());
      QCOMPARE(done.fit(train_src, nullptr).epochs_run, 0);
      Trainer wrong(tinyQ2L(1), o);
      QVERIFY(contains(trainingErrorOf([&] { wrong.resumeFrom(dir_a.filePath("best.pt").toStdString()); }), "not a training checkpoint"));
      auto other_model = tinyMlspl(1);
      Trainer mismatch(other_model, o);
      QVERIFY(contains(trainingErrorOf([&] { mismatch.resumeFrom(resume_path); }), "checkpoint"));
    }
  }

  void cancelFromAnotherThreadStopsWithinOneBatch() {
    const auto train = makeBlobs(64, 41);
    TensorBatchSource train_src(train.images, train.labels, 8, true, 1);
    QTemporaryDir dir;
    auto o = cpuOptions();
    o.epochs = 3;
    o.checkpoint_dir = dir.path().toStdString();
    Recorder rec;
    CancelToken cancel;
    Trainer trainer(tinyMlspl(6), o, &rec, cancel);

    std::mutex mutex;
    std::condition_variable cv;
    bool go = false;
    std::thread canceller([&] {
      std::unique_lock<std::mutex> lock(mutex);
      cv.wait(lock, [&] { return go; });
      CancelToken(cancel).request();  // any copy of the token
    });
    rec.step_hook = [&](const StepInfo& s) {
      if (s.epoch != 2 || s.step != 1) return;
      {
        std::lock_guard<std::mutex> lock(mutex);
        go = true;
      }
      cv.notify_one();
      // Wait (bounded) until the other thread has asked, so "within one batch" is deterministic.
      for (int i = 0; i < 2000 && !cancel.requested(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
    const auto result = trainer.fit(train_src, nullptr);
    canceller.join();

    QVERIFY(result.cancelled);
    QCOMPARE(result.epochs_run, 1);
    int steps_in_epoch_2 = 0;
    for (const auto& s : rec.steps) steps_in_epoch_2 += s.epoch == 2;
    QCOMPARE(steps_in_epoch_2, 1);
    QVERIFY(QFile::exists(dir.filePath("epoch_001.pt")));
    QVERIFY(!QFile::exists(dir.filePath("epoch_002.pt")));
    QVERIFY(!QFile::exists(dir.filePath("epoch_001.pt.tmp")));
    QVERIFY(cancel.requested());  // a cancelled token stays cancelled

    // A token requested before fit() ends it before the first batch trains.
    Recorder before;
    Trainer stopped(tinyMlspl(6), cpuOptions(), &before, cancel);
    TensorBatchSource again(train.images, train.labels, 8, true, 1);
    const auto none = stopped.fit(again, nullptr);
    QVERIFY(none.cancelled);
    QCOMPARE(none.epochs_run, 0);
    QVERIFY(before.steps.empty());
  }

  void nanAndOutOfMemoryBecomeTrainingErrors() {
    auto o = cpuOptions();
    {
      NanSource nan_src;
      Trainer trainer(tinyMlspl(1), o);
      const auto msg = trainingErrorOf([&] { trainer.fit(nan_src, nullptr); });
      QVERIFY2(contains(msg, "loss became NaN at epoch 1 step 1") && contains(msg, "lower learning rate"), msg.c_str());
    }
    {
      // An absurd learning rate blows the weights up after the first update.
      const auto train = makeBlobs(32, 51);
      TensorBatchSource src(train.images, train.labels, 8);
      auto huge = o;
      huge.lr = 1e30;
      huge.schedule = "constant";
      huge.loss.kind = LossKind::BCE;
      Trainer trainer(tinyMlspl(1), huge);
      const auto msg = trainingErrorOf([&] { trainer.fit(src, nullptr); });
      QVERIFY2(contains(msg, "loss became") && contains(msg, "lower learning rate"), msg.c_str());
    }
    {
      OutOfMemorySource oom;
      Trainer trainer(tinyMlspl(1), o);
      const auto msg = trainingErrorOf([&] { trainer.fit(oom, nullptr); });
      QVERIFY2(contains(msg, "out of memory") && contains(msg, "--grad-accum") && contains(msg, "--amp") &&
                   contains(msg, "--checkpoint-backbone"),
               msg.c_str());
      // Options already on are not suggested again.
      auto on = o;
      on.checkpoint_backbone = true;
      Trainer checkpointed(tinyMlspl(1), on);
      const auto again = trainingErrorOf([&] { checkpointed.fit(oom, nullptr); });
      QVERIFY2(contains(again, "out of memory") && !contains(again, "--checkpoint-backbone"), again.c_str());
    }
  }

  void badConfigurationIsReported() {
    auto model = tinyMlspl(1);
    auto expectBad = [&](const std::function<void(TrainerOptions&)>& change, const std::string& needle) {
      auto o = cpuOptions();
      change(o);
      const auto msg = trainingErrorOf([&] { Trainer t(model, o); });
      QVERIFY2(contains(msg, needle), msg.c_str());
    };
    expectBad([](TrainerOptions& o) { o.optimizer = "sgd"; }, "unknown optimizer");
    expectBad([](TrainerOptions& o) { o.schedule = "step"; }, "unknown schedule");
    expectBad([](TrainerOptions& o) { o.amp_dtype = "fp8"; }, "AMP dtype");
    expectBad([](TrainerOptions& o) { o.grad_accum = 0; }, "grad_accum");
    expectBad([](TrainerOptions& o) { o.ema_decay = 1.0; }, "EMA decay");
    expectBad([](TrainerOptions& o) { o.device = "tpu"; }, "unknown device");

    auto labels = torch::zeros({8, kClasses + 1});
    labels.select(1, 0).fill_(1);
    TensorBatchSource wrong(torch::zeros({8, 3, kSide, kSide}), labels, 4);
    Trainer t(model, cpuOptions());
    QVERIFY(contains(trainingErrorOf([&] { t.fit(wrong, nullptr); }), "5 classes but the model has 4"));
  }

  void earlyStopAndCpuAmpMessage() {
    const auto train = makeBlobs(32, 61);
    const auto val = makeBlobs(32, 62);
    TensorBatchSource train_src(train.images, train.labels, 16, true, 1);
    // Every validation image has every label: AP is 100 whatever the scores, so nothing beats epoch 1
    // (BatchNorm statistics keep moving even at lr 0).
    TensorBatchSource val_src(val.images, torch::ones_like(val.labels), 32);
    auto o = cpuOptions();
    o.epochs = 10;
    o.schedule = "constant";
    o.early_stop_patience = 2;
    o.amp = true;
    Recorder rec;
    Trainer trainer(tinyMlspl(2), o, &rec);
    const auto result = trainer.fit(train_src, &val_src);
    QVERIFY(result.early_stopped);
    // Q2L's rule: more than 2 epochs after the best one (and no EMA to wait for) -> after epoch 4.
    QCOMPARE(result.epochs_run, 4);
    QCOMPARE(result.best_epoch, 1);
    QVERIFY(rec.epochs[0].improved && !rec.epochs[1].improved && !rec.epochs[2].improved && !rec.epochs[3].improved);
    QCOMPARE(rec.epochs[3].val_map, 100.0);
    QVERIFY(rec.saidSomething("mixed precision needs CUDA"));
    QVERIFY(rec.saidSomething("early stop"));
  }

  // main_mlc.py of SlongLiu/query2labels on scripted (raw, EMA) mAPs: the epoch at which it would break.
  void earlyStopFollowsQ2lOnScriptedMaps() {
    const double none = std::numeric_limits<double>::quiet_NaN();
    auto stopEpoch = [](const std::vector<double>& raw, const std::vector<double>& ema, int patience) {
      ValidationHistory h;
      for (size_t i = 0; i < raw.size(); ++i)
        if (recordValidation(h, static_cast<int>(i) + 1, raw[i], ema[i], patience).stop) return static_cast<int>(i) + 1;
      return 0;
    };
    // The EMA takes over at epoch 3 and peaks at 4: stop once more than 2 epochs have passed since then.
    QCOMPARE(stopEpoch({50, 52, 51, 51, 51, 51, 51, 51}, {49, 50, 53, 53.5, 53.4, 53.4, 53.4, 53.4}, 2), 7);
    // A raw best later than the overall best restarts the count: the raw 45 at epoch 3 never beats the EMA's 60.
    QCOMPARE(stopEpoch({40, 41, 45, 44, 44, 44, 44}, {60, 59, 58, 57, 56, 55, 54}, 2), 6);
    // An EMA still improving (though below the best) holds the stop back until it stalls.
    QCOMPARE(stopEpoch({70, 60, 60, 60, 60, 60, 60}, {50, 51, 52, 53, 54, 53.5, 53}, 2), 6);
    // No EMA: only the raw mAP counts. patience 0 never stops.
    QCOMPARE(stopEpoch({50, 52, 51, 51, 51, 51}, {none, none, none, none, none, none}, 2), 5);
    QCOMPARE(stopEpoch({50, 49, 48, 47, 46, 45}, {none, none, none, none, none, none}, 0), 0);

    // The verdict's other parts: which weights won and whether they are the best so far.
    ValidationHistory h;
    auto v = recordValidation(h, 1, 50, 49, 8);
    QVERIFY(v.improved && !v.ema_won && !v.stop);
    v = recordValidation(h, 2, 48, 51, 8);
    QVERIFY(v.improved && v.ema_won);
    QCOMPARE(h.best_map, 51.0);
    QCOMPARE(h.best_epoch, 2);
    QCOMPARE(h.best_raw_epoch, 1);
    v = recordValidation(h, 3, 50.5, 50.9, 8);
    QVERIFY(!v.improved && v.ema_won);
  }

  // MLSPL code: the linear phase hands its best validation epoch's classifier and label estimator on.
  void linearPhaseEndsWithItsBestEpoch() {
    const auto train = makeBlobs(96, 71);
    const auto val = makeBlobs(48, 72);
    auto model = tinyMlspl(8);
    torch::Tensor train_features, val_features;
    {
      torch::NoGradGuard g;
      model->eval();
      train_features = model->pooledFeatures(train.images);
      val_features = model->pooledFeatures(val.images);
    }
    const auto observed = singlePositives(train.labels, 3);
    TensorBatchSource train_src(train_features, observed, 16, true, 1);
    FlippingLabelsSource val_src(val_features, val.labels, /*good=*/2);
    auto o = cpuOptions();
    o.optimizer = "adam";
    o.loss.kind = LossKind::ROLE;
    o.loss.expected_positives = 1.6;
    Recorder rec;
    Trainer trainer(model, o, &rec);
    trainer.setObservedLabels(observed);
    std::vector<std::vector<torch::Tensor>> heads;
    std::vector<torch::Tensor> estimates;
    rec.epoch_hook = [&](const EpochInfo&) {
      std::vector<torch::Tensor> head;
      for (const auto& p : trainer.model().headParameters()) head.push_back(p.detach().clone());
      heads.push_back(head);
      estimates.push_back(trainer.labelEstimates().clone());
    };
    trainer.fitLinear(train_src, &val_src, 5, 1e-2);

    QCOMPARE(rec.epochs.size(), size_t(5));
    QVERIFY(rec.epochs[1].improved);
    for (size_t e = 2; e < 5; ++e) QVERIFY2(rec.epochs[e].val_map < rec.epochs[1].val_map, qPrintable(QString::number(e)));
    const auto head = trainer.model().headParameters();
    QCOMPARE(head.size(), heads[1].size());
    for (size_t i = 0; i < head.size(); ++i) {
      QVERIFY(torch::equal(head[i], heads[1][i]));  // epoch 2's, not the last epoch's
      QVERIFY(!torch::equal(head[i], heads[4][i]));
    }
    QVERIFY(torch::equal(trainer.labelEstimates(), estimates[1]));
    QVERIFY(!torch::equal(trainer.labelEstimates(), estimates[4]));
    QVERIFY(rec.saidSomething("continuing from epoch 2"));
  }

  // One numbering for the whole run: the linear phase's epochs and steps first, fit()'s after them, kept
  // by checkpoints across a resume; pruned checkpoints are reported.
  void runNumberingSpansLinearPhaseAndResume() {
    const auto train = makeBlobs(48, 81);
    const auto val = makeBlobs(32, 82);
    QTemporaryDir dir;
    auto o = cpuOptions();
    o.epochs = 3;
    o.loss.kind = LossKind::BCE;
    o.checkpoint_dir = dir.path().toStdString();
    o.keep_last_checkpoints = 2;
    auto model = tinyMlspl(9);
    torch::Tensor train_features, val_features;
    {
      torch::NoGradGuard g;
      model->eval();
      train_features = model->pooledFeatures(train.images);
      val_features = model->pooledFeatures(val.images);
    }
    TensorBatchSource feature_src(train_features, train.labels, 16, true, 1);  // 3 steps
    TensorBatchSource val_feature_src(val_features, val.labels, 32);
    TensorBatchSource train_src(train.images, train.labels, 16, true, 2);  // 3 steps
    TensorBatchSource val_src(val.images, val.labels, 32);
    Recorder rec;
    {
      Trainer trainer(model, o, &rec);
      trainer.fitLinear(feature_src, &val_feature_src, 2, 1e-2);
      const auto result = trainer.fit(train_src, &val_src);
      QCOMPARE(result.epochs_run, 3);
      QVERIFY(result.best_epoch >= 3 && result.best_epoch <= 5);
    }
    QCOMPARE(rec.epochs.size(), size_t(5));
    for (size_t i = 0; i < rec.epochs.size(); ++i) QCOMPARE(rec.epochs[i].epoch, static_cast<int>(i) + 1);
    QCOMPARE(rec.steps.size(), size_t(15));
    for (size_t i = 0; i < rec.steps.size(); ++i) {
      QCOMPARE(rec.steps[i].global_step, static_cast<int64_t>(i) + 1);
      QCOMPARE(rec.steps[i].epoch, static_cast<int>(i / 3) + 1);
    }
    QCOMPARE(rec.checkpoint_epochs, (std::vector<int>{3, 4, 5}));
    QCOMPARE(rec.removed_epochs, (std::vector<int>{3}));  // keep the last 2
    QVERIFY(!QFile::exists(dir.filePath("epoch_003.pt")));
    QVERIFY(QFile::exists(dir.filePath("epoch_004.pt")) && QFile::exists(dir.filePath("epoch_005.pt")));

    // Resumed after run epoch 4 (fit()'s 2nd): the next epoch is 5 and its first step 13, as the first time.
    Recorder again;
    Trainer resumed(tinyMlspl(10), o, &again);
    resumed.resumeFrom(dir.filePath("epoch_004.pt").toStdString());
    QCOMPARE(again.resumed, (std::vector<std::pair<int, int64_t>>{{4, 12}}));
    const auto result = resumed.fit(train_src, &val_src);
    QCOMPARE(result.epochs_run, 1);
    QCOMPARE(again.epochs.size(), size_t(1));
    QCOMPARE(again.epochs[0].epoch, 5);
    QCOMPARE(again.steps.front().global_step, int64_t(13));
    QCOMPARE(again.steps.front().epoch, 5);
    QVERIFY(std::abs(again.epochs[0].train_loss - rec.epochs[4].train_loss) < 1e-6);
    QCOMPARE(again.checkpoint_epochs, (std::vector<int>{5}));
  }
};

QTEST_APPLESS_MAIN(TestTrainer)
#include "test_trainer.moc"
