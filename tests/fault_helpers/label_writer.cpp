// Fault-trial helper (tests/cli/test_fault_trials.cpp): stores single positives one by one through
// ProjectStore::setSinglePositive, the call the Annotate panel's commands make, and prints
// "ack <n> <image_id> <category_id>" only after each call returned (the label is committed). The test kills it
// at random moments and checks that every acknowledged label is in the project.
//   mls_fault_label_writer PROJECT COUNT [FIRST]
// writes COUNT labels on the train images FIRST, FIRST+1, ... (0-based, in id order; wraps around).
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "data/store/project_store.h"
#include "label_plan.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PROJECT COUNT [FIRST]\n", argv[0]);
    return 2;
  }
  try {
    mls::ProjectStore store(argv[1], mls::ProjectStore::Open::Existing);
    const auto plan = mls::fault::labelPlan(store, std::atoi(argv[2]), argc > 3 ? std::atoi(argv[3]) : 0);
    for (size_t n = 0; n < plan.size(); ++n) {
      store.setSinglePositive(plan[n].first, plan[n].second, mls::AnnotationSource::User);
      std::printf("ack %zu %lld %lld\n", n + 1, static_cast<long long>(plan[n].first),
                  static_cast<long long>(plan[n].second));
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
