// Multi-threaded image loader: worker threads decode and augment whole batches ahead of the trainer
// into a bounded set of ready batches, handed out strictly in epoch order. Corrupt or missing images are
// skipped and counted, never fatal. OpenCV stays inside the .cpp files, so this header is cheap to include.
#pragma once
#include "data/pipeline/augmentation_options.h"
#include "data/pipeline/image_sample.h"
#include "ml/batch_source.h"

#include <memory>
#include <string>
#include <vector>

namespace mls {

class ImageBatchSource : public BatchSource {
 public:
  // samples: all with targets of one length K. image_size: S of the S×S network input.
  // workers: decoding threads (0 = decode synchronously inside next()). prefetch_batches: how many
  // batches may be in flight or ready ahead of the consumer (bounds memory). Throws std::invalid_argument
  // for inconsistent targets, image_size < 1 or batch_size < 1.
  ImageBatchSource(std::vector<ImageSample> samples, int image_size, int batch_size, bool shuffle,
                   AugmentationOptions augmentation = {}, uint64_t seed = 0, int workers = 2,
                   int prefetch_batches = 4);
  // Stops the workers promptly (each finishes at most the image it is decoding), also mid-epoch.
  ~ImageBatchSource() override;
  ImageBatchSource(const ImageBatchSource&) = delete;
  ImageBatchSource& operator=(const ImageBatchSource&) = delete;

  // Drop the last incomplete batch (the official Q2L training loader uses drop_last=True).
  // Takes effect at the next startEpoch().
  void setDropLast(bool enabled);

  // This rank's share of every epoch (ml/shard.h: training sources split the seeded shuffle of all samples,
  // others the samples in order). Takes effect at the next startEpoch(); size() is the shard's length.
  void setShard(const Shard& shard) override;
  int64_t datasetSize() const override;
  int64_t size() const override;
  int64_t numClasses() const override;
  // Cancels any epoch in progress, fixes this epoch's order from (seed, epoch) and starts the workers.
  void startEpoch(int epoch) override;
  // The next batch in order; blocks until it is ready. Starts epoch 0 if startEpoch was never called.
  // Samples that fail to decode are left out of their batch; batches left empty are passed over.
  std::optional<Batch> next() override;
  // Distinct samples that failed to decode (missing, unreadable, corrupt) since construction.
  int64_t skippedSamples() const override;
  // "path: reason" for the first skipped samples (at most 100), for the log / status bar.
  std::vector<std::string> skippedMessages() const;

  const AugmentationOptions& augmentation() const;
  // True when batches are allocated in page-locked memory (whenever CUDA is available), so the trainer's
  // host-to-GPU copies run asynchronously.
  bool pinsMemory() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mls
