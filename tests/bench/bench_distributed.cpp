// Data-parallel step on the CPU with 2 ranks (Gloo over 127.0.0.1): step time, all-reduce time and how much
// of the all-reduce hides behind backward. Started without RANK it launches itself as ranks 0..N-1
// (like torchrun); under torchrun or SLURM each process is one rank. Rank 0 prints the table.
//   bench_distributed [--ranks 2] [--layers 8] [--width 1536] [--batch 32] [--iters 10]
#include <torch/torch.h>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "ml/distributed/gradient_sync.h"
#include "ml/distributed/launch_env.h"
#include "ml/distributed/process_group.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int ranks = 2;
  int layers = 8;
  int width = 1536;
  int batch = 32;
  int iters = 10;
};

double msSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

torch::nn::Sequential makeModel(const Options& o) {
  torch::nn::Sequential model;
  for (int i = 0; i < o.layers; ++i) {
    model->push_back(torch::nn::Linear(o.width, o.width));
    model->push_back(torch::nn::ReLU());
  }
  return model;
}

int runRank(const Options& o) {
  torch::set_num_threads(1);  // ranks share the machine's cores
  const auto config = mls::dist::resolveLaunch();
  auto group = mls::dist::ProcessGroup::connect(config);
  torch::manual_seed(0);
  auto model = makeModel(o);
  mls::dist::GradientSync sync(*group, model->parameters(), model->buffers());
  torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(1e-3).momentum(0.9));
  const auto input = torch::randn({o.batch, o.width});

  int64_t grad_bytes = 0;
  for (const auto& p : model->parameters()) grad_bytes += p.numel() * int64_t(sizeof(float));

  std::vector<double> fwd, bwd_local, bwd_sync, allreduce, step;
  auto iteration = [&](bool record) {
    // Local: forward + backward without synchronisation (what a non-final accumulation micro-batch does).
    group->barrier("bench barrier");
    optimizer.zero_grad();
    sync.beforeForward();
    auto t = Clock::now();
    auto loss = model->forward(input).square().mean();
    const double f = msSince(t);
    t = Clock::now();
    sync.backward(loss, false);
    const double bl = msSince(t);

    // All-reduce alone, bucket by bucket as the Reducer sends them, nothing else running.
    std::vector<torch::Tensor> buckets;
    for (int64_t bytes : sync.bucketBytes()) buckets.push_back(torch::ones({bytes / int64_t(sizeof(float))}));
    if (buckets.empty()) buckets.push_back(torch::ones({grad_bytes / int64_t(sizeof(float))}));
    group->barrier("bench barrier");
    t = Clock::now();
    for (auto& b : buckets) {
      std::vector<torch::Tensor> one{b};
      group->allreduceSum(one, "bench all-reduce");
    }
    const double ar = msSince(t);

    // Synchronised step: all-reduces launched from autograd hooks during backward.
    group->barrier("bench barrier");
    const auto step_start = Clock::now();
    optimizer.zero_grad();
    sync.beforeForward();
    loss = model->forward(input).square().mean();
    t = Clock::now();
    sync.backward(loss, true);
    const double bs = msSince(t);
    optimizer.step();
    const double st = msSince(step_start);
    if (record) {
      fwd.push_back(f);
      bwd_local.push_back(bl);
      allreduce.push_back(ar);
      bwd_sync.push_back(bs);
      step.push_back(st);
    }
  };
  for (int i = 0; i < 2; ++i) iteration(false);  // the first synced step also rebuilds the buckets
  for (int i = 0; i < o.iters; ++i) iteration(true);

  if (group->rank() == 0) {
    const double f = median(fwd), bl = median(bwd_local), ar = median(allreduce), bs = median(bwd_sync),
                 st = median(step);
    const double exposed = std::max(0.0, bs - bl);
    const double overlap = ar > 0 ? std::clamp((bl + ar - bs) / ar, 0.0, 1.0) : 0.0;
    const double world = group->worldSize();
    const double bus_gbps = 2.0 * (world - 1) / world * double(grad_bytes) / (ar / 1000.0) / 1e9;
    std::string bucket_list;
    for (int64_t b : sync.bucketBytes()) bucket_list += (bucket_list.empty() ? "" : " ") + std::to_string(b >> 20);
    std::printf("bench_distributed: %d ranks (Gloo, 127.0.0.1, 1 thread each), MLP %d x Linear(%d), batch %d per rank,"
                " %d iterations (median)\n",
                group->worldSize(), o.layers, o.width, o.batch, o.iters);
    std::printf("gradients: %.1f MB in buckets of [%s] MiB\n", double(grad_bytes) / 1e6, bucket_list.c_str());
    std::printf("| metric | ms |\n|---|---|\n");
    std::printf("| forward | %.1f |\n| backward, no sync | %.1f |\n| all-reduce alone (all buckets) | %.1f |\n", f, bl, ar);
    std::printf("| backward + bucketed all-reduce | %.1f |\n| exposed communication | %.1f |\n", bs, exposed);
    std::printf("| step (zero_grad, forward, backward+sync, SGD) | %.1f |\n", st);
    std::printf("overlap: %.0f %% of the all-reduce hidden behind backward; all-reduce bus bandwidth %.2f GB/s;"
                " %.0f samples/s over %d ranks\n",
                overlap * 100.0, bus_gbps, world * o.batch / (st / 1000.0), group->worldSize());
  }
  group->barrier("bench end");
  return 0;
}

// Starts `ranks` copies of this program with torchrun's variables and waits for them.
int launch(const Options& o, char** argv) {
  const int port = 20000 + int(getpid() % 20000);
  std::vector<pid_t> children;
  for (int r = 0; r < o.ranks; ++r) {
    setenv("RANK", std::to_string(r).c_str(), 1);
    setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
    setenv("WORLD_SIZE", std::to_string(o.ranks).c_str(), 1);
    setenv("MASTER_ADDR", "127.0.0.1", 1);
    setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
    pid_t pid = 0;
    if (posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, environ) != 0) {
      std::fprintf(stderr, "bench_distributed: cannot start rank %d\n", r);
      return 1;
    }
    children.push_back(pid);
  }
  int failures = 0;
  for (pid_t pid : children) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failures;
  }
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const int value = std::atoi(argv[i + 1]);
    if (flag == "--ranks") o.ranks = value;
    else if (flag == "--layers") o.layers = value;
    else if (flag == "--width") o.width = value;
    else if (flag == "--batch") o.batch = value;
    else if (flag == "--iters") o.iters = value;
    else {
      std::fprintf(stderr, "bench_distributed: unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  try {
    if (!std::getenv("RANK") && !std::getenv("SLURM_PROCID")) return launch(o, argv);
    return runRank(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_distributed: %s\n", e.what());
    return 1;
  }
}
