// Generates the single-positive variant of a fully labelled training split (MLSPL protocol: for each
// image with at least one label, one of its labels chosen uniformly at random with a fixed seed).
#pragma once
#include <cstdint>

namespace mls {

class ProjectStore;

struct SinglePositiveReport {
  int64_t candidates = 0;   // train images with >= 1 label
  int64_t written = 0;      // positives stored (user annotations are kept unless overwrite)
  int64_t kept_user = 0;    // user / accepted-suggestion annotations left alone
};

// The choice for an image depends only on (seed, image id, its label set), so it is reproducible whatever
// the order or subset of images. Stored with source `generated` in one transaction.
SinglePositiveReport generateSinglePositives(ProjectStore& store, uint64_t seed = 1200, bool overwrite_user = false);

}  // namespace mls
