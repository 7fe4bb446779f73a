// Data-parallel training across real processes: this executable starts itself twice as ranks 0 and 1
// (Gloo on 127.0.0.1, torchrun's variables) and compares them with one process doing the same steps.
//  - 2 ranks x batch b == 1 process x batch 2b after k SGD / Adam steps, also with gradient accumulation;
//  - the ranks end bit-identical (same averaged gradients), BatchNorm statistics follow rank 0 as in torch DDP;
//  - sharded validation scores gathered in dataset order equal the single-process scores (and so the mAP);
//  - a parameter missing from one rank's graph does not hang its bucket: it counts as zero (or as what accumulated);
//  - a killed or hung rank ends the other with an error naming it, within the timeout; a port in use or an
//    unreachable master is a clear error.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "../support/self_ranks.h"
#include "../support/tensor_compare.h"
#include "ml/batch_source.h"
#include "ml/distributed/distributed_sampler.h"
#include "ml/distributed/gradient_sync.h"
#include "ml/distributed/launch_env.h"
#include "ml/distributed/process_group.h"
#include "ml/metrics.h"

using namespace mls;
using namespace mls::dist;

namespace {

constexpr int kWorld = 2;
constexpr int64_t kTrainSize = 64;
constexpr int64_t kValSize = 21;  // odd: the last shard is padded
constexpr int64_t kFeatures = 12;
constexpr int64_t kClasses = 5;
constexpr uint64_t kShuffleSeed = 3;
constexpr int kWorkerFailed = 3;

struct Scenario {
  std::string optimizer = "sgd";  // "sgd" (momentum) or "adam"
  int steps = 6;                  // optimizer steps (an epoch is kTrainSize / (world * batch) steps)
  int batch = 8;                  // samples per rank and step
  int accumulation = 1;           // micro-batches per step
  int misbehave_at = -1;          // rank 1 stops at this step: "hang" sleeps, "die" waits to be killed
  std::string misbehaviour;
};

std::string encode(const Scenario& s) {
  return s.optimizer + ":" + std::to_string(s.steps) + ":" + std::to_string(s.batch) + ":" +
         std::to_string(s.accumulation) + ":" + std::to_string(s.misbehave_at) + ":" +
         (s.misbehaviour.empty() ? "-" : s.misbehaviour);
}

Scenario decode(const std::string& text) {
  const QStringList parts = QString::fromStdString(text).split(':');
  Scenario s;
  s.optimizer = parts.value(0).toStdString();
  s.steps = parts.value(1).toInt();
  s.batch = parts.value(2).toInt();
  s.accumulation = parts.value(3).toInt();
  s.misbehave_at = parts.value(4).toInt();
  s.misbehaviour = parts.value(5) == "-" ? "" : parts.value(5).toStdString();
  return s;
}

// Linear + BatchNorm + ReLU + Linear: BatchNorm makes per-rank batch statistics and buffer sync matter.
struct NetImpl : torch::nn::Module {
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::BatchNorm1d bn{nullptr};
  NetImpl() {
    // No bias before BatchNorm: its gradient is 0 up to rounding noise, which Adam would blow up to +-lr.
    fc1 = register_module("fc1", torch::nn::Linear(torch::nn::LinearOptions(kFeatures, 32).bias(false)));
    bn = register_module("bn", torch::nn::BatchNorm1d(32));
    fc2 = register_module("fc2", torch::nn::Linear(32, kClasses));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::relu(bn(fc1(x)))); }
};
TORCH_MODULE(Net);

Net makeNet(uint64_t seed) {
  torch::manual_seed(seed);
  return Net();
}

struct Data {
  torch::Tensor x, y, val_x, val_y;
};

Data makeData() {
  torch::manual_seed(7);
  Data d;
  d.x = torch::randn({kTrainSize, kFeatures});
  d.y = torch::bernoulli(torch::full({kTrainSize, kClasses}, 0.4));
  d.val_x = torch::randn({kValSize, kFeatures});
  d.val_y = torch::bernoulli(torch::full({kValSize, kClasses}, 0.4));
  return d;
}

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const std::string& name, Net& net) {
  if (name == "adam") return std::make_unique<torch::optim::Adam>(net->parameters(), torch::optim::AdamOptions(1e-2));
  return std::make_unique<torch::optim::SGD>(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
}

torch::Tensor lossOf(Net& net, const Data& d, const std::vector<int64_t>& rows) {
  const auto index = torch::tensor(rows, torch::kLong);
  return torch::binary_cross_entropy_with_logits(net->forward(d.x.index_select(0, index)), d.y.index_select(0, index));
}

std::vector<int64_t> slice(const std::vector<int64_t>& v, int64_t begin, int64_t count) {
  return {v.begin() + begin, v.begin() + begin + count};
}

int stepsPerEpoch(const Scenario& s) { return int(shardLength(kTrainSize, kWorld, false) / s.batch); }

// One rank of the run: RANK/WORLD_SIZE/MASTER_* come from the environment, as under torchrun.
int runWorker(const std::string& scenario_text, const std::string& out_dir) {
  const Scenario s = decode(scenario_text);
  try {
    const LaunchConfig config = resolveLaunch();
    auto group = ProcessGroup::connect(config);
    const int rank = group->rank();
    Net net = makeNet(100 + uint64_t(rank));  // different on each rank: the broadcast must fix it
    // Tiny buckets so that this small model spans three, launched in order from the hooks.
    GradientSyncOptions sync_options;
    sync_options.first_bucket_bytes = 64;
    sync_options.bucket_cap_bytes = 256;
    GradientSync sync(*group, net->parameters(), net->buffers(), sync_options);
    auto optimizer = makeOptimizer(s.optimizer, net);
    const Data data = makeData();
    const int64_t micro = s.batch / s.accumulation;
    ShardOptions shard_options;
    shard_options.seed = kShuffleSeed;

    net->train();
    for (int step = 0; step < s.steps; ++step) {
      if (rank == 1 && step == s.misbehave_at) {
        std::cout << "misbehaving " << s.misbehaviour << std::endl;
        std::this_thread::sleep_for(std::chrono::seconds(120));  // "hang"; "die": the test kills us here
      }
      const int epoch = step / stepsPerEpoch(s);
      const auto shard = shardIndices(kTrainSize, rank, kWorld, epoch, shard_options);
      const int64_t first = int64_t(step % stepsPerEpoch(s)) * s.batch;
      optimizer->zero_grad();
      for (int m = 0; m < s.accumulation; ++m) {
        sync.beforeForward();
        const auto loss = lossOf(net, data, slice(shard, first + m * micro, micro)) / s.accumulation;
        sync.backward(loss, m == s.accumulation - 1);
      }
      optimizer->step();
    }

    // Sharded validation, gathered in dataset order (running statistics from rank 0, as DDP's next forward would).
    sync.syncBuffers();
    net->eval();
    torch::NoGradGuard no_grad;
    ShardOptions val_options;
    val_options.shuffle = false;
    const auto val_shard = shardIndices(kValSize, rank, kWorld, 0, val_options);
    const auto local_scores =
        torch::sigmoid(net->forward(data.val_x.index_select(0, torch::tensor(val_shard, torch::kLong))));
    const auto scores = gatherInDatasetOrder(*group, local_scores, val_shard, kValSize);

    // AMP: an inf on rank 1 alone must skip the step on both ranks.
    const bool inf_agreed = sync.anyRankFoundInf(rank == 1);
    const bool clean_agreed = sync.anyRankFoundInf(false);

    // Parameters outside a rank's graph in the synced backward (DDP's find_unused_parameters): their buckets
    // must still complete, in order, with the accumulated gradient or zeros. One bucket each (b first).
    torch::Tensor unused_grads;
    auto a = torch::ones({3}, torch::requires_grad());
    auto b = torch::ones({2}, torch::requires_grad());
    GradientSyncOptions one_each;
    one_each.first_bucket_bytes = 4;
    one_each.bucket_cap_bytes = 4;
    GradientSync unused_sync(*group, {a, b}, {}, one_each);
    {
      torch::AutoGradMode grad_on(true);
      // Rank 1 leaves b out: a = (2 + 5) / 2, b = (3 + 0) / 2.
      unused_sync.backward(rank == 0 ? 2 * a.sum() + 3 * b.sum() : 5 * a.sum(), true);
      unused_grads = torch::cat({a.grad(), b.grad()}).clone();
      a.mutable_grad().zero_();
      b.mutable_grad().zero_();
      // Accumulated: each rank used the parameter missing from its synced micro-batch in the earlier one:
      // a = (1 + 1) / 2, b = (1 + 4) / 2.
      unused_sync.backward(rank == 0 ? a.sum() : 4 * b.sum(), false);
      unused_sync.backward(rank == 0 ? b.sum() : a.sum(), true);
      unused_grads = torch::cat({unused_grads, a.grad(), b.grad()});
    }

    std::vector<torch::Tensor> state;
    for (const auto& p : net->parameters()) state.push_back(p.detach().clone());
    for (const auto& b : net->buffers()) state.push_back(b.clone());
    state.push_back(scores);
    state.push_back(torch::tensor({int64_t(inf_agreed), int64_t(clean_agreed)}));
    state.push_back(unused_grads);
    state.push_back(torch::tensor(sync.bucketBytes(), torch::kLong));
    torch::save(state, out_dir + "/rank" + std::to_string(rank) + ".pt");
    group->barrier("final barrier");  // rank 0 hosts the store: it leaves last
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << std::endl;
    return kWorkerFailed;
  }
}

// The same k steps in one process: each step takes the world's shards together (2b samples). BatchNorm
// normalises per rank's batch in DDP (no SyncBatchNorm), so the reference runs one forward per rank's part
// and, because DDP hands rank 0's running statistics to everyone before each forward, keeps rank 0's update.
std::vector<torch::Tensor> referenceRun(const Scenario& s) {
  Net net = makeNet(100);
  auto optimizer = makeOptimizer(s.optimizer, net);
  const Data data = makeData();
  const int64_t micro = s.batch / s.accumulation;
  net->train();
  for (int step = 0; step < s.steps; ++step) {
    const int epoch = step / stepsPerEpoch(s);
    const int64_t first = int64_t(step % stepsPerEpoch(s)) * s.batch;
    // The union of the ranks' step-s batches is positions [2*first, 2*(first+b)) of the epoch's order.
    const auto order = epochOrder(kTrainSize, true, kShuffleSeed, epoch);
    optimizer->zero_grad();
    for (int m = 0; m < s.accumulation; ++m) {
      std::vector<torch::Tensor> saved;
      for (const auto& b : net->buffers()) saved.push_back(b.clone());
      for (int r = kWorld - 1; r >= 0; --r) {
        {
          torch::NoGradGuard no_grad;
          auto buffers = net->buffers();
          for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
        }
        std::vector<int64_t> rows;
        for (int64_t j = first + m * micro; j < first + (m + 1) * micro; ++j)
          rows.push_back(order[size_t(j * kWorld + r)]);
        (lossOf(net, data, rows) / (s.accumulation * kWorld)).backward();
      }
    }
    optimizer->step();
  }
  net->eval();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> state;
  for (const auto& p : net->parameters()) state.push_back(p.detach().clone());
  for (const auto& b : net->buffers()) state.push_back(b.clone());
  state.push_back(torch::sigmoid(net->forward(data.val_x)));
  return state;
}

double meanAp(const torch::Tensor& scores, const torch::Tensor& labels) {
  const auto s = scores.contiguous();
  const auto l = labels.to(torch::kUInt8).contiguous();
  return evaluateMultiLabel(std::vector<float>(s.data_ptr<float>(), s.data_ptr<float>() + s.numel()),
                            std::vector<uint8_t>(l.data_ptr<uint8_t>(), l.data_ptr<uint8_t>() + l.numel()),
                            size_t(s.size(0)), size_t(s.size(1)))
      .map;
}

uint16_t freePort() { return test::freeLoopbackPort(); }

LaunchConfig localConfig(int rank, uint16_t port, double timeout_seconds) {
  LaunchFlags flags;
  flags.rank = rank;
  flags.world_size = kWorld;
  flags.master_addr = "127.0.0.1";
  flags.master_port = port;
  flags.timeout_seconds = timeout_seconds;
  return resolveLaunch(flags, [](const std::string&) { return std::nullopt; });
}

// Both ranks as child processes of this test, with the folder they write their final state to.
struct Ranks : test::SelfRanks {
  QTemporaryDir dir;

  void start(const Scenario& s, double timeout_seconds) {
    SelfRanks::start(kWorld, {"--worker", QString::fromStdString(encode(s)), dir.path()}, timeout_seconds);
  }
  std::vector<torch::Tensor> state(int rank) {
    std::vector<torch::Tensor> s;
    torch::load(s, dir.filePath(QString("rank%1.pt").arg(rank)).toStdString());
    return s;
  }
};

}  // namespace

class TestDistributed : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void twoRanksMatchOneProcessWithTwiceTheBatch_data() {
    QTest::addColumn<QString>("optimizer");
    QTest::addColumn<int>("accumulation");
    QTest::newRow("SGD momentum") << "sgd" << 1;
    QTest::newRow("Adam, 2 accumulated micro-batches") << "adam" << 2;
  }

  void twoRanksMatchOneProcessWithTwiceTheBatch() {
    QFETCH(QString, optimizer);
    QFETCH(int, accumulation);
    Scenario s;
    s.optimizer = optimizer.toStdString();
    s.accumulation = accumulation;
    Ranks ranks;
    ranks.start(s, 60);
    for (int r = 0; r < kWorld; ++r) {
      const int code = ranks.finish(r, 120);
      QVERIFY2(code == 0, qPrintable(QString("rank %1 exit %2: %3").arg(r).arg(code).arg(ranks.errors(r))));
    }
    const auto rank0 = ranks.state(0), rank1 = ranks.state(1);
    const auto reference = referenceRun(s);
    const size_t params = 5, buffers = 3;  // fc1 w; bn w,b; fc2 w,b | running mean, var, batches tracked
    QCOMPARE(rank0.size(), params + buffers + 4);

    // Same averaged gradients on both ranks: identical parameters, bit for bit (and rank 0's buffers).
    for (size_t i = 0; i < params + buffers; ++i) QVERIFY(torch::equal(rank0[i], rank1[i]));

    // Against one process with twice the batch: float32 sums in a different order (all-reduce of two halves
    // vs one mean), amplified over 6 steps. Tolerance 1e-5 absolute on O(1) weights.
    double worst = 0;
    for (size_t i = 0; i < params + buffers; ++i) {
      QVERIFY(rank0[i].sizes() == reference[i].sizes());
      worst = std::max(worst, test::maxAbsDiff(rank0[i], reference[i]));
    }
    qInfo("%s: max |2 ranks - 1 process| over parameters and BatchNorm buffers = %.3g", qPrintable(optimizer), worst);
    QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
    QVERIFY(test::maxAbsDiff(reference[0], makeNet(100)->parameters()[0]) > 1e-3);  // it did train

    // Validation sharded over the ranks and gathered: the same scores in dataset order, so the same mAP.
    const auto& gathered = rank0[params + buffers];
    QVERIFY(gathered.sizes() == reference[params + buffers].sizes());
    QVERIFY(torch::equal(gathered, rank1[params + buffers]));
    const double score_diff = test::maxAbsDiff(gathered, reference[params + buffers]);
    qInfo("validation scores: max |gathered - single process| = %.3g", score_diff);
    QVERIFY(score_diff < 1e-5);
    const auto val_labels = makeData().val_y;
    QCOMPARE(meanAp(gathered, val_labels), meanAp(reference[params + buffers], val_labels));

    // AMP: inf found on rank 1 only -> both ranks skip; no inf anywhere -> both step.
    for (const auto* state : {&rank0, &rank1}) {
      const auto flags = (*state)[params + buffers + 1];
      QCOMPARE(flags[0].item<int64_t>(), int64_t(1));
      QCOMPARE(flags[1].item<int64_t>(), int64_t(0));
    }

    // A parameter without a gradient on one rank in the synced backward: zeros (or what accumulated) there.
    const auto expected_unused = torch::tensor({3.5f, 3.5f, 3.5f, 1.5f, 1.5f, 1.0f, 1.0f, 1.0f, 2.5f, 2.5f});
    QVERIFY(torch::equal(rank0[params + buffers + 2], expected_unused));
    QVERIFY(torch::equal(rank1[params + buffers + 2], expected_unused));

    // Buckets in reverse parameter order: {fc2 bias + weight: 20 + 640 B >= 64}, {bn bias + weight: 256 B},
    // {fc1 weight: 1536 B}.
    const auto buckets = rank0.back();
    QCOMPARE(buckets.numel(), int64_t(3));
    QCOMPARE(buckets[0].item<int64_t>(), int64_t(660));
    QCOMPARE(buckets[1].item<int64_t>(), int64_t(256));
    QCOMPARE(buckets[2].item<int64_t>(), int64_t(1536));
  }

  // Rank 1 is killed in the middle of training: rank 0 stops at the next gradient all-reduce and names it.
  void killedRankEndsTheOtherWithItsName() {
    Scenario s;
    s.misbehave_at = 2;
    s.misbehaviour = "die";
    Ranks ranks;
    const int timeout = 30;
    ranks.start(s, timeout);
    QProcess& victim = ranks.process(1);
    QVERIFY(victim.waitForReadyRead(60000));
    QVERIFY(QString::fromUtf8(victim.readAllStandardOutput()).contains("misbehaving die"));
    victim.kill();
    QVERIFY(victim.waitForFinished(10000));
    // Gloo notices the closed connection at once; the diagnosis waits 1 s for heartbeats. Bounded by the timeout.
    const int code = ranks.finish(0, timeout + 20);
    const QString message = ranks.errors(0);
    QCOMPARE(code, kWorkerFailed);
    QVERIFY2(message.contains("failed on rank 0: rank 1 is gone"), qPrintable(message));
    qInfo("%s", qPrintable(message.section("error: ", -1).trimmed()));
  }

  // Rank 1 hangs (alive, heartbeating, but never reaches the all-reduce): rank 0 gives up after the timeout.
  void hungRankEndsTheOtherWithinTheTimeout() {
    Scenario s;
    s.misbehave_at = 2;
    s.misbehaviour = "hang";
    Ranks ranks;
    const int timeout = 6;
    ranks.start(s, timeout);
    QElapsedTimer clock;
    QVERIFY(ranks.process(1).waitForReadyRead(60000));
    clock.start();
    const int code = ranks.finish(0, timeout + 30);
    const QString message = ranks.errors(0);
    QCOMPARE(code, kWorkerFailed);
    QVERIFY2(message.contains("rank 1 (at step") && message.contains("is alive but stuck behind rank 0"),
             qPrintable(message));
    QVERIFY2(message.contains("6 s timeout"), qPrintable(message));
    qInfo("%s", qPrintable(message.section("error: ", -1).trimmed()));
    qInfo("hung rank reported %.1f s after it stopped (timeout %d s)", clock.elapsed() / 1000.0, timeout);
  }

  void portInUseIsAClearError() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_ANY);
    addr.sin_port = 0;
    QCOMPARE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    QCOMPARE(::listen(fd, 1), 0);
    socklen_t length = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &length);
    const uint16_t port = ntohs(addr.sin_port);
    QString message;
    try {
      ProcessGroup::connect(localConfig(0, port, 5));
    } catch (const DistributedError& e) {
      message = e.what();
    }
    ::close(fd);
    QVERIFY2(message.contains(QString("port %1 is already in use").arg(port)), qPrintable(message));
  }

  void unreachableMasterIsAClearError() {
    const uint16_t port = freePort();  // nobody listens there
    QString message;
    try {
      ProcessGroup::connect(localConfig(1, port, 1.5));
    } catch (const DistributedError& e) {
      message = e.what();
    }
    QVERIFY2(message.contains(QString("rank 1 could not reach the master at 127.0.0.1:%1 within 1.5 s").arg(port)),
             qPrintable(message));
  }

  void missingRankIsNamedAtRendezvous() {
    QString message;
    try {
      ProcessGroup::connect(localConfig(0, freePort(), 1.5));
    } catch (const DistributedError& e) {
      message = e.what();
    }
    QVERIFY2(message.contains("rank(s) 1 did not join the rendezvous") && message.contains("within 1.5 s"),
             qPrintable(message));
  }

  // A world of one needs no network, and the synchroniser is then plain backward.
  void singleProcessNeedsNoNetwork() {
    auto group = ProcessGroup::connect(LaunchConfig{});
    QCOMPARE(group->worldSize(), 1);
    Net net = makeNet(1);
    GradientSync sync(*group, net->parameters(), net->buffers());
    sync.beforeForward();
    const Data data = makeData();
    sync.backward(lossOf(net, data, {0, 1, 2, 3}));
    QVERIFY(net->fc1->weight.grad().defined());
    QVERIFY(sync.anyRankFoundInf(true));
    QVERIFY(!sync.anyRankFoundInf(false));
    QVERIFY(sync.bucketBytes().empty());
    const auto scores = torch::rand({3, 2});
    QVERIFY(torch::equal(gatherInDatasetOrder(*group, scores, {0, 1, 2}, 3), scores));
  }
};

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--worker") return runWorker(argv[2], argv[3]);
  QCoreApplication app(argc, argv);
  TestDistributed test;
  return QTest::qExec(&test, argc, argv);
}

#include "test_distributed.moc"
