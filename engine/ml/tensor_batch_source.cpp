#include "ml/tensor_batch_source.h"

#include <torch/torch.h>

#include <stdexcept>
#include <string>

#include "ml/shard.h"

namespace mls {

TensorBatchSource::TensorBatchSource(torch::Tensor inputs, torch::Tensor targets, int64_t batch_size,
                                     bool shuffle, uint64_t seed, torch::Tensor indices)
    : batch_size_(batch_size), shuffle_(shuffle), seed_(seed) {
  if (!inputs.defined() || inputs.dim() < 1) throw std::invalid_argument("TensorBatchSource: inputs must be (N, ...)");
  if (!targets.defined() || targets.dim() != 2) throw std::invalid_argument("TensorBatchSource: targets must be (N, K)");
  const int64_t n = inputs.size(0);
  if (targets.size(0) != n)
    throw std::invalid_argument("TensorBatchSource: " + std::to_string(n) + " inputs but " +
                                std::to_string(targets.size(0)) + " target rows");
  if (batch_size < 1) throw std::invalid_argument("TensorBatchSource: batch size must be >= 1");
  if (indices.defined()) {
    if (indices.dim() != 1 || indices.size(0) != n)
      throw std::invalid_argument("TensorBatchSource: indices must be (N,)");
    indices_ = indices.to(torch::kCPU, torch::kLong).contiguous();
  } else {
    indices_ = torch::arange(n, torch::kLong);
  }
  inputs_ = inputs.is_floating_point() ? inputs.contiguous() : inputs.to(torch::kFloat).contiguous();
  targets_ = targets.to(torch::kFloat).contiguous();
}

void TensorBatchSource::setHorizontalFlip(bool enabled) {
  if (enabled && inputs_.dim() != 4)
    throw std::invalid_argument("TensorBatchSource: horizontal flip needs (N,C,H,W) inputs");
  flip_ = enabled;
}

void TensorBatchSource::setDropLast(bool enabled) { drop_last_ = enabled; }

void TensorBatchSource::setShard(const Shard& shard) {
  checkShard(shard);
  shard_ = shard;
  started_ = false;  // the next batch starts an epoch with the new split
}

int64_t TensorBatchSource::datasetSize() const { return inputs_.size(0); }

int64_t TensorBatchSource::size() const {
  const int64_t n = shardLength(inputs_.size(0), shard_.world_size);
  return drop_last_ ? (n / batch_size_) * batch_size_ : n;
}

int64_t TensorBatchSource::numClasses() const { return targets_.size(1); }

void TensorBatchSource::startEpoch(int epoch) {
  epoch_ = epoch;
  order_ = shardOf(epochOrder(inputs_.size(0), shuffle_, seed_, epoch), shard_);
  cursor_ = 0;
  started_ = true;
}

std::optional<Batch> TensorBatchSource::next() {
  if (!started_) startEpoch(0);
  const int64_t end_of_epoch = size();
  if (cursor_ >= end_of_epoch) return std::nullopt;
  const int64_t count = std::min(batch_size_, end_of_epoch - cursor_);
  auto rows = torch::from_blob(order_.data() + cursor_, {count}, torch::kLong).clone();
  cursor_ += count;

  Batch batch;
  batch.images = inputs_.index_select(0, rows.to(inputs_.device()));
  batch.targets = targets_.index_select(0, rows.to(targets_.device()));
  batch.indices = indices_.index_select(0, rows);
  if (flip_) {
    const auto* ids = batch.indices.data_ptr<int64_t>();
    for (int64_t i = 0; i < count; ++i) {
      DeterministicRng rng(seed_, epoch_, ids[i]);
      if (rng.bernoulli(0.5)) batch.images[i].copy_(batch.images[i].flip({2}));
    }
  }
  return batch;
}

}  // namespace mls
