// Images a run could not read (missing, corrupt, too large), gathered from its loaders into one report:
// the count and the first few by file name, the same whatever the batch size or which loader met them.
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace mls {

class ImageBatchSource;

class SkippedImages {
 public:
  // A loader over images that no other added loader reads (train, then val).
  void addDisjoint(const ImageBatchSource& source);
  // A loader over all the images of the earlier ones and maybe more (storing predictions): it may meet
  // files that training never tried (the dropped last batch), and counts the others again.
  void addCovering(const ImageBatchSource& source);

  int64_t count() const { return count_; }
  // "2 images could not be read and were skipped: a.jpg (image file not found), b.jpg (…)"; "" when none.
  std::string summary() const;

 private:
  void addMessages(const std::vector<std::string>& messages);
  int64_t disjoint_ = 0;
  int64_t count_ = 0;
  std::vector<std::string> messages_;  // "PATH: reason: PATH", first seen first
  std::set<std::string> seen_;
};

// "a.jpg (image file not found)" from the loader's "PATH: image file not found: PATH".
std::string describeSkip(const std::string& message);

}  // namespace mls
