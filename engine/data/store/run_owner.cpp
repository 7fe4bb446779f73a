#include "data/store/run_owner.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <stdexcept>

namespace mls {

std::string RunOwner::str() const { return std::to_string(pid) + "@" + host; }

std::optional<RunOwner> RunOwner::parse(const std::string& text) {
  const auto at = text.find('@');
  if (at == std::string::npos || at == 0) return std::nullopt;
  try {
    size_t used = 0;
    const long long pid = std::stoll(text.substr(0, at), &used);
    if (used != at || pid <= 0) return std::nullopt;
    return RunOwner{pid, text.substr(at + 1)};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

RunOwner thisProcess() {
  char host[HOST_NAME_MAX + 1] = {};
  gethostname(host, sizeof host - 1);
  return {static_cast<int64_t>(getpid()), host};
}

bool processAlive(int64_t pid) {
  if (pid <= 0 || pid > INT_MAX) return false;
  // Signal 0 checks existence only; EPERM means it exists but belongs to another user.
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

std::string runOwnerKey(int64_t run_id) { return "run_owner." + std::to_string(run_id); }

}  // namespace mls
