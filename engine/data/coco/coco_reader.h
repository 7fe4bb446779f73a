// Parses and validates a COCO instances_*.json (2014 or 2017 layout) into image-level labels.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "data/store/project_types.h"

namespace mls {

// Bad annotation file: the message says where (byte offset / line, or which entry) and what is wrong.
class CocoFormatError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct CocoImage {
  int64_t id = 0;
  std::string file_name;
  int width = 0, height = 0;
};

struct CocoCollection {
  std::vector<Category> categories;                  // idx unset (assigned by the store)
  std::vector<CocoImage> images;
  // Image-level labels: the distinct categories of each image's annotations, crowd ones included
  // (both the Q2L and the MLSPL code build their label vectors this way).
  std::vector<std::pair<int64_t, int64_t>> labels;   // (image id, category id), unique
  int64_t annotations = 0;                           // instances read
};

CocoCollection readCocoFile(const std::string& json_path);

}  // namespace mls
