// Where this process sits in a data-parallel run: rank, world size, local GPU, rendezvous address and timeout.
// Read from explicit flags, else torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR,
// MASTER_PORT), else SLURM's (SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, first host of SLURM_JOB_NODELIST),
// else a single process. Plain C++ (no Torch), so it is cheap to include and to test.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mls::dist {

// Bad or inconsistent launch settings; the message is one line naming the variable or flag.
class LaunchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// torch.distributed's default port (TCPStoreOptions::kDefaultPort).
constexpr uint16_t kDefaultMasterPort = 29500;
// Rendezvous, collectives and fault detection give up after this long unless told otherwise. Shorter than
// torch's 30 minutes so that a hung rank ends the run in minutes, long enough for a slow first step.
constexpr std::chrono::seconds kDefaultDistributedTimeout{300};

struct LaunchConfig {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;  // the GPU this rank uses (cuda:local_rank)
  std::string master_addr = "127.0.0.1";
  uint16_t master_port = kDefaultMasterPort;
  std::chrono::milliseconds timeout = kDefaultDistributedTimeout;
  std::string source = "single process";  // "flags", "torchrun", "SLURM" or "single process", for messages

  bool distributed() const { return world_size > 1; }
};

// Explicit settings (command-line flags); every set field wins over the environment.
struct LaunchFlags {
  std::optional<int> rank;
  std::optional<int> world_size;
  std::optional<int> local_rank;
  std::optional<std::string> master_addr;
  std::optional<int> master_port;
  std::optional<double> timeout_seconds;
};

// Looks a variable up; std::nullopt when unset. Tests pass a map, programs use processEnvironment().
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvironmentLookup processEnvironment();

// Resolves flags + environment into one checked configuration; throws LaunchError. Precedence: flags, then
// torchrun (RANK set), then SLURM (SLURM_PROCID set; torchrun inside SLURM keeps torchrun's numbering).
// MLS_DIST_TIMEOUT (seconds) sets the timeout when no flag does.
LaunchConfig resolveLaunch(const LaunchFlags& flags, const EnvironmentLookup& environment);
inline LaunchConfig resolveLaunch(const LaunchFlags& flags = {}) { return resolveLaunch(flags, processEnvironment()); }

// SLURM host lists ("node[01-04,07],gpu-a[1-2]-x,login"): expandSlurmHostlist gives every host in order,
// firstSlurmHost the first one (the rendezvous host). Throws LaunchError on malformed lists.
std::vector<std::string> expandSlurmHostlist(const std::string& hostlist);
std::string firstSlurmHost(const std::string& hostlist);

// One line describing the configuration, e.g. "rank 1 of 4 (local 1), master 10.0.0.1:29500, via torchrun".
std::string describe(const LaunchConfig& config);

}  // namespace mls::dist
