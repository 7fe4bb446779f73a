// Writes a project's images, labels and single positives out as CSV or COCO instances-style JSON.
#pragma once
#include <cstdint>
#include <string>

namespace mls {

class ProjectStore;

// CSV: header `image_id,file_name,split,single_positive,labels`, one row per image; labels joined by ';'.
int64_t exportCsv(ProjectStore& store, const std::string& out_path);
// COCO: images + categories + one image-level annotation (no bbox) per single positive.
int64_t exportCoco(ProjectStore& store, const std::string& out_path);

}  // namespace mls
