// ProcessGroup's state, shared with the other .cpp files of this folder (the gradient synchroniser issues its
// bucket all-reduces on the c10d group directly). Includes the c10d headers: never include it from a public
// header.
#pragma once
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "ml/distributed/c10d_includes.h"
#include "ml/distributed/process_group.h"

namespace mls::dist {

struct ProcessGroup::Impl {
  LaunchConfig config;
  ProcessGroupOptions options;
  c10::intrusive_ptr<c10d::Store> store;            // rendezvous + heartbeats (TCPStore; rank 0 serves it)
  c10::intrusive_ptr<c10d::Store> heartbeat_store;  // a second connection, used only by the heartbeat thread
  c10::intrusive_ptr<c10d::ProcessGroup> group;     // Gloo; null for a world of one

  std::atomic<int64_t> progress{0};
  std::thread heartbeat;
  std::mutex heartbeat_mutex;
  std::condition_variable heartbeat_cv;
  bool stopping = false;

  ~Impl();
  void startHeartbeat();
  void stopHeartbeat();
  // Runs one blocking c10d collective; failures go through ProcessGroup::fail.
  void run(ProcessGroup& owner, const std::string& what, const c10::intrusive_ptr<c10d::Work>& work);
};

}  // namespace mls::dist
