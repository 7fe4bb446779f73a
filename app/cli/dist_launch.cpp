// The `train` launcher: torchrun's job for one node (torch/distributed/run.py and its elastic agent), without
// the elastic parts (no restarts, no membership changes).
#include "dist_launch.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "ml/distributed/launch_env.h"

extern char** environ;

namespace mls::cli {

namespace {

volatile sig_atomic_t g_signals = 0;      // SIGINT/SIGTERM received by the launcher
volatile sig_atomic_t g_last_signal = 0;  // the latest of them

extern "C" void onLauncherSignal(int sig) {
  g_last_signal = sig;
  g_signals = g_signals + 1;
}

const char* signalName(int sig) {
  switch (sig) {
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGHUP: return "SIGHUP";
    case SIGPIPE: return "SIGPIPE";
    default: return "?";
  }
}

void writeAll(int fd, const std::string& text) {
  const char* p = text.data();
  size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void note(const std::string& line) { writeAll(STDERR_FILENO, "launcher: " + line + "\n"); }

// Binds `port` (0: any free one) on every interface as c10d's TCPStore server does; returns the port bound,
// or 0 when it is taken. SO_REUSEADDR so that a port left in TIME_WAIT by an earlier run counts as free.
int tryBind(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("cannot open a socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  int bound = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) bound = ntohs(addr.sin_port);
  } else if (errno != EADDRINUSE && errno != EACCES) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error("cannot check port " + std::to_string(port) + ": " + std::strerror(err));
  }
  ::close(fd);
  return bound;
}

bool isLauncherFlag(const std::string& arg, bool& takes_value) {
  for (const char* name : {"--nproc-per-node", "--nnodes", "--node-rank", "--master-addr", "--master-port"}) {
    const std::string n(name);
    if (arg == n) return takes_value = true;
    if (arg.rfind(n + "=", 0) == 0) {
      takes_value = false;
      return true;
    }
  }
  return false;
}

struct Worker {
  int rank = 0;
  int local_rank = 0;
  pid_t pid = -1;
  int err_fd = -1;  // read end of the stderr pipe (ranks > 0), -1 when inherited
  std::string pending;
  bool running = false;
};

// Relays complete lines of a worker's stderr with its rank in front; `all` also flushes a last partial line.
void relay(Worker& w, bool all) {
  if (w.err_fd >= 0) {
    char buffer[8192];
    while (true) {
      const ssize_t n = ::read(w.err_fd, buffer, sizeof buffer);
      if (n > 0) {
        w.pending.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {  // end of file: the worker and its children closed it
        ::close(w.err_fd);
        w.err_fd = -1;
        all = true;
      }
      break;  // EAGAIN: nothing more for now
    }
  }
  std::string out;
  size_t start = 0, end;
  while ((end = w.pending.find('\n', start)) != std::string::npos) {
    std::string line = w.pending.substr(start, end - start);
    if (const auto cr = line.find_last_of('\r'); cr != std::string::npos) line = line.substr(cr + 1);  // progress redraws
    out += "[rank " + std::to_string(w.rank) + "] " + line + "\n";
    start = end + 1;
  }
  w.pending.erase(0, start);
  if (all && !w.pending.empty()) {
    out += "[rank " + std::to_string(w.rank) + "] " + w.pending + "\n";
    w.pending.clear();
  }
  if (!out.empty()) writeAll(STDERR_FILENO, out);
}

std::string describeExit(int rank, int status) {
  if (WIFSIGNALED(status))
    return "rank " + std::to_string(rank) + " was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
           signalName(WTERMSIG(status)) + ")";
  return "rank " + std::to_string(rank) + " exited with code " + std::to_string(WEXITSTATUS(status));
}

std::string selfExecutable() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot find this executable (/proc/self/exe): " + ec.message());
  return self.string();
}

}  // namespace

std::shared_ptr<DistributedFlags> addDistributedFlags(CLI::App* cmd) {
  auto f = std::make_shared<DistributedFlags>();
  const std::string group = "Data-parallel (torchrun's flags; workers started by torchrun or srun need none)";
  cmd->add_option("--nproc-per-node", f->nproc_per_node, "Processes (GPUs) on this node; > 1 starts them from here")
      ->check(CLI::Range(1, 1024))
      ->group(group);
  cmd->add_option("--nnodes", f->nnodes, "Nodes of the run (start it on every node with its --node-rank)")
      ->check(CLI::Range(1, 4096))
      ->group(group);
  f->node_rank_option = cmd->add_option("--node-rank", f->node_rank, "This node's rank, 0..nnodes-1")
                            ->check(CLI::Range(0, 4095))
                            ->group(group);
  f->master_addr_option =
      cmd->add_option("--master-addr", f->master_addr, "Host of node rank 0 (rendezvous); default 127.0.0.1 on one node")
          ->group(group);
  f->master_port_option = cmd->add_option("--master-port", f->master_port,
                                          "Rendezvous port; default a free one on one node, 29500 across nodes")
                              ->check(CLI::Range(1, 65535))
                              ->group(group);
  f->timeout_option =
      cmd->add_option("--dist-timeout", f->timeout_seconds,
                      "Seconds a rank waits for the others (rendezvous, collectives) before failing; default " +
                          std::to_string(dist::kDefaultDistributedTimeout.count()) + " or MLS_DIST_TIMEOUT")
          ->check(CLI::PositiveNumber)
          ->group(group);
  return f;
}

double distributedTimeoutSeconds(const DistributedFlags& flags) {
  if (flags.timeout_option && flags.timeout_option->count() > 0) return flags.timeout_seconds;
  if (const char* v = std::getenv("MLS_DIST_TIMEOUT")) {
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (*v != '\0' && *end == '\0' && s > 0) return s;
  }
  return static_cast<double>(dist::kDefaultDistributedTimeout.count());
}

void launchWorkers(const DistributedFlags& flags, const std::vector<std::string>& argv) {
  const int nproc = flags.nproc_per_node;
  const int world = nproc * flags.nnodes;
  if (flags.node_rank >= flags.nnodes)
    throw std::invalid_argument("--node-rank " + std::to_string(flags.node_rank) + " must be below --nnodes " +
                                std::to_string(flags.nnodes));
  if (flags.nnodes > 1 && flags.master_addr.empty())
    throw std::invalid_argument("--nnodes " + std::to_string(flags.nnodes) +
                                " needs --master-addr: the host of node rank 0, reachable from every node");
  const std::string master_addr = flags.master_addr.empty() ? "127.0.0.1" : flags.master_addr;
  int port = flags.master_port;
  if (port == 0 && flags.nnodes == 1) {
    port = tryBind(0);  // torchrun --standalone: a free port (it could be taken again before rank 0 binds it)
    if (port == 0) throw std::runtime_error("cannot find a free port for the rendezvous");
  } else if (port == 0) {
    port = dist::kDefaultMasterPort;
  }
  // Rank 0 hosts the rendezvous here: a taken port is one clear line now, not a failed rank 0 and the others
  // waiting out the timeout.
  if (flags.node_rank == 0 && tryBind(port) == 0)
    throw std::runtime_error("port " + std::to_string(port) + " is already in use on this machine (another run or " +
                             "program holds it): choose another --master-port" +
                             (flags.nnodes == 1 ? ", or leave it out to use a free one" : ""));

  const double timeout_s = distributedTimeoutSeconds(flags);
  const std::string exe = selfExecutable();

  // The workers' command line: this one without the launcher flags (a worker finds its place in the
  // environment, as under torchrun).
  std::vector<std::string> args;
  for (size_t i = 0; i < argv.size(); ++i) {
    bool takes_value = false;
    if (i > 0 && isLauncherFlag(argv[i], takes_value)) {
      if (takes_value) ++i;
      continue;
    }
    args.push_back(argv[i]);
  }
  std::vector<char*> c_args;
  for (auto& a : args) c_args.push_back(a.data());
  c_args.push_back(nullptr);

  // torchrun's worker environment, over ours (minus what these replace).
  std::vector<std::string> base_env;
  bool has_omp = false;
  for (char** e = environ; *e; ++e) {
    const std::string kv(*e);
    const std::string key = kv.substr(0, kv.find('='));
    if (key == "OMP_NUM_THREADS") has_omp = true;
    if (key == "RANK" || key == "WORLD_SIZE" || key == "LOCAL_RANK" || key == "LOCAL_WORLD_SIZE" || key == "GROUP_RANK" ||
        key == "MASTER_ADDR" || key == "MASTER_PORT" || key == kLaunchedByVariable)
      continue;
    base_env.push_back(kv);
  }
  if (!has_omp) {
    // torchrun sets OMP_NUM_THREADS=1 for several workers per node; on the CPU that would leave cores idle,
    // so the cores are shared out instead.
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const unsigned threads = std::max(1u, cores / static_cast<unsigned>(nproc));
    base_env.push_back("OMP_NUM_THREADS=" + std::to_string(threads));
  }
  base_env.push_back("WORLD_SIZE=" + std::to_string(world));
  base_env.push_back("LOCAL_WORLD_SIZE=" + std::to_string(nproc));
  base_env.push_back("GROUP_RANK=" + std::to_string(flags.node_rank));
  base_env.push_back("MASTER_ADDR=" + master_addr);
  base_env.push_back("MASTER_PORT=" + std::to_string(port));
  base_env.push_back(std::string(kLaunchedByVariable) + "=" + std::to_string(::getpid()));

  // Signals first, so that a Ctrl-C during the starts is not lost (it is forwarded once all have started).
  struct sigaction action {};
  action.sa_handler = onLauncherSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: poll() wakes up at once
  struct sigaction old_int {}, old_term {};
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);
  const int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);

  std::vector<Worker> workers(static_cast<size_t>(nproc));
  const pid_t launcher = ::getpid();
  std::ostringstream pids;
  for (int local = 0; local < nproc; ++local) {
    Worker& w = workers[static_cast<size_t>(local)];
    w.local_rank = local;
    w.rank = flags.node_rank * nproc + local;
    std::vector<std::string> env = base_env;
    env.push_back("RANK=" + std::to_string(w.rank));
    env.push_back("LOCAL_RANK=" + std::to_string(local));
    std::vector<char*> c_env;
    for (auto& e : env) c_env.push_back(e.data());
    c_env.push_back(nullptr);
    int err_pipe[2] = {-1, -1};
    if (w.rank != 0 && ::pipe2(err_pipe, O_CLOEXEC) != 0)
      throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid == 0) {
      // Child: only async-signal-safe calls until exec. A launcher that dies (even by SIGKILL) stops its
      // workers like a Ctrl-C would.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != launcher) ::_exit(1);
      if (w.rank != 0) {
        ::dup2(null_fd, STDOUT_FILENO);  // only rank 0 prints the result
        ::dup2(err_pipe[1], STDERR_FILENO);
      }
      sigset_t none;
      sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      ::execve(exe.c_str(), c_args.data(), c_env.data());
      static const char kFailed[] = "error: cannot start a worker process\n";
      const ssize_t ignored = ::write(STDERR_FILENO, kFailed, sizeof kFailed - 1);
      (void)ignored;
      ::_exit(127);
    }
    if (pid < 0) {
      const int err = errno;
      for (auto& started : workers)
        if (started.running) ::kill(started.pid, SIGKILL), ::waitpid(started.pid, nullptr, 0);
      throw std::runtime_error(std::string("cannot start a worker process: ") + std::strerror(err));
    }
    w.pid = pid;
    w.running = true;
    if (w.rank != 0) {
      ::close(err_pipe[1]);
      w.err_fd = err_pipe[0];
      ::fcntl(w.err_fd, F_SETFL, ::fcntl(w.err_fd, F_GETFL) | O_NONBLOCK);
    }
    pids << (local ? " " : "") << pid;
  }
  if (null_fd >= 0) ::close(null_fd);
  note("started " + std::to_string(nproc) + " processes, ranks " + std::to_string(workers.front().rank) + "-" +
       std::to_string(workers.back().rank) + " of " + std::to_string(world) + ", master " + master_addr + ":" +
       std::to_string(port) + "; pids " + pids.str());

  using Clock = std::chrono::steady_clock;
  std::string failure;  // the first rank that failed, and how
  Clock::time_point deadline{};
  int signals_handled = 0;
  while (true) {
    // Signals: the first one goes to every worker (they agree to stop after the current step); another kills.
    const int received = g_signals;
    if (received > signals_handled) {
      const int sig = g_last_signal;
      const bool first = signals_handled == 0;
      signals_handled = received;
      for (auto& w : workers)
        if (w.running) ::kill(w.pid, first ? sig : SIGKILL);
      note(first ? std::string(signalName(sig)) + " forwarded to every rank: stopping after the current step (again to kill them)"
                 : "killed every rank");
    }

    std::vector<pollfd> fds;
    for (auto& w : workers)
      if (w.err_fd >= 0) fds.push_back({w.err_fd, POLLIN, 0});
    if (!fds.empty())
      ::poll(fds.data(), fds.size(), 100);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (auto& w : workers) relay(w, false);

    bool any_running = false;
    for (auto& w : workers) {
      if (!w.running) continue;
      int status = 0;
      const pid_t r = ::waitpid(w.pid, &status, WNOHANG);
      if (r == 0 || (r < 0 && errno == EINTR)) {
        any_running = true;
        continue;
      }
      w.running = false;
      const bool failed = r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
      if (failed && failure.empty()) {
        failure = r < 0 ? "rank " + std::to_string(w.rank) + " could not be waited for" : describeExit(w.rank, status);
        deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s));
        bool others = false;
        for (auto& o : workers) others = others || o.running;
        if (others) {
          std::ostringstream t;
          t << timeout_s;
          note(failure + "; the other ranks get up to " + t.str() + " s (--dist-timeout) to stop");
        }
      }
    }
    if (!any_running) break;
    if (!failure.empty() && Clock::now() > deadline) {
      for (auto& w : workers) {
        if (!w.running) continue;
        ::kill(w.pid, SIGKILL);
        ::waitpid(w.pid, nullptr, 0);
        w.running = false;
        note("rank " + std::to_string(w.rank) + " still ran after the timeout: killed");
      }
      break;
    }
  }
  for (auto& w : workers) {
    while (w.err_fd >= 0) {  // what a worker wrote just before it ended
      pollfd p{w.err_fd, POLLIN, 0};
      if (::poll(&p, 1, 200) <= 0) break;
      relay(w, false);
    }
    relay(w, true);
    if (w.err_fd >= 0) ::close(w.err_fd);
  }
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  if (!failure.empty()) throw std::runtime_error(failure);
}

}  // namespace mls::cli
