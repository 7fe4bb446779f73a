#include "data/training/skipped_images.h"

#include <algorithm>
#include <filesystem>

#include "data/pipeline/image_batch_source.h"

namespace mls {

namespace {
constexpr size_t kNamesShown = 3;
}

std::string describeSkip(const std::string& message) {
  // The loader writes "PATH: " + the decoder's "reason: PATH"; PATH may itself hold ": ", so try each split
  // and keep the one where the message also ends with that path.
  for (size_t at = message.find(": "); at != std::string::npos; at = message.find(": ", at + 1)) {
    const std::string path = message.substr(0, at);
    const std::string rest = message.substr(at + 2);
    const std::string tail = ": " + path;
    if (rest.size() > tail.size() && rest.compare(rest.size() - tail.size(), tail.size(), tail) == 0)
      return std::filesystem::path(path).filename().string() + " (" + rest.substr(0, rest.size() - tail.size()) + ")";
  }
  return message;
}

void SkippedImages::addMessages(const std::vector<std::string>& messages) {
  for (const auto& m : messages)
    if (seen_.insert(m).second) messages_.push_back(m);
}

void SkippedImages::addDisjoint(const ImageBatchSource& source) {
  disjoint_ += source.skippedSamples();
  count_ = std::max(count_, disjoint_);
  addMessages(source.skippedMessages());
}

void SkippedImages::addCovering(const ImageBatchSource& source) {
  count_ = std::max(count_, source.skippedSamples());
  addMessages(source.skippedMessages());
}

std::string SkippedImages::summary() const {
  if (count_ == 0) return {};
  std::string out = std::to_string(count_) + (count_ == 1 ? " image" : " images") + " could not be read and " +
                    (count_ == 1 ? "was" : "were") + " skipped: ";
  const size_t shown = std::min(kNamesShown, messages_.size());
  for (size_t i = 0; i < shown; ++i) out += (i ? ", " : "") + describeSkip(messages_[i]);
  if (static_cast<int64_t>(shown) < count_) out += ", …";
  return out;
}

}  // namespace mls
