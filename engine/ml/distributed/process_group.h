// A connected group of ranks: rendezvous through c10d's TCPStore (rank 0 hosts it) and collectives through
// c10d's ProcessGroupGloo (CPU tensors). Every wait is bounded by the launch timeout, and a failure becomes
// one DistributedError that names the rank at fault (gone, or alive but stuck behind the others), found
// through heartbeats each rank posts to the store. The c10d headers stay in the .cpp files.
#pragma once
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "ml/distributed/launch_env.h"

namespace at {
class Tensor;
}

namespace mls::dist {

// Rendezvous or collective failure; what() is one line.
class DistributedError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ProcessGroupOptions {
  // Network interface for Gloo's connections (like GLOO_SOCKET_IFNAME, which is read when this is empty).
  // Empty: loopback when the master is local, else the address this host's name resolves to.
  std::string interface;
  // How often each rank posts its heartbeat to the store; a rank silent for 4 periods counts as gone.
  std::chrono::milliseconds heartbeat_period{250};
};

class ProcessGroup {
 public:
  // Joins the group described by `config` (world size 1 works without any network). Throws DistributedError
  // within config.timeout: port in use, master unreachable, a rank that never joins.
  static std::unique_ptr<ProcessGroup> connect(const LaunchConfig& config, const ProcessGroupOptions& options = {});
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const;
  int worldSize() const;
  std::chrono::milliseconds timeout() const;

  // Blocking collectives over CPU tensors, in the same order on every rank. `what` names the operation in
  // errors ("validation gather"). Tensors are modified in place.
  void allreduceSum(std::vector<at::Tensor>& tensors, const std::string& what);
  void allreduceMax(std::vector<at::Tensor>& tensors, const std::string& what);
  void broadcast(std::vector<at::Tensor>& tensors, int root, const std::string& what);
  // Every rank's `local` (same shape on all ranks) stacked along a new first dimension, in rank order.
  at::Tensor allgather(const at::Tensor& local, const std::string& what);
  void barrier(const std::string& what);

  // Converts a failure caught around a collective (including one raised inside backward by the gradient
  // all-reduce) into a DistributedError naming the rank at fault. Waits a few heartbeat periods to tell a
  // dead rank from a stuck one.
  [[noreturn]] void fail(const std::string& what, const std::exception& cause);
  // Counts this rank's progress (steps, collectives); a stuck rank is the one whose count stays behind.
  void markProgress();

  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  explicit ProcessGroup(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mls::dist
