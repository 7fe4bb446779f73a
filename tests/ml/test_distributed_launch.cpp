// Launch settings for data-parallel runs (torchrun / SLURM variables, flags, SLURM host lists) and the
// distributed sampler's shards. Pure functions: no process group, no network.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <map>
#include <set>

#include "ml/batch_source.h"
#include "ml/distributed/distributed_sampler.h"
#include "ml/distributed/launch_env.h"

using namespace mls::dist;

namespace {

EnvironmentLookup fakeEnvironment(std::map<std::string, std::string> variables) {
  return [variables](const std::string& name) -> std::optional<std::string> {
    auto it = variables.find(name);
    if (it == variables.end()) return std::nullopt;
    return it->second;
  };
}

// The LaunchError message of resolveLaunch, or "" when it succeeds.
std::string launchError(const std::map<std::string, std::string>& variables, const LaunchFlags& flags = {}) {
  try {
    resolveLaunch(flags, fakeEnvironment(variables));
  } catch (const LaunchError& e) {
    return e.what();
  }
  return "";
}

std::string hostlistError(const std::string& list) {
  try {
    expandSlurmHostlist(list);
  } catch (const LaunchError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

class TestDistributedLaunch : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void singleProcessWithoutVariables() {
    const LaunchConfig config = resolveLaunch({}, fakeEnvironment({}));
    QCOMPARE(config.rank, 0);
    QCOMPARE(config.world_size, 1);
    QVERIFY(!config.distributed());
    QCOMPARE(config.timeout, std::chrono::milliseconds(kDefaultDistributedTimeout));
  }

  void torchrunVariables() {
    const LaunchConfig config = resolveLaunch(
        {}, fakeEnvironment({{"RANK", "5"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "4"},
                             {"MASTER_ADDR", "10.1.2.3"}, {"MASTER_PORT", "29600"}, {"MLS_DIST_TIMEOUT", "2.5"}}));
    QCOMPARE(config.rank, 5);
    QCOMPARE(config.world_size, 8);
    QCOMPARE(config.local_rank, 1);
    QCOMPARE(config.master_addr, std::string("10.1.2.3"));
    QCOMPARE(int(config.master_port), 29600);
    QCOMPARE(config.timeout.count(), int64_t(2500));
    QCOMPARE(config.source, std::string("torchrun"));
    QVERIFY(config.distributed());
  }

  void slurmVariables() {
    const LaunchConfig config = resolveLaunch(
        {}, fakeEnvironment({{"SLURM_PROCID", "6"}, {"SLURM_NTASKS", "16"}, {"SLURM_LOCALID", "2"},
                             {"SLURM_JOB_NODELIST", "gpu[07-10],login1"}, {"SLURM_JOB_ID", "4321987"}}));
    QCOMPARE(config.rank, 6);
    QCOMPARE(config.world_size, 16);
    QCOMPARE(config.local_rank, 2);
    QCOMPARE(config.master_addr, std::string("gpu07"));
    QCOMPARE(int(config.master_port), 15000 + 1987);  // derived from the job id, as PyTorch Lightning does
    QCOMPARE(config.source, std::string("SLURM"));
  }

  void torchrunInsideSlurmKeepsTorchrunNumbering() {
    const LaunchConfig config = resolveLaunch(
        {}, fakeEnvironment({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "3"}, {"MASTER_ADDR", "a"},
                             {"MASTER_PORT", "1234"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}));
    QCOMPARE(config.rank, 3);
    QCOMPARE(config.world_size, 4);
    QCOMPARE(config.source, std::string("torchrun"));
  }

  void slurmHonoursMasterAddrAndPort() {
    const LaunchConfig config = resolveLaunch(
        {}, fakeEnvironment({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_JOB_NODELIST", "n[1-2]"},
                             {"MASTER_ADDR", "head"}, {"MASTER_PORT", "40000"}}));
    QCOMPARE(config.master_addr, std::string("head"));
    QCOMPARE(int(config.master_port), 40000);
  }

  void flagsWinOverEnvironment() {
    LaunchFlags flags;
    flags.rank = 1;
    flags.world_size = 2;
    flags.master_addr = "127.0.0.1";
    flags.master_port = 31000;
    flags.timeout_seconds = 7;
    const LaunchConfig config = resolveLaunch(
        flags, fakeEnvironment({{"RANK", "0"}, {"WORLD_SIZE", "4"}, {"MASTER_ADDR", "x"}, {"MASTER_PORT", "1"}}));
    QCOMPARE(config.rank, 1);
    QCOMPARE(config.world_size, 2);
    QCOMPARE(config.local_rank, 1);
    QCOMPARE(int(config.master_port), 31000);
    QCOMPARE(config.timeout.count(), int64_t(7000));
    QCOMPARE(config.source, std::string("flags"));
    QVERIFY(QString::fromStdString(describe(config)).contains("rank 1 of 2"));
  }

  void inconsistentValuesAreNamed_data() {
    QTest::addColumn<QString>("variables");  // NAME=value;NAME=value
    QTest::addColumn<QString>("expected");
    QTest::newRow("rank >= world") << "RANK=2;WORLD_SIZE=2;MASTER_ADDR=a" << "rank 2 is outside 0..1";
    QTest::newRow("negative rank") << "RANK=-1;WORLD_SIZE=2;MASTER_ADDR=a" << "rank -1 is outside";
    QTest::newRow("zero world") << "RANK=0;WORLD_SIZE=0;MASTER_ADDR=a" << "world size must be at least 1";
    QTest::newRow("rank not a number") << "RANK=one;WORLD_SIZE=2" << "RANK is not an integer: 'one'";
    QTest::newRow("world missing") << "RANK=0" << "WORLD_SIZE is not set";
    QTest::newRow("rank missing") << "WORLD_SIZE=2" << "WORLD_SIZE is set but RANK is not";
    QTest::newRow("master missing") << "RANK=0;WORLD_SIZE=2" << "MASTER_ADDR is not set";
    QTest::newRow("bad port") << "RANK=0;WORLD_SIZE=2;MASTER_ADDR=a;MASTER_PORT=70000" << "MASTER_PORT must be a port";
    QTest::newRow("port text") << "RANK=0;WORLD_SIZE=2;MASTER_ADDR=a;MASTER_PORT=29500x" << "MASTER_PORT is not an integer";
    QTest::newRow("local rank > rank") << "RANK=1;WORLD_SIZE=2;LOCAL_RANK=2;MASTER_ADDR=a" << "local rank 2 must be in 0..rank";
    QTest::newRow("local world") << "RANK=3;WORLD_SIZE=4;LOCAL_RANK=2;LOCAL_WORLD_SIZE=2;MASTER_ADDR=a"
                                 << "LOCAL_RANK 2 is outside LOCAL_WORLD_SIZE 2";
    QTest::newRow("slurm ntasks") << "SLURM_PROCID=0" << "SLURM_NTASKS is not set";
    QTest::newRow("slurm nodelist") << "SLURM_PROCID=0;SLURM_NTASKS=2" << "neither MASTER_ADDR nor SLURM_JOB_NODELIST";
    QTest::newRow("slurm bad list") << "SLURM_PROCID=0;SLURM_NTASKS=2;SLURM_JOB_NODELIST=n[1-" << "unmatched '['";
    QTest::newRow("timeout") << "MLS_DIST_TIMEOUT=soon" << "MLS_DIST_TIMEOUT is not a number";
    QTest::newRow("timeout sign") << "MLS_DIST_TIMEOUT=-3" << "must be a positive number of seconds";
  }

  void inconsistentValuesAreNamed() {
    QFETCH(QString, variables);
    QFETCH(QString, expected);
    std::map<std::string, std::string> env;
    for (const QString& pair : variables.split(';')) {
      const int eq = int(pair.indexOf('='));
      env[pair.left(eq).toStdString()] = pair.mid(eq + 1).toStdString();
    }
    const QString message = QString::fromStdString(launchError(env));
    QVERIFY2(message.contains(expected), qPrintable(message));
    QVERIFY2(!message.contains('\n'), "errors are one line");
  }

  void partialFlagsAreRefused() {
    LaunchFlags flags;
    flags.rank = 0;
    QVERIFY(QString::fromStdString(launchError({}, flags)).contains("--rank and --world-size must be given together"));
  }

  void slurmHostlistExpansion() {
    using List = std::vector<std::string>;
    QCOMPARE(expandSlurmHostlist("node1"), List({"node1"}));
    QCOMPARE(expandSlurmHostlist("node[01-04],other"), List({"node01", "node02", "node03", "node04", "other"}));
    QCOMPARE(expandSlurmHostlist("gpu-[3,5-7]"), List({"gpu-3", "gpu-5", "gpu-6", "gpu-7"}));
    QCOMPARE(expandSlurmHostlist("n[8-11]"), List({"n8", "n9", "n10", "n11"}));  // no padding without a leading 0
    QCOMPARE(expandSlurmHostlist("r[1-2]-n[01-02].ib"), List({"r1-n01.ib", "r1-n02.ib", "r2-n01.ib", "r2-n02.ib"}));
    QCOMPARE(expandSlurmHostlist("a[1,3],b,c[007-008]"), List({"a1", "a3", "b", "c007", "c008"}));
  }

  void slurmFirstHost() {
    QCOMPARE(firstSlurmHost("node[01-04],other"), std::string("node01"));
    QCOMPARE(firstSlurmHost("login"), std::string("login"));
    QCOMPARE(firstSlurmHost("gpu[0099-0100,2000]"), std::string("gpu0099"));
    QCOMPARE(firstSlurmHost("r[2-3]-n[5-6]"), std::string("r2-n5"));
    // A huge range is not expanded just to find its first host.
    QCOMPARE(firstSlurmHost("big[1-999999999]"), std::string("big1"));
  }

  void malformedHostlists_data() {
    QTest::addColumn<QString>("list");
    QTest::addColumn<QString>("expected");
    QTest::newRow("empty") << "" << "empty entry";
    QTest::newRow("empty entry") << "a,,b" << "empty entry";
    QTest::newRow("unclosed") << "node[1-3" << "unmatched '['";
    QTest::newRow("stray close") << "node1-3]" << "unmatched ']'";
    QTest::newRow("reversed range") << "node[5-3]" << "bad range '5-3'";
    QTest::newRow("letters") << "node[a-c]" << "bad range 'a-c'";
    QTest::newRow("empty brackets") << "node[]" << "empty brackets";
    QTest::newRow("nested") << "node[[1-2]]" << "nested";
    QTest::newRow("too many") << "x[1-2000000]" << "too many hosts";
  }

  void malformedHostlists() {
    QFETCH(QString, list);
    QFETCH(QString, expected);
    const QString message = QString::fromStdString(hostlistError(list.toStdString()));
    QVERIFY2(message.contains(expected), qPrintable(message));
  }

  // DistributedSampler: per epoch the shards are disjoint (padding aside), cover the data, are equally
  // long, and are a deterministic function of (seed, epoch).
  void shardsDisjointCoveringEqualLength_data() {
    QTest::addColumn<int>("n");
    QTest::addColumn<int>("world");
    QTest::addColumn<bool>("dropLast");
    QTest::newRow("even") << 64 << 2 << false;
    QTest::newRow("pad") << 23 << 4 << false;
    QTest::newRow("drop") << 23 << 4 << true;
    QTest::newRow("world > n") << 3 << 8 << false;
    QTest::newRow("one rank") << 10 << 1 << false;
  }

  void shardsDisjointCoveringEqualLength() {
    QFETCH(int, n);
    QFETCH(int, world);
    QFETCH(bool, dropLast);
    ShardOptions options;
    options.seed = 11;
    options.drop_last = dropLast;
    const int64_t length = shardLength(n, world, dropLast);
    QCOMPARE(length, dropLast ? int64_t(n / world) : int64_t((n + world - 1) / world));
    for (int epoch = 0; epoch < 3; ++epoch) {
      std::map<int64_t, int> seen;
      std::vector<int64_t> interleaved;  // step-major union: what one process with world x the batch would see
      std::vector<std::vector<int64_t>> shards;
      for (int r = 0; r < world; ++r) {
        shards.push_back(shardIndices(n, r, world, epoch, options));
        QCOMPARE(int64_t(shards.back().size()), length);
        QCOMPARE(shardIndices(n, r, world, epoch, options), shards.back());  // deterministic
        for (int64_t i : shards.back()) {
          QVERIFY(i >= 0 && i < n);
          ++seen[i];
        }
      }
      for (int64_t slot = 0; slot < length; ++slot)
        for (int r = 0; r < world; ++r) interleaved.push_back(shards[size_t(r)][size_t(slot)]);
      const auto order = mls::epochOrder(n, true, options.seed, epoch);
      const int64_t total = length * world;
      if (dropLast) {
        QCOMPARE(int64_t(seen.size()), total);  // disjoint: every index once
        QCOMPARE(interleaved, std::vector<int64_t>(order.begin(), order.begin() + total));
      } else {
        QCOMPARE(int64_t(seen.size()), int64_t(n));  // covering
        for (int64_t p = 0; p < total; ++p) QCOMPARE(interleaved[size_t(p)], order[size_t(p % n)]);
        // Only the padding repeats, and only as often as it wraps around.
        for (const auto& [index, count] : seen) QVERIFY(count <= (total + n - 1) / n);
      }
    }
    if (n > 8) {
      QVERIFY(shardIndices(n, 0, world, 0, options) != shardIndices(n, 0, world, 1, options));  // reshuffled per epoch
      ShardOptions other = options;
      other.seed = 12;
      QVERIFY(shardIndices(n, 0, world, 0, options) != shardIndices(n, 0, world, 0, other));
    }
  }

  void unshuffledShardsInterleave() {
    ShardOptions options;
    options.shuffle = false;
    QCOMPARE(shardIndices(5, 0, 2, 0, options), std::vector<int64_t>({0, 2, 4}));
    QCOMPARE(shardIndices(5, 1, 2, 0, options), std::vector<int64_t>({1, 3, 0}));  // padded with index 0
    QVERIFY_EXCEPTION_THROWN(shardIndices(5, 2, 2, 0, options), std::invalid_argument);
  }
};

QTEST_GUILESS_MAIN(TestDistributedLaunch)
#include "test_distributed_launch.moc"
