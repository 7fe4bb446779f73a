// Reads the `image_id,<class names…>` CSV files of `mlstudio-cli eval --scores/--labels`.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace mls::cli {

struct CsvMatrix {
  std::vector<std::string> classes;
  std::vector<std::string> image_ids;
  std::vector<double> values;  // row-major (images × classes)
};

// Throws std::invalid_argument naming the file and line for ragged rows, non-numbers and NaN/Inf.
CsvMatrix readCsvMatrix(const std::string& path);

}  // namespace mls::cli
