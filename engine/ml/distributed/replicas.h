// The trainer's ReplicaGroup (ml/training/replica_group.h) on c10d: a ProcessGroup (TCPStore rendezvous,
// ProcessGroupGloo collectives, heartbeats that name a dead or stuck rank) and a GradientSync over the
// tensors the trainer attaches (DDP's broadcast from rank 0, bucketed gradient all-reduce during backward,
// rank 0's buffers before every forward).
#pragma once
#include <memory>

#include "ml/distributed/gradient_sync.h"
#include "ml/distributed/launch_env.h"
#include "ml/distributed/process_group.h"
#include "ml/training/replica_group.h"

namespace mls::dist {

// Joins the group described by `config` (every rank calls it; a world of one needs no network). Throws
// DistributedError (one line) when the rendezvous fails. Collectives later throw DistributedError naming
// the rank at fault.
std::shared_ptr<ReplicaGroup> connectReplicas(const LaunchConfig& config, const ProcessGroupOptions& options = {});

// The same with explicit gradient-bucket settings (tests use tiny buckets to span several).
std::shared_ptr<ReplicaGroup> connectReplicas(const LaunchConfig& config, const ProcessGroupOptions& options,
                                              const GradientSyncOptions& sync_options);

}  // namespace mls::dist
