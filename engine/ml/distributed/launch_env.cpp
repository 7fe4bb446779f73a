#include "ml/distributed/launch_env.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <sstream>

namespace mls::dist {

namespace {

// Host lists larger than this are refused rather than expanded (SLURM's own limit is far lower).
constexpr size_t kMaxExpandedHosts = 1'000'000;

std::optional<long long> parseInteger(const std::string& text) {
  long long value = 0;
  const char* begin = text.data();
  const char* end = begin + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

int integerVariable(const std::string& name, const std::string& text) {
  const auto value = parseInteger(text);
  if (!value || *value < INT32_MIN || *value > INT32_MAX)
    throw LaunchError(name + " is not an integer: '" + text + "'");
  return static_cast<int>(*value);
}

std::optional<int> optionalInteger(const EnvironmentLookup& env, const std::string& name) {
  const auto text = env(name);
  if (!text) return std::nullopt;
  return integerVariable(name, *text);
}

int requiredInteger(const EnvironmentLookup& env, const std::string& name, const std::string& because) {
  const auto value = optionalInteger(env, name);
  if (!value) throw LaunchError(name + " is not set (" + because + ")");
  return *value;
}

uint16_t checkedPort(const std::string& what, long long port) {
  if (port < 1 || port > 65535) throw LaunchError(what + " must be a port in 1-65535, got " + std::to_string(port));
  return static_cast<uint16_t>(port);
}

std::chrono::milliseconds checkedTimeout(const std::string& what, double seconds) {
  if (!std::isfinite(seconds) || seconds <= 0)
    throw LaunchError(what + " must be a positive number of seconds, got " + std::to_string(seconds));
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000.0)));
}

// One "prefix[ranges]suffix..." host expression. With first_only, only its first host.
std::vector<std::string> expandHostExpression(const std::string& expression, bool first_only) {
  std::vector<std::string> hosts{""};
  size_t i = 0;
  while (i < expression.size()) {
    const size_t open = expression.find('[', i);
    const std::string literal = expression.substr(i, open == std::string::npos ? std::string::npos : open - i);
    if (literal.find(']') != std::string::npos)
      throw LaunchError("SLURM host list has an unmatched ']' in '" + expression + "'");
    for (auto& host : hosts) host += literal;
    if (open == std::string::npos) break;
    const size_t close = expression.find(']', open);
    if (close == std::string::npos) throw LaunchError("SLURM host list has an unmatched '[' in '" + expression + "'");
    const std::string ranges = expression.substr(open + 1, close - open - 1);
    if (ranges.find('[') != std::string::npos)
      throw LaunchError("SLURM host list has nested '[' in '" + expression + "'");

    std::vector<std::string> values;
    std::stringstream items(ranges);
    std::string item;
    while (std::getline(items, item, ',')) {
      const size_t dash = item.find('-');
      const std::string low_text = item.substr(0, dash);
      const std::string high_text = dash == std::string::npos ? low_text : item.substr(dash + 1);
      const auto low = parseInteger(low_text);
      const auto high = parseInteger(high_text);
      if (low_text.empty() || high_text.empty() || !low || !high || *low < 0 || *high < *low)
        throw LaunchError("SLURM host list has a bad range '" + item + "' in '" + expression + "'");
      // "[01-10]" keeps the lower bound's zero padding: node01 ... node10.
      const size_t width = low_text.size();
      for (long long n = *low; n <= *high; ++n) {
        std::string digits = std::to_string(n);
        if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
        values.push_back(digits);
        if (first_only || values.size() > kMaxExpandedHosts) break;
      }
      if (first_only) break;
    }
    if (values.empty()) throw LaunchError("SLURM host list has empty brackets in '" + expression + "'");
    if (hosts.size() * values.size() > kMaxExpandedHosts)
      throw LaunchError("SLURM host list '" + expression + "' expands to too many hosts");
    std::vector<std::string> product;
    product.reserve(hosts.size() * values.size());
    for (const auto& host : hosts)
      for (const auto& value : values) product.push_back(host + value);
    hosts = std::move(product);
    i = close + 1;
  }
  return hosts;
}

// Splits at commas outside brackets: "a[1,2],b" -> {"a[1,2]", "b"}.
std::vector<std::string> topLevelItems(const std::string& hostlist) {
  std::vector<std::string> items;
  std::string current;
  int depth = 0;
  for (char c : hostlist) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0) {
      items.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  items.push_back(current);
  for (const auto& item : items)
    if (item.empty()) throw LaunchError("SLURM host list '" + hostlist + "' has an empty entry");
  return items;
}

}  // namespace

EnvironmentLookup processEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

std::vector<std::string> expandSlurmHostlist(const std::string& hostlist) {
  std::vector<std::string> hosts;
  for (const auto& item : topLevelItems(hostlist)) {
    auto expanded = expandHostExpression(item, false);
    if (hosts.size() + expanded.size() > kMaxExpandedHosts)
      throw LaunchError("SLURM host list '" + hostlist + "' expands to too many hosts");
    hosts.insert(hosts.end(), expanded.begin(), expanded.end());
  }
  return hosts;
}

std::string firstSlurmHost(const std::string& hostlist) {
  const auto items = topLevelItems(hostlist);
  return expandHostExpression(items.front(), true).front();
}

LaunchConfig resolveLaunch(const LaunchFlags& flags, const EnvironmentLookup& env) {
  LaunchConfig config;
  const bool any_flag = flags.rank || flags.world_size || flags.local_rank || flags.master_addr || flags.master_port;
  std::optional<int> local_world_size;

  if (any_flag) {
    if (!flags.rank || !flags.world_size)
      throw LaunchError("--rank and --world-size must be given together");
    config.rank = *flags.rank;
    config.world_size = *flags.world_size;
    config.local_rank = flags.local_rank.value_or(config.rank);
    config.source = "flags";
  } else if (env("RANK")) {
    // torchrun (and torch.distributed.launch) set all of these for every worker.
    config.rank = requiredInteger(env, "RANK", "needed with RANK");
    config.world_size = requiredInteger(env, "WORLD_SIZE", "torchrun sets it together with RANK");
    config.local_rank = optionalInteger(env, "LOCAL_RANK").value_or(0);
    local_world_size = optionalInteger(env, "LOCAL_WORLD_SIZE");
    config.source = "torchrun";
  } else if (env("SLURM_PROCID")) {
    config.rank = requiredInteger(env, "SLURM_PROCID", "");
    auto ntasks = optionalInteger(env, "SLURM_NTASKS");
    if (!ntasks) ntasks = optionalInteger(env, "SLURM_NPROCS");
    if (!ntasks) throw LaunchError("SLURM_NTASKS is not set (SLURM_PROCID is; launch with srun)");
    config.world_size = *ntasks;
    config.local_rank = optionalInteger(env, "SLURM_LOCALID").value_or(0);
    config.source = "SLURM";
  } else if (env("WORLD_SIZE")) {
    throw LaunchError("WORLD_SIZE is set but RANK is not");
  }

  if (config.world_size < 1) throw LaunchError("world size must be at least 1, got " + std::to_string(config.world_size));
  if (config.rank < 0 || config.rank >= config.world_size)
    throw LaunchError("rank " + std::to_string(config.rank) + " is outside 0.." + std::to_string(config.world_size - 1) +
                      " (world size " + std::to_string(config.world_size) + ", from " + config.source + ")");
  if (config.local_rank < 0 || config.local_rank > config.rank)
    throw LaunchError("local rank " + std::to_string(config.local_rank) + " must be in 0..rank (" +
                      std::to_string(config.rank) + ")");
  if (local_world_size && (*local_world_size < 1 || config.local_rank >= *local_world_size))
    throw LaunchError("LOCAL_RANK " + std::to_string(config.local_rank) + " is outside LOCAL_WORLD_SIZE " +
                      std::to_string(*local_world_size));

  // Rendezvous address: flag, MASTER_ADDR/MASTER_PORT (torchrun; also honoured under SLURM), else SLURM's first
  // node and a port derived from the job id as PyTorch Lightning does (15000 + last 4 digits), so that two jobs
  // sharing a node do not collide.
  if (flags.master_addr) {
    config.master_addr = *flags.master_addr;
  } else if (auto addr = env("MASTER_ADDR")) {
    config.master_addr = *addr;
  } else if (config.source == "SLURM") {
    auto nodes = env("SLURM_JOB_NODELIST");
    if (!nodes) nodes = env("SLURM_NODELIST");
    if (!nodes) throw LaunchError("neither MASTER_ADDR nor SLURM_JOB_NODELIST is set");
    config.master_addr = firstSlurmHost(*nodes);
  } else if (config.distributed() && config.source == "torchrun") {
    throw LaunchError("MASTER_ADDR is not set (torchrun sets it together with RANK)");
  }
  if (config.master_addr.empty()) throw LaunchError("the master address is empty");

  if (flags.master_port) {
    config.master_port = checkedPort("--master-port", *flags.master_port);
  } else if (auto port = env("MASTER_PORT")) {
    config.master_port = checkedPort("MASTER_PORT", integerVariable("MASTER_PORT", *port));
  } else if (config.source == "SLURM" && env("SLURM_JOB_ID")) {
    config.master_port = checkedPort("port derived from SLURM_JOB_ID",
                                     15000 + integerVariable("SLURM_JOB_ID", *env("SLURM_JOB_ID")) % 10000);
  }

  if (flags.timeout_seconds) {
    config.timeout = checkedTimeout("--dist-timeout", *flags.timeout_seconds);
  } else if (auto timeout = env("MLS_DIST_TIMEOUT")) {
    char* end = nullptr;
    const double seconds = std::strtod(timeout->c_str(), &end);
    if (timeout->empty() || end != timeout->c_str() + timeout->size())
      throw LaunchError("MLS_DIST_TIMEOUT is not a number of seconds: '" + *timeout + "'");
    config.timeout = checkedTimeout("MLS_DIST_TIMEOUT", seconds);
  }
  return config;
}

std::string describe(const LaunchConfig& config) {
  std::ostringstream out;
  out << "rank " << config.rank << " of " << config.world_size << " (local " << config.local_rank << "), master "
      << config.master_addr << ":" << config.master_port << ", timeout "
      << static_cast<double>(config.timeout.count()) / 1000.0 << " s, via " << config.source;
  return out.str();
}

}  // namespace mls::dist
