// Which process is training a run: recorded when a run starts (or resumes) so that a run whose process was
// killed before it could finish is not shown as `running` forever.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace mls {

struct RunOwner {
  int64_t pid = 0;
  std::string host;

  std::string str() const;                                      // "PID@HOST"
  static std::optional<RunOwner> parse(const std::string& text);  // nullopt when malformed
};

RunOwner thisProcess();
bool processAlive(int64_t pid);  // on this machine
// The meta key under which a running run's owner is kept (a meta row, so no schema change was needed).
std::string runOwnerKey(int64_t run_id);

}  // namespace mls
