// The trainer's view of its data-parallel peers, with torch DistributedDataParallel's semantics (one model
// replica per process, same data order, gradients averaged at each optimizer step). A single process has
// none (a null pointer). The c10d implementation (TCPStore + ProcessGroupGloo) lives in
// ml/distributed/replicas.h (connectReplicas), which is built only where c10d's Gloo headers are; the
// trainer and the session depend on this interface only, so they build everywhere.
#pragma once
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace mls {

class ReplicaGroup {
 public:
  virtual ~ReplicaGroup() = default;

  virtual int rank() const = 0;
  virtual int worldSize() const = 0;

  // Synchronises these trainable tensors from now on (replaces any earlier set): broadcasts rank 0's values
  // of `params` and `buffers`, then hooks `params` for bucketed gradient all-reduce during backward.
  // Collective: every rank calls it with the same list, in the same order.
  virtual void attach(const std::vector<at::Tensor>& params, const std::vector<at::Tensor>& buffers) = 0;
  // Before every training forward: rank 0's buffers (BatchNorm running statistics) to all ranks.
  virtual void beforeForward() = 0;
  // loss.backward(); with `sync` the gradients of the attached tensors are averaged over the ranks when it
  // returns (a tensor without a gradient on some rank counts as zero there); without, they only accumulate.
  virtual void backward(const at::Tensor& loss, bool sync) = 0;
  // True on every rank when `flag` is true on any rank (AMP found-inf, cancellation). `what` names the
  // agreement in errors.
  virtual bool anyRank(bool flag, const std::string& what) = 0;
  // Rows scored by every rank on its shard (`local_indices`: dataset index of each local row, shards with
  // padding), returned in dataset order, all `dataset_size` rows, on every rank; padded duplicates dropped.
  virtual at::Tensor gatherInDatasetOrder(const at::Tensor& local_rows, const std::vector<int64_t>& local_indices,
                                          int64_t dataset_size, const std::string& what) = 0;
  virtual void barrier(const std::string& what) = 0;
  // Element-wise sums over the ranks of a few numbers (every rank passes as many, in the same order): the
  // trainer's per-step agreement on loss, cancellation and non-finite losses in one small all-reduce. The
  // default serves a world of one only.
  virtual std::vector<double> sumOverRanks(const std::vector<double>& values, const std::string& what) {
    if (worldSize() > 1) throw std::logic_error(what + ": this replica group cannot sum over ranks");
    return values;
  }
};

}  // namespace mls
