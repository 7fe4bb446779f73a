// The real Trainer data-parallel across processes: this executable starts itself as ranks 0 and 1 (Gloo on
// 127.0.0.1, torchrun's variables) and compares them with one process training on the same images.
//  - 2 ranks x batch b == 1 process x batch 2b after k steps (Q2L + ASL with AdamW and OneCycle, with EMA and
//    with gradient accumulation; MLSPL + ROLE, whose label estimator must match too). The ranks end
//    bit-identical (same averaged gradients, so the same EMA and estimator); against the single process the
//    parameters agree to kParamTolerance (float32 sums in another order), ROLE's to kRoleParamTolerance;
//  - sharded validation of an odd-sized set (padding) gives the single-process mAP exactly, raw and EMA,
//    on both ranks; only rank 0 writes and reports checkpoints;
//  - a checkpoint of 2 ranks resumes in 1 process and one of 1 process in 2 ranks, with the schedule at
//    completed epochs x this run's updates per epoch;
//  - the LinearInit phase (head on cached features) likewise, with its sharded validation;
//  - cancellation on one rank stops both at the same step; a NaN loss on one rank fails both, naming it;
//  - a killed rank ends the other with an error naming it, within the timeout.
// Models without BatchNorm and without dropout: DDP normalises each rank's batch on its own (no SyncBatchNorm)
// and dropout masks of 1 x 2b and 2 x b differ, so neither could match one process (test_distributed covers
// BatchNorm's buffer sync).
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <unistd.h>

#include <csignal>
#include <iostream>

#include "../support/self_ranks.h"
#include "../support/tensor_compare.h"
#include "ml/distributed/launch_env.h"
#include "ml/distributed/replicas.h"
#include "ml/models/backbone.h"
#include "ml/models/mlspl_classifier.h"
#include "ml/models/query2label.h"
#include "ml/tensor_batch_source.h"
#include "ml/training/one_cycle_schedule.h"
#include "ml/training/trainer.h"

using namespace mls;
using test::maxAbsDiff;

namespace {

constexpr int kWorld = 2;
constexpr int kClasses = 4;
constexpr int kSide = 16;
constexpr int64_t kTrainSize = 40;  // 5 steps of 2 x 4 per epoch: accumulation 2 ends on a partial group
constexpr int64_t kValSize = 13;    // odd: rank 1's shard is padded
constexpr int kWorkerFailed = 3;
// Parameters of 2 ranks x b against 1 process x 2b (max |diff|; each test prints the measured value). Q2L + ASL:
// the same arithmetic but for the order of float32 sums (each rank's batch mean, then the mean over ranks).
constexpr double kParamTolerance = 1e-5;
// ROLE (and EPR): the expected-positive regulariser squares the batch mean of the positive count, and under
// DDP each rank takes that mean over its own batch, so the gradients differ from one process's by a term in
// the spread of the ranks' counts (torch DDP running the MLSPL code would do the same). Adam turns a small
// gradient difference into up to about one update of the weight: 2e-3 for the network, 10x for the estimator.
constexpr double kRoleParamTolerance = 1e-4;
constexpr double kRoleEstimatorTolerance = 0.05;

// Conv-ReLU twice (stride 4): a backbone without BatchNorm.
class PlainCnn : public Backbone {
 public:
  PlainCnn() {
    conv1_ = register_module("conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 16, 3).stride(2).padding(1)));
    conv2_ = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(16, 32, 3).stride(2).padding(1)));
  }
  torch::Tensor forward(const torch::Tensor& x) override { return torch::relu(conv2_(torch::relu(conv1_(x)))); }
  int64_t outChannels() const override { return 32; }
  int64_t stride() const override { return 4; }

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
};

struct Scenario {
  std::string model = "q2l";  // "q2l" (ASL, full labels) or "role" (MLSPL classifier, single positives)
  int batch = 4;              // per process
  int epochs = 2;
  int accum = 1;
  double ema = 0;
  bool val = false;
  int kill_at = -1;    // rank 1 kills itself after this global step
  int cancel_at = -1;  // rank 1 alone is asked to stop after this global step
  bool nan = false;    // rank 1's training images are NaN
  std::string checkpoint_dir, resume;
};

std::string encode(const Scenario& s) {
  return QStringList{QString::fromStdString(s.model), QString::number(s.batch), QString::number(s.epochs),
                     QString::number(s.accum), QString::number(s.ema), QString::number(s.val ? 1 : 0),
                     QString::number(s.kill_at), QString::fromStdString(s.checkpoint_dir),
                     QString::fromStdString(s.resume), QString::number(s.cancel_at), QString::number(s.nan ? 1 : 0)}
      .join('|')
      .toStdString();
}

Scenario decode(const std::string& text) {
  const QStringList p = QString::fromStdString(text).split('|');
  Scenario s;
  s.model = p.value(0).toStdString();
  s.batch = p.value(1).toInt();
  s.epochs = p.value(2).toInt();
  s.accum = p.value(3).toInt();
  s.ema = p.value(4).toDouble();
  s.val = p.value(5) == "1";
  s.kill_at = p.value(6).toInt();
  s.checkpoint_dir = p.value(7).toStdString();
  s.resume = p.value(8).toStdString();
  s.cancel_at = p.value(9).toInt();
  s.nan = p.value(10) == "1";
  return s;
}

struct Data {
  torch::Tensor x, y, observed, val_x, val_y;
};

Data makeData() {
  torch::manual_seed(7);
  Data d;
  d.x = torch::randn({kTrainSize, 3, kSide, kSide});
  d.y = torch::bernoulli(torch::full({kTrainSize, kClasses}, 0.4));
  d.y.select(1, 0).fill_(1);  // every image has a positive
  // One observed positive per image (the MLSPL protocol): the first one.
  d.observed = torch::zeros_like(d.y);
  d.observed.scatter_(1, d.y.argmax(1, true), 1.0);
  d.val_x = torch::randn({kValSize, 3, kSide, kSide});
  d.val_y = torch::bernoulli(torch::full({kValSize, kClasses}, 0.5));
  return d;
}

// Different initial weights on every rank: attaching must broadcast rank 0's.
// The linear phase synchronises the head only (the backbone is not in its graph; the session builds it the
// same way on every rank, and fit() broadcasts all of it): there every rank starts from the same model.
std::shared_ptr<MultiLabelModel> makeModel(const Scenario& s, int rank) {
  torch::manual_seed(100 + uint64_t(s.model == "linear" ? 0 : rank));
  if (s.model == "role" || s.model == "linear") return std::make_shared<MlsplClassifier>(std::make_shared<PlainCnn>(), kClasses);
  auto c = Q2LConfig::smallCpu(kClasses);
  c.transformer.d_model = 32;
  c.transformer.dim_feedforward = 64;
  c.transformer.dropout = 0;  // 1 x 2b and 2 x b would draw different masks
  return std::make_shared<Query2Label>(std::make_shared<PlainCnn>(), c);
}

TrainerOptions optionsFor(const Scenario& s) {
  TrainerOptions o;
  o.device = "cpu";
  o.optimizer = "adamw";
  o.schedule = "onecycle";
  o.lr = 2e-3;
  o.epochs = s.epochs;
  o.grad_accum = s.accum;
  o.ema_decay = s.ema;
  o.checkpoint_dir = s.checkpoint_dir;
  o.keep_last_checkpoints = 0;
  if (s.model == "role") {
    o.loss.kind = LossKind::ROLE;
    o.loss.expected_positives = 1.6;
  } else if (s.model == "linear") {
    o.loss.kind = LossKind::AN;
  } else {
    o.loss = LossConfig::q2lCoco();
  }
  return o;
}

struct Recorder : TrainObserver {
  std::vector<double> lrs, losses, maps_raw, maps_ema;
  std::vector<std::string> messages;
  int checkpoints = 0;
  int rank = 0;
  int kill_at = -1, cancel_at = -1;
  CancelToken cancel;
  void onStep(const StepInfo& s) override {
    lrs.push_back(s.lr);
    losses.push_back(s.loss);
    if (rank == 1 && s.global_step == kill_at) std::raise(SIGKILL);
    if (rank == 1 && s.global_step == cancel_at) cancel.request();
  }
  void onEpoch(const EpochInfo& e) override {
    maps_raw.push_back(e.val_map_raw);
    maps_ema.push_back(e.val_map_ema);
  }
  void onCheckpoint(int, const std::string&, double) override { ++checkpoints; }
  void onMessage(MessageLevel, const std::string& m) override { messages.push_back(m); }
};

// What a run leaves: [info (epochs_run, checkpoints reported, best epoch, schedule message), lrs, losses,
// raw mAPs, EMA mAPs, estimates, parameters...].
std::vector<torch::Tensor> train(const Scenario& s, const std::shared_ptr<ReplicaGroup>& replicas) {
  const int rank = replicas ? replicas->rank() : 0;
  Data d = makeData();
  if (s.nan && rank == 1) d.x.fill_(NAN);
  Recorder rec;
  rec.rank = rank;
  rec.kill_at = s.kill_at;
  rec.cancel_at = s.cancel_at;
  Trainer trainer(makeModel(s, rank), optionsFor(s), &rec, rec.cancel);
  trainer.setReplicas(replicas);
  if (s.model == "role") trainer.setObservedLabels(d.observed);
  if (!s.resume.empty()) trainer.resumeFrom(s.resume);
  TrainResult result;
  if (s.model == "linear") {
    // LinearInit's phase on fixed pooled features: the head only, validated on shards.
    torch::manual_seed(8);
    const int64_t dim = trainer.model().pooledDim();
    TensorBatchSource train_features(torch::randn({kTrainSize, dim}), d.y, s.batch, true, 5);
    TensorBatchSource val_features(torch::randn({kValSize, dim}), d.val_y, 4);
    trainer.fitLinear(train_features, &val_features, s.epochs, 2e-2);
  } else {
    TensorBatchSource train_src(d.x, s.model == "role" ? d.observed : d.y, s.batch, true, 5);
    TensorBatchSource val_src(d.val_x, d.val_y, 4);
    result = trainer.fit(train_src, s.val ? &val_src : nullptr);
  }
  bool schedule_message = false;
  for (const auto& m : rec.messages) schedule_message |= m.find("the schedule continues at update") != std::string::npos;
  auto doubles = [](const std::vector<double>& v) { return torch::tensor(v, torch::kDouble); };
  std::vector<torch::Tensor> out{
      torch::tensor({double(result.epochs_run), double(rec.checkpoints), double(result.best_epoch),
                     schedule_message ? 1.0 : 0.0, result.cancelled ? 1.0 : 0.0},
                    torch::kDouble),
      doubles(rec.lrs), doubles(rec.losses), doubles(rec.maps_raw), doubles(rec.maps_ema)};
  const auto estimates = trainer.labelEstimates();
  out.push_back(estimates.defined() ? estimates : torch::zeros({1}));
  for (const auto& p : trainer.model().parameters()) out.push_back(p.detach().clone());
  return out;
}

int runWorker(const std::string& text, const std::string& out_dir) {
  torch::set_num_threads(1);
  try {
    auto replicas = dist::connectReplicas(dist::resolveLaunch());
    const auto out = train(decode(text), replicas);
    torch::save(out, out_dir + "/rank" + std::to_string(replicas->rank()) + ".pt");
    replicas->barrier("final barrier");  // rank 0 hosts the store: it leaves last
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return kWorkerFailed;
  }
}

uint16_t freePort() { return test::freeLoopbackPort(); }

// Both ranks as child processes of this test, with the folder they write their final state to.
struct Ranks : test::SelfRanks {
  QTemporaryDir dir;

  void start(const Scenario& s, double timeout_seconds = 60) {
    SelfRanks::start(kWorld, {"--worker", QString::fromStdString(encode(s)), dir.path()}, timeout_seconds);
  }
  std::vector<torch::Tensor> state(int rank) {
    std::vector<torch::Tensor> s;
    torch::load(s, dir.filePath(QString("rank%1.pt").arg(rank)).toStdString());
    return s;
  }
};

// Peers that are never reached: enough for the checks fit() makes before its first collective.
class UnreachedPeers : public ReplicaGroup {
 public:
  int rank() const override { return 0; }
  int worldSize() const override { return 2; }
  void attach(const std::vector<at::Tensor>&, const std::vector<at::Tensor>&) override { fail(); }
  void beforeForward() override { fail(); }
  void backward(const at::Tensor&, bool) override { fail(); }
  bool anyRank(bool, const std::string&) override { fail(); }
  at::Tensor gatherInDatasetOrder(const at::Tensor&, const std::vector<int64_t>&, int64_t, const std::string&) override {
    fail();
  }
  void barrier(const std::string&) override { fail(); }

 private:
  [[noreturn]] static void fail() { throw std::logic_error("no peers in this test"); }
};

// A source without setShard (BatchSource's default).
class WholeOnlySource : public TensorBatchSource {
 public:
  using TensorBatchSource::TensorBatchSource;
  void setShard(const Shard& shard) override { BatchSource::setShard(shard); }
};

enum Slot { kInfo = 0, kLrs, kLosses, kMapsRaw, kMapsEma, kEstimates, kParams };

// Largest parameter difference, and where. The key bias of attention (the middle third of in_proj_bias) is left
// out: softmax over the keys ignores a constant added to every score, so its gradient is zero but for rounding
// noise, which Adam normalises up to +-lr per step in one run and not in the other.
std::pair<double, std::string> maxParamDiff(const Scenario& s, const std::vector<torch::Tensor>& a,
                                            const std::vector<torch::Tensor>& b) {
  const auto names = makeModel(s, 0)->named_parameters().keys();
  std::pair<double, std::string> worst{0.0, ""};
  for (size_t i = kParams; i < a.size() && i < b.size(); ++i) {
    const std::string& name = names.at(i - kParams);
    auto x = a[i], y = b[i];
    if (name.find("in_proj_bias") != std::string::npos) {
      const auto xs = x.chunk(3), ys = y.chunk(3);
      x = torch::cat({xs[0], xs[2]});
      y = torch::cat({ys[0], ys[2]});
    }
    const double d = maxAbsDiff(x, y);
    if (d > worst.first) worst = {d, name};
  }
  return worst;
}

// Equal element for element, NaN equal to NaN (mAPs without validation).
bool same(const torch::Tensor& a, const torch::Tensor& b) {
  return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() && torch::allclose(a, b, 0.0, 0.0, true);
}

// -1 when equal from kLrs on, else the first slot that differs.
int firstDifference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return 0;
  for (size_t i = kLrs; i < a.size(); ++i)
    if (!same(a[i], b[i])) return int(i);
  return -1;
}

double value(const std::vector<torch::Tensor>& s, Slot slot, int64_t i) { return s[slot][i].item<double>(); }

// The OneCycle rate this run uses at update `position` of `total`.
double oneCycleLr(int64_t position, int64_t total) {
  OneCycleOptions o;
  o.max_lr = 2e-3;
  o.total_steps = total;
  o.pct_start = TrainerOptions{}.pct_start;
  return OneCycleSchedule(o).lr(position);
}

}  // namespace

class TestDistributedTrainer : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void twoRanksMatchOneProcessWithTwiceTheBatch_data() {
    QTest::addColumn<QString>("model");
    QTest::addColumn<int>("accum");
    QTest::addColumn<double>("ema");
    QTest::addColumn<bool>("val");
    QTest::newRow("Q2L ASL AdamW OneCycle, EMA, odd validation set") << "q2l" << 1 << 0.9 << true;
    QTest::newRow("Q2L, gradient accumulation 2") << "q2l" << 2 << 0.0 << false;
    QTest::newRow("MLSPL ROLE") << "role" << 1 << 0.0 << false;
    QTest::newRow("LinearInit phase (head on features), odd validation set") << "linear" << 1 << 0.0 << true;
  }

  void twoRanksMatchOneProcessWithTwiceTheBatch() {
    QFETCH(QString, model);
    QFETCH(int, accum);
    QFETCH(double, ema);
    QFETCH(bool, val);
    QTemporaryDir checkpoints;
    Scenario s;
    s.model = model.toStdString();
    s.accum = accum;
    s.ema = ema;
    s.val = val;
    s.checkpoint_dir = checkpoints.path().toStdString();  // set on both ranks: only rank 0 writes
    Ranks ranks;
    ranks.start(s);
    for (int r = 0; r < kWorld; ++r) {
      const int code = ranks.finish(r, 120);
      QVERIFY2(code == 0, qPrintable(QString("rank %1 exit %2: %3").arg(r).arg(code).arg(ranks.errors(r))));
    }
    const auto rank0 = ranks.state(0), rank1 = ranks.state(1);

    Scenario one = s;
    one.batch = kWorld * s.batch;
    one.checkpoint_dir.clear();
    const auto reference = train(one, nullptr);

    // The ranks: the same weights, estimator, EMA (hence EMA mAP), losses and rates, bit for bit.
    QCOMPARE(firstDifference(rank0, rank1), -1);
    if (s.model != "linear") {  // the linear phase writes no checkpoints
      QCOMPARE(value(rank0, kInfo, 1), double(s.epochs));  // rank 0 reported a checkpoint per epoch
      QCOMPARE(value(rank1, kInfo, 1), 0.0);                // rank 1 none
      QCOMPARE(QDir(checkpoints.path()).entryList({"epoch_*.pt"}).size(), s.epochs);
    }

    // Against one process with the whole batch.
    QCOMPARE(rank0[kLrs].size(0), reference[kLrs].size(0));
    QVERIFY(torch::equal(rank0[kLrs], reference[kLrs]));
    const double loss_diff = maxAbsDiff(rank0[kLosses], reference[kLosses]);
    const auto [param_diff, worst_param] = maxParamDiff(s, rank0, reference);
    const double estimate_diff = maxAbsDiff(rank0[kEstimates], reference[kEstimates]);
    qInfo("max |diff| vs one process: parameters %.3g (%s), estimator %.3g, step losses %.3g", param_diff,
          worst_param.c_str(), estimate_diff, loss_diff);
    const bool role = s.model == "role";
    QVERIFY2(param_diff <= (role ? kRoleParamTolerance : kParamTolerance), qPrintable(QString::number(param_diff)));
    QVERIFY2(estimate_diff <= (role ? kRoleEstimatorTolerance : 0.0), qPrintable(QString::number(estimate_diff)));
    // Step losses: the mean over the ranks against the whole batch's (ROLE: the regulariser again).
    QVERIFY2(loss_diff <= (role ? 1e-3 : 1e-4), qPrintable(QString::number(loss_diff)));
    if (s.model == "role") QVERIFY(rank0[kEstimates].numel() == kTrainSize * kClasses);
    if (val) {
      // Gathered in dataset order, padding dropped: the single-process mAP exactly, raw and EMA.
      QVERIFY(same(rank0[kMapsRaw], reference[kMapsRaw]));
      QVERIFY(same(rank0[kMapsEma], reference[kMapsEma]));
      if (s.ema > 0) QVERIFY(!std::isnan(value(rank0, kMapsEma, 0)));
      QVERIFY(!std::isnan(value(rank0, kMapsRaw, 0)));
      QCOMPARE(value(rank0, kInfo, 2), value(reference, kInfo, 2));  // best epoch
    }
  }

  // A source that cannot be split is a TrainingError before any collective.
  void unshardableSourceIsATrainingError() {
    Scenario s;
    const Data d = makeData();
    Trainer trainer(makeModel(s, 0), optionsFor(s));
    trainer.setReplicas(std::make_shared<UnreachedPeers>());
    WholeOnlySource source(d.x, d.y, 4);
    QString message;
    try {
      trainer.fit(source, nullptr);
    } catch (const TrainingError& e) {
      message = e.what();
    }
    QVERIFY2(message.startsWith("the training data cannot be split across 2 ranks"), qPrintable(message));
  }

  // Rank 1 alone is asked to stop (a SIGINT reaches the ranks at different moments): both stop at the same
  // step, and both report a cancelled run.
  void cancellationIsAgreed() {
    Scenario s;
    s.cancel_at = 3;
    Ranks ranks;
    ranks.start(s);
    for (int r = 0; r < kWorld; ++r) QVERIFY2(ranks.finish(r, 120) == 0, qPrintable(ranks.errors(r)));
    const auto rank0 = ranks.state(0), rank1 = ranks.state(1);
    QCOMPARE(value(rank0, kInfo, 4), 1.0);
    QCOMPARE(value(rank1, kInfo, 4), 1.0);
    QCOMPARE(rank0[kLrs].size(0), int64_t(3));  // steps 1-3 reported; the 4th was dropped on both
    QCOMPARE(firstDifference(rank0, rank1), -1);
  }

  // A NaN loss on rank 1 only: both ranks fail at the same step, naming rank 1.
  void nanLossOnOneRankFailsAll() {
    Scenario s;
    s.nan = true;
    Ranks ranks;
    ranks.start(s);
    for (int r = 0; r < kWorld; ++r) {
      QCOMPARE(ranks.finish(r, 120), kWorkerFailed);
      const auto message = ranks.errors(r);
      QVERIFY2(message.contains("on rank 1 at epoch 1 step 1"), qPrintable(message));
    }
  }

  // A checkpoint written by 2 ranks after epoch 1 continues in 1 process at batch b, which makes twice the
  // updates per epoch; the schedule goes on at 1 x this run's updates per epoch.
  void twoRankCheckpointResumesInOneProcess() {
    QTemporaryDir checkpoints;
    Scenario s;
    s.checkpoint_dir = checkpoints.path().toStdString();
    Ranks ranks;
    ranks.start(s);
    for (int r = 0; r < kWorld; ++r) QVERIFY2(ranks.finish(r, 120) == 0, qPrintable(ranks.errors(r)));

    Scenario one;  // batch 4 in one process: 10 updates per epoch
    one.resume = checkpoints.filePath("epoch_001.pt").toStdString();
    const auto resumed = train(one, nullptr);
    const int64_t updates = kTrainSize / one.batch;
    QCOMPARE(value(resumed, kInfo, 0), 1.0);  // ran epoch 2 to its end
    QCOMPARE(value(resumed, kInfo, 4), 0.0);
    QCOMPARE(value(resumed, kInfo, 3), 1.0);  // said the schedule position was recomputed
    QCOMPARE(resumed[kLrs].size(0), updates);
    QCOMPARE(value(resumed, kLrs, 0), oneCycleLr(updates, updates * one.epochs));
    QCOMPARE(value(resumed, kLrs, updates - 1), oneCycleLr(2 * updates - 1, updates * one.epochs));
  }

  // And back: one process's checkpoint (10 updates per epoch) continues on 2 ranks (5 per epoch).
  void oneProcessCheckpointResumesOnTwoRanks() {
    QTemporaryDir checkpoints;
    Scenario one;
    one.epochs = 2;
    one.checkpoint_dir = checkpoints.path().toStdString();
    train(one, nullptr);

    Scenario s;
    s.resume = checkpoints.filePath("epoch_001.pt").toStdString();
    Ranks ranks;
    ranks.start(s);
    for (int r = 0; r < kWorld; ++r) QVERIFY2(ranks.finish(r, 120) == 0, qPrintable(ranks.errors(r)));
    const auto rank0 = ranks.state(0), rank1 = ranks.state(1);
    QCOMPARE(firstDifference(rank0, rank1), -1);
    const int64_t updates = kTrainSize / (kWorld * s.batch);
    QCOMPARE(value(rank0, kInfo, 0), 1.0);
    QCOMPARE(value(rank0, kInfo, 3), 1.0);
    QCOMPARE(rank0[kLrs].size(0), updates);
    QCOMPARE(value(rank0, kLrs, 0), oneCycleLr(updates, updates * s.epochs));
  }

  // Rank 1 dies at step 3: rank 0 fails at its next collective with an error naming rank 1, well within the
  // timeout (10 s).
  void killedRankEndsTheOtherWithItsName() {
    Scenario s;
    s.epochs = 4;
    s.kill_at = 3;
    Ranks ranks;
    QElapsedTimer clock;
    clock.start();
    ranks.start(s, 10);
    QCOMPARE(ranks.finish(1, 60), -2);  // killed
    const int code = ranks.finish(0, 30);
    const auto message = ranks.errors(0);
    qInfo("rank 0 ended %.1f s after the start: %s", clock.elapsed() / 1000.0, qPrintable(message.trimmed()));
    QCOMPARE(code, kWorkerFailed);
    QVERIFY2(message.contains("rank 1 is gone"), qPrintable(message));
  }
};

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--worker") return runWorker(argv[2], argv[3]);
  torch::set_num_threads(1);
  QCoreApplication app(argc, argv);
  TestDistributedTrainer test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_distributed_trainer.moc"
