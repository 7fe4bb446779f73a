// BatchSource over tensors already in memory: synthetic data, tests, and (through FeatureBatchSource)
// cached backbone features. No decoding, so batches are cut straight from the stored tensors.
#pragma once
#include "ml/batch_source.h"

namespace mls {

class TensorBatchSource : public BatchSource {
 public:
  // inputs: (N, ...) any float tensor, e.g. (N,3,H,W) images or (N,D) features; targets: (N,K).
  // indices: (N,) int64 dataset indices reported in Batch::indices; defaults to 0..N-1.
  // Throws std::invalid_argument when the shapes disagree or batch_size < 1.
  TensorBatchSource(torch::Tensor inputs, torch::Tensor targets, int64_t batch_size, bool shuffle = false,
                    uint64_t seed = 0, torch::Tensor indices = {});

  // Random horizontal flip (p = 0.5, the MLSPL training augmentation) of (N,C,H,W) inputs, drawn per
  // sample from (seed, epoch, dataset index). Throws std::invalid_argument for inputs that are not 4-D.
  void setHorizontalFlip(bool enabled);
  // Drop the last incomplete batch (the official Q2L loader does this for training).
  void setDropLast(bool enabled);

  // Training (shuffled) sources split the seeded shuffle of the whole set, others the set in order
  // (ml/shard.h). size() is then the shard's length.
  void setShard(const Shard& shard) override;
  int64_t datasetSize() const override;
  int64_t size() const override;
  int64_t numClasses() const override;
  void startEpoch(int epoch) override;
  std::optional<Batch> next() override;

 private:
  torch::Tensor inputs_;
  torch::Tensor targets_;
  torch::Tensor indices_;
  int64_t batch_size_;
  bool shuffle_;
  uint64_t seed_;
  bool flip_ = false;
  bool drop_last_ = false;
  Shard shard_;
  int epoch_ = 0;
  bool started_ = false;
  std::vector<int64_t> order_;
  int64_t cursor_ = 0;
};

}  // namespace mls
