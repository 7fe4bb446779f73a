// `train` across processes, like torchrun: the launcher flags start one worker process per local rank with
// torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), forward
// Ctrl-C / SIGTERM to them and end them all when one fails. A worker (started so, by torchrun, or by srun)
// finds its place from that environment (ml/distributed/launch_env.h). Plain POSIX (fork/exec, poll), no Qt.
#pragma once
#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

namespace mls::cli {

struct DistributedFlags {
  int nproc_per_node = 1;
  int nnodes = 1;
  int node_rank = 0;
  std::string master_addr;  // empty: 127.0.0.1 on one node
  int master_port = 0;      // 0: a free port on one node (torchrun --standalone), 29500 across nodes
  double timeout_seconds = 0;
  CLI::Option* node_rank_option = nullptr;
  CLI::Option* master_addr_option = nullptr;
  CLI::Option* master_port_option = nullptr;
  CLI::Option* timeout_option = nullptr;

  // More than one process to start from here.
  bool launcher() const { return nproc_per_node > 1 || nnodes > 1; }
};

// --nproc-per-node, --nnodes, --node-rank, --master-addr, --master-port, --dist-timeout.
std::shared_ptr<DistributedFlags> addDistributedFlags(CLI::App* cmd);

// Launcher mode: starts the local workers (this executable, `argv` minus the launcher flags), relays their
// output (rank 0's stdout and stderr as they are, the others' stderr lines prefixed "[rank N] ") and waits.
// Returns normally when every worker exited with 0; throws std::runtime_error naming the first rank that
// failed otherwise (the others get the distributed timeout to stop on their own, then are killed).
void launchWorkers(const DistributedFlags& flags, const std::vector<std::string>& argv);

// The timeout that --dist-timeout, else MLS_DIST_TIMEOUT, else the default gives (seconds).
double distributedTimeoutSeconds(const DistributedFlags& flags);

// Set in the workers the launcher starts: they leave prefixing their lines to it.
constexpr const char* kLaunchedByVariable = "MLS_LAUNCHER_PID";

}  // namespace mls::cli
