// One training/evaluation image as the loader sees it: where it is, what its labels are, which row it is.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mls {

struct ImageSample {
  std::string path;
  std::vector<float> targets;  // length K: +1 observed positive, 0 unobserved/negative, -1 observed negative
  int64_t index = 0;           // dataset index, reported back in Batch::indices
  // Stored size from the project (COCO width/height), 0 when unknown. Lets the decoder pick a reduced
  // JPEG decoding factor without opening the file twice.
  int width = 0;
  int height = 0;
};

}  // namespace mls
