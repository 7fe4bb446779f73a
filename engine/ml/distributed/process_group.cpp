#include "ml/distributed/process_group.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

#include "ml/distributed/process_group_impl.h"

namespace mls::dist {

namespace {

using Clock = std::chrono::steady_clock;

// A rank silent for this many heartbeat periods is taken for gone.
constexpr int kSilentPeriods = 4;

std::string seconds(std::chrono::milliseconds ms) {
  std::ostringstream out;
  out << static_cast<double>(ms.count()) / 1000.0 << " s";
  return out.str();
}

// First line of an exception's text, without c10's backtrace, capped so the error stays one line.
std::string firstLine(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string text = c10_error ? c10_error->what_without_backtrace() : e.what();
  text = text.substr(0, text.find('\n'));
  if (text.size() > 240) text = text.substr(0, 240) + "...";
  return text;
}

std::string aliveKey(int rank) { return "mls/alive/" + std::to_string(rank); }
std::string joinedKey(int rank) { return "mls/joined/" + std::to_string(rank); }

std::vector<uint8_t> bytes(const std::string& text) { return {text.begin(), text.end()}; }

bool isLoopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

c10::intrusive_ptr<c10d::TCPStore> openStore(const LaunchConfig& config, bool server) {
  c10d::TCPStoreOptions options;
  options.port = config.master_port;
  options.isServer = server;
  options.waitWorkers = false;  // joining is checked below, with a message naming the missing ranks
  options.timeout = config.timeout;
  const std::string where = config.master_addr + ":" + std::to_string(config.master_port);
  try {
    return c10::make_intrusive<c10d::TCPStore>(config.master_addr, options);
  } catch (const std::exception& e) {
    const std::string cause = firstLine(e);
    if (server) {
      if (cause.find("in use") != std::string::npos)
        throw DistributedError("rank 0 cannot host the rendezvous: port " + std::to_string(config.master_port) +
                               " is already in use (another run or program holds it; choose another MASTER_PORT)");
      throw DistributedError("rank 0 cannot host the rendezvous on port " + std::to_string(config.master_port) +
                             ": " + cause);
    }
    throw DistributedError("rank " + std::to_string(config.rank) + " could not reach the master at " + where +
                           " within " + seconds(config.timeout) +
                           " (is rank 0 running, and are MASTER_ADDR and MASTER_PORT right?): " + cause);
  }
}

// Every rank announces itself, then waits for all the others, so a rank that never starts is named.
void waitForAllRanks(c10d::Store& store, const LaunchConfig& config) {
  store.set(joinedKey(config.rank), bytes("1"));
  const auto deadline = Clock::now() + config.timeout;
  std::vector<std::string> keys;
  for (int r = 0; r < config.world_size; ++r) keys.push_back(joinedKey(r));
  for (;;) {
    std::vector<int> missing;
    for (int r = 0; r < config.world_size; ++r)
      if (!store.check({keys[static_cast<size_t>(r)]})) missing.push_back(r);
    if (missing.empty()) return;
    if (Clock::now() >= deadline) {
      std::string list;
      for (int r : missing) list += (list.empty() ? "" : ", ") + std::to_string(r);
      throw DistributedError("rank(s) " + list + " did not join the rendezvous at " + config.master_addr + ":" +
                             std::to_string(config.master_port) + " within " + seconds(config.timeout));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::shared_ptr<::gloo::transport::Device> glooDevice(const LaunchConfig& config, const ProcessGroupOptions& options) {
  std::string interface = options.interface;
  if (interface.empty()) {
    if (const char* env = std::getenv("GLOO_SOCKET_IFNAME")) interface = env;
  }
  if (!interface.empty()) return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  if (isLoopback(config.master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

c10::intrusive_ptr<c10d::ProcessGroup> createGlooGroup(const c10::intrusive_ptr<c10d::Store>& store,
                                                       const LaunchConfig& config, const ProcessGroupOptions& options) {
  auto gloo_options = c10d::ProcessGroupGloo::Options::create(config.timeout);
  gloo_options->devices.push_back(glooDevice(config, options));
  auto prefixed = c10::make_intrusive<c10d::PrefixStore>("gloo", store);
  // LibTorch 1.13: ProcessGroupGloo is itself a c10d::ProcessGroup. From 2.0 it is a c10d::Backend that must
  // be registered in a ProcessGroup (setBackend(kCPU, BackendType::GLOO, ...)); see engine/ml/CMakeLists.txt.
  return c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, config.rank, config.world_size, gloo_options);
}

struct Heartbeat {
  bool present = false;
  int64_t beat = 0;
  int64_t progress = 0;
};

Heartbeat readHeartbeat(c10d::Store& store, int rank) {
  Heartbeat h;
  if (!store.check({aliveKey(rank)})) return h;
  const auto value = store.get(aliveKey(rank));
  std::istringstream in(std::string(value.begin(), value.end()));
  h.present = static_cast<bool>(in >> h.beat >> h.progress);
  return h;
}

}  // namespace

ProcessGroup::Impl::~Impl() { stopHeartbeat(); }

void ProcessGroup::Impl::startHeartbeat() {
  heartbeat = std::thread([this] {
    int64_t beat = 0;
    std::unique_lock<std::mutex> lock(heartbeat_mutex);
    while (!stopping) {
      lock.unlock();
      try {
        heartbeat_store->set(aliveKey(config.rank),
                             bytes(std::to_string(++beat) + " " + std::to_string(progress.load())));
      } catch (const std::exception&) {
        return;  // the store host is gone; a collective will fail and say so
      }
      lock.lock();
      heartbeat_cv.wait_for(lock, options.heartbeat_period, [this] { return stopping; });
    }
  });
}

void ProcessGroup::Impl::stopHeartbeat() {
  {
    std::lock_guard<std::mutex> lock(heartbeat_mutex);
    stopping = true;
  }
  heartbeat_cv.notify_all();
  if (heartbeat.joinable()) heartbeat.join();
}

void ProcessGroup::Impl::run(ProcessGroup& owner, const std::string& what,
                             const c10::intrusive_ptr<c10d::Work>& work) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    owner.fail(what, e);
  }
}

ProcessGroup::ProcessGroup(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProcessGroup::~ProcessGroup() = default;

std::unique_ptr<ProcessGroup> ProcessGroup::connect(const LaunchConfig& config, const ProcessGroupOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->options = options;
  if (!config.distributed()) return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));

  const bool server = config.rank == 0;
  auto store = openStore(config, server);
  impl->store = store;
  try {
    waitForAllRanks(*store, config);
    // A second, client-only connection (also on rank 0, to its own store) for the heartbeat thread.
    impl->heartbeat_store = openStore(config, false);
    impl->group = createGlooGroup(store, config, options);
  } catch (const DistributedError&) {
    throw;
  } catch (const std::exception& e) {
    throw DistributedError("rank " + std::to_string(config.rank) + " failed to connect to the other ranks at " +
                           config.master_addr + ":" + std::to_string(config.master_port) + ": " + firstLine(e));
  }
  impl->startHeartbeat();
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(std::move(impl)));
}

int ProcessGroup::rank() const { return impl_->config.rank; }
int ProcessGroup::worldSize() const { return impl_->config.world_size; }
std::chrono::milliseconds ProcessGroup::timeout() const { return impl_->config.timeout; }
void ProcessGroup::markProgress() { impl_->progress.fetch_add(1); }

void ProcessGroup::allreduceSum(std::vector<at::Tensor>& tensors, const std::string& what) {
  if (!impl_->group || tensors.empty()) return;
  markProgress();
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  impl_->run(*this, what, impl_->group->allreduce(tensors, options));
}

void ProcessGroup::allreduceMax(std::vector<at::Tensor>& tensors, const std::string& what) {
  if (!impl_->group || tensors.empty()) return;
  markProgress();
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::MAX;
  impl_->run(*this, what, impl_->group->allreduce(tensors, options));
}

void ProcessGroup::broadcast(std::vector<at::Tensor>& tensors, int root, const std::string& what) {
  if (!impl_->group || tensors.empty()) return;
  markProgress();
  c10d::BroadcastOptions options;
  options.rootRank = root;
  impl_->run(*this, what, impl_->group->broadcast(tensors, options));
}

at::Tensor ProcessGroup::allgather(const at::Tensor& local, const std::string& what) {
  if (!impl_->group) return local.unsqueeze(0).clone();
  markProgress();
  std::vector<at::Tensor> input{local.contiguous()};
  std::vector<std::vector<at::Tensor>> output(1);
  for (int r = 0; r < worldSize(); ++r) output[0].push_back(torch::empty_like(input[0]));
  impl_->run(*this, what, impl_->group->allgather(output, input));
  return torch::stack(output[0]);
}

void ProcessGroup::barrier(const std::string& what) {
  if (!impl_->group) return;
  markProgress();
  impl_->run(*this, what, impl_->group->barrier());
}

void ProcessGroup::fail(const std::string& what, const std::exception& cause) {
  const int me = rank();
  const std::string detail = " [" + firstLine(cause) + "]";
  const std::string prefix = what + " failed on rank " + std::to_string(me) + ": ";
  if (!impl_->store) throw DistributedError(prefix + firstLine(cause));

  std::vector<Heartbeat> before(static_cast<size_t>(worldSize())), after(before.size());
  try {
    for (int r = 0; r < worldSize(); ++r) before[static_cast<size_t>(r)] = readHeartbeat(*impl_->store, r);
    std::this_thread::sleep_for(impl_->options.heartbeat_period * kSilentPeriods);
    for (int r = 0; r < worldSize(); ++r) after[static_cast<size_t>(r)] = readHeartbeat(*impl_->store, r);
  } catch (const std::exception&) {
    throw DistributedError(prefix + "lost rank 0, which hosts the rendezvous store (it exited, was killed or its host "
                                    "is unreachable)" + detail);
  }
  const auto silence = impl_->options.heartbeat_period * kSilentPeriods;
  std::string gone, stuck;
  const int64_t my_progress = impl_->progress.load();
  for (int r = 0; r < worldSize(); ++r) {
    if (r == me) continue;
    const auto& b = before[static_cast<size_t>(r)];
    const auto& a = after[static_cast<size_t>(r)];
    if (!a.present || (b.present && a.beat == b.beat)) {
      gone += (gone.empty() ? "" : ", ") + std::to_string(r);
    } else if (a.progress < my_progress) {
      stuck += (stuck.empty() ? "" : ", ") + std::to_string(r) + " (at step " + std::to_string(a.progress) + ")";
    }
  }
  if (!gone.empty())
    throw DistributedError(prefix + "rank " + gone + " is gone (no heartbeat for " + seconds(silence) +
                           ": it crashed, was killed or lost its network)" + detail);
  if (!stuck.empty())
    throw DistributedError(prefix + "rank " + stuck + " is alive but stuck behind rank " + std::to_string(me) +
                           " (at step " + std::to_string(my_progress) + ") and did not catch up within the " +
                           seconds(timeout()) + " timeout" + detail);
  throw DistributedError(prefix + firstLine(cause));
}

}  // namespace mls::dist
