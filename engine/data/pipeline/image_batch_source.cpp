#include "data/pipeline/image_batch_source.h"

#include "data/pipeline/image_decoder.h"
#include "data/pipeline/sample_pipeline.h"
#include "ml/shard.h"

#include <opencv2/core.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace mls {

namespace {
constexpr size_t kMaxSkipMessages = 100;
}

struct ImageBatchSource::Impl {
  // Configuration (fixed while an epoch runs).
  std::vector<ImageSample> samples;
  int image_size = 0;
  int batch_size = 0;
  bool shuffle = false;
  AugmentationOptions augmentation;
  uint64_t seed = 0;
  int workers = 0;
  int prefetch = 1;
  bool drop_last = false;
  Shard shard;
  bool cuda_available = false;
  int64_t num_classes = 0;

  // Epoch state, guarded by mutex.
  mutable std::mutex mutex;
  std::condition_variable space_cv;  // workers wait here for room in the prefetch window
  std::condition_variable ready_cv;  // the consumer waits here for its next batch
  std::vector<std::thread> threads;
  std::vector<int64_t> order;
  int epoch = 0;
  int64_t epoch_samples = 0;
  int64_t num_batches = 0;
  int64_t next_to_build = 0;
  int64_t next_to_hand_out = 0;
  std::map<int64_t, Batch> ready;  // built batches by position; an undefined images tensor = all skipped
  std::exception_ptr worker_error;
  bool started = false;
  std::atomic<bool> stop{false};

  // Skip bookkeeping, guarded by skip_mutex (workers report from inside batch building).
  mutable std::mutex skip_mutex;
  std::set<int64_t> skipped_indices;
  std::vector<std::string> skip_messages;

  bool pinned() const { return cuda_available; }

  void recordSkip(const ImageSample& sample, const std::string& reason) {
    std::lock_guard<std::mutex> lock(skip_mutex);
    if (skipped_indices.insert(sample.index).second && skip_messages.size() < kMaxSkipMessages)
      skip_messages.push_back(sample.path + ": " + reason);
  }

  // Decodes batch `position` of the current epoch. std::nullopt when asked to stop half-way.
  std::optional<Batch> buildBatch(int64_t position) {
    const int64_t begin = position * batch_size;
    const int64_t end = std::min<int64_t>(begin + batch_size, epoch_samples);
    const int64_t count = end - begin;
    const int64_t pixels = 3LL * image_size * image_size;

    auto float_options = torch::TensorOptions().dtype(torch::kFloat).pinned_memory(pinned());
    torch::Tensor images = torch::empty({count, 3, image_size, image_size}, float_options);
    torch::Tensor targets = torch::empty({count, num_classes}, float_options);
    torch::Tensor indices = torch::empty({count}, torch::TensorOptions().dtype(torch::kLong).pinned_memory(pinned()));
    float* image_data = images.data_ptr<float>();
    float* target_data = targets.data_ptr<float>();
    int64_t* index_data = indices.data_ptr<int64_t>();

    int64_t filled = 0;
    for (int64_t i = begin; i < end; ++i) {
      if (stop.load(std::memory_order_relaxed)) return std::nullopt;
      const ImageSample& sample = samples[static_cast<size_t>(order[static_cast<size_t>(i)])];
      try {
        loadSampleInto(sample, image_size, augmentation, seed, epoch, image_data + filled * pixels);
      } catch (const ImageDecodeError& e) {
        recordSkip(sample, e.what());
        continue;
      } catch (const cv::Exception& e) {  // e.g. a codec rejecting a malformed header
        recordSkip(sample, e.what());
        continue;
      }
      std::copy(sample.targets.begin(), sample.targets.end(), target_data + filled * num_classes);
      index_data[filled] = sample.index;
      ++filled;
    }
    Batch batch;
    if (filled == 0) return batch;  // every image of this batch was skipped
    batch.images = filled == count ? images : images.narrow(0, 0, filled);
    batch.targets = filled == count ? targets : targets.narrow(0, 0, filled);
    batch.indices = filled == count ? indices : indices.narrow(0, 0, filled);
    return batch;
  }

  void workerLoop() {
    for (;;) {
      int64_t position = 0;
      {
        std::unique_lock<std::mutex> lock(mutex);
        space_cv.wait(lock, [&] {
          return stop.load() || next_to_build >= num_batches || next_to_build < next_to_hand_out + prefetch;
        });
        if (stop.load() || next_to_build >= num_batches) return;
        position = next_to_build++;
      }
      std::optional<Batch> built;
      try {
        built = buildBatch(position);
      } catch (...) {  // out of memory and the like: surfaces in the consumer's next()
        std::lock_guard<std::mutex> lock(mutex);
        if (!worker_error) worker_error = std::current_exception();
        ready_cv.notify_all();
        return;
      }
      if (!built) return;  // stopping
      {
        std::lock_guard<std::mutex> lock(mutex);
        ready.emplace(position, std::move(*built));
      }
      ready_cv.notify_all();
    }
  }

  void stopWorkers() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop.store(true);
    }
    space_cv.notify_all();
    for (auto& t : threads)
      if (t.joinable()) t.join();
    threads.clear();
    std::lock_guard<std::mutex> lock(mutex);
    ready.clear();
    stop.store(false);
  }

  int64_t samplesPerEpoch() const {
    const int64_t n = shardLength(static_cast<int64_t>(samples.size()), shard.world_size);
    return drop_last ? (n / batch_size) * batch_size : n;
  }

  void start(int new_epoch) {
    stopWorkers();
    {
      std::lock_guard<std::mutex> lock(mutex);
      epoch = new_epoch;
      epoch_samples = samplesPerEpoch();
      order = shardOf(epochOrder(static_cast<int64_t>(samples.size()), shuffle, seed, new_epoch), shard);
      num_batches = (epoch_samples + batch_size - 1) / batch_size;
      next_to_build = 0;
      next_to_hand_out = 0;
      worker_error = nullptr;
      started = true;
    }
    const int thread_count = static_cast<int>(std::min<int64_t>(workers, num_batches));
    for (int i = 0; i < thread_count; ++i) threads.emplace_back([this] { workerLoop(); });
  }

  std::optional<Batch> nextSynchronous() {
    while (next_to_hand_out < num_batches) {
      std::optional<Batch> built = buildBatch(next_to_hand_out++);
      if (built && built->images.defined()) return built;
    }
    return std::nullopt;
  }

  std::optional<Batch> next() {
    if (!started) start(0);
    if (workers <= 0) return nextSynchronous();
    for (;;) {
      std::unique_lock<std::mutex> lock(mutex);
      if (next_to_hand_out >= num_batches) return std::nullopt;
      ready_cv.wait(lock, [&] { return worker_error || ready.count(next_to_hand_out) > 0; });
      if (worker_error && ready.count(next_to_hand_out) == 0) {
        std::exception_ptr error = worker_error;
        lock.unlock();
        stopWorkers();
        std::rethrow_exception(error);
      }
      auto node = ready.extract(next_to_hand_out);
      ++next_to_hand_out;
      lock.unlock();
      space_cv.notify_all();
      if (node.mapped().images.defined()) return std::move(node.mapped());
    }
  }
};

ImageBatchSource::ImageBatchSource(std::vector<ImageSample> samples, int image_size, int batch_size, bool shuffle,
                                   AugmentationOptions augmentation, uint64_t seed, int workers,
                                   int prefetch_batches)
    : impl_(std::make_unique<Impl>()) {
  if (image_size < 1) throw std::invalid_argument("ImageBatchSource: image size must be >= 1");
  if (batch_size < 1) throw std::invalid_argument("ImageBatchSource: batch size must be >= 1");
  const size_t k = samples.empty() ? 0 : samples.front().targets.size();
  for (const auto& s : samples)
    if (s.targets.size() != k)
      throw std::invalid_argument("ImageBatchSource: sample " + std::to_string(s.index) + " has " +
                                  std::to_string(s.targets.size()) + " targets, expected " + std::to_string(k));
  impl_->samples = std::move(samples);
  impl_->image_size = image_size;
  impl_->batch_size = batch_size;
  impl_->shuffle = shuffle;
  impl_->augmentation = augmentation;
  impl_->seed = seed;
  impl_->workers = std::max(0, workers);
  impl_->prefetch = std::max(1, prefetch_batches);
  impl_->num_classes = static_cast<int64_t>(k);
  impl_->cuda_available = torch::cuda::is_available();
}

ImageBatchSource::~ImageBatchSource() { impl_->stopWorkers(); }

void ImageBatchSource::setDropLast(bool enabled) { impl_->drop_last = enabled; }

void ImageBatchSource::setShard(const Shard& shard) {
  checkShard(shard);
  impl_->stopWorkers();
  impl_->shard = shard;
  impl_->started = false;
}

int64_t ImageBatchSource::datasetSize() const { return static_cast<int64_t>(impl_->samples.size()); }
int64_t ImageBatchSource::size() const { return impl_->samplesPerEpoch(); }
int64_t ImageBatchSource::numClasses() const { return impl_->num_classes; }
void ImageBatchSource::startEpoch(int epoch) { impl_->start(epoch); }
std::optional<Batch> ImageBatchSource::next() { return impl_->next(); }

int64_t ImageBatchSource::skippedSamples() const {
  std::lock_guard<std::mutex> lock(impl_->skip_mutex);
  return static_cast<int64_t>(impl_->skipped_indices.size());
}

std::vector<std::string> ImageBatchSource::skippedMessages() const {
  std::lock_guard<std::mutex> lock(impl_->skip_mutex);
  return impl_->skip_messages;
}

const AugmentationOptions& ImageBatchSource::augmentation() const { return impl_->augmentation; }
bool ImageBatchSource::pinsMemory() const { return impl_->pinned(); }

}  // namespace mls
