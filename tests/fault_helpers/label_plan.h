// Which label the fault-trial writers store n-th: train image FIRST + n (id order, wrapping), with a class
// that differs from one write to the next, so a lost or misplaced write is visible.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <utility>
#include <vector>

#include "data/store/project_store.h"

namespace mls::fault {

inline std::vector<std::pair<int64_t, int64_t>> labelPlan(ProjectStore& store, int count, int first) {
  ImageFilter train;
  train.split = Split::Train;
  const auto images = store.images(train);
  const auto categories = store.categories();
  if (images.empty() || categories.empty()) throw std::runtime_error("the project has no train images or classes");
  std::vector<std::pair<int64_t, int64_t>> plan;
  for (int n = 0; n < count; ++n) {
    const size_t i = static_cast<size_t>(first + n);
    // Each lap over the images shifts the classes by one, so a rewrite of an image always changes its label.
    plan.emplace_back(images[i % images.size()].id, categories[(i * 7 + 3 + i / images.size()) % categories.size()].id);
  }
  return plan;
}

}  // namespace mls::fault
