// "Most uncertain first" ordering for model-assisted annotation: unannotated train images whose top class
// score is closest to 0.5 come first (uncertainty sampling on the most likely label, the simplest active-
// learning rule; a confident model gains least from a label it would predict anyway).
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace mls {

// Image ids from `scores` that are in `eligible`, ordered by |max score - 0.5| ascending, ties by id.
std::vector<int64_t> rankByUncertainty(const std::unordered_map<int64_t, std::vector<float>>& scores,
                                       const std::unordered_set<int64_t>& eligible);

// The order "next" / "previous" walk in: the ranked images, then every other train image by id, so stepping
// never skips an image and never visits one twice.
struct UncertaintyOrder {
  std::vector<int64_t> ranked;                  // scored train images, most uncertain first
  std::vector<int64_t> walk;                    // ranked, then the unscored train images by id
  std::unordered_map<int64_t, size_t> position;  // image id -> index in walk
};
UncertaintyOrder makeUncertaintyOrder(std::vector<int64_t> ranked, const std::vector<int64_t>& train_ids_by_id);

// Reads a run's stored predictions and the train split through its own connection (call it on a worker
// thread) and orders the train images. `ranked` is empty when the run has no predictions. Throws on store
// errors.
UncertaintyOrder loadUncertaintyOrder(const std::string& project_path, int64_t run_id);

}  // namespace mls
