#include "csv_matrix.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mls::cli {

namespace {
std::vector<std::string> splitLine(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      out.push_back(field);
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  out.push_back(field);
  return out;
}
}  // namespace

CsvMatrix readCsvMatrix(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument("cannot read '" + path + "'");
  CsvMatrix m;
  std::string line;
  if (!std::getline(in, line)) throw std::invalid_argument(path + ": empty file");
  auto header = splitLine(line);
  if (header.size() < 2 || header[0] != "image_id")
    throw std::invalid_argument(path + ": header must be image_id,<class names...>");
  m.classes.assign(header.begin() + 1, header.end());
  size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    const auto fields = splitLine(line);
    if (fields.size() != header.size())
      throw std::invalid_argument(path + ":" + std::to_string(line_no) + ": " + std::to_string(fields.size()) +
                                  " fields, header has " + std::to_string(header.size()));
    m.image_ids.push_back(fields[0]);
    for (size_t c = 1; c < fields.size(); ++c) {
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(fields[c], &used);
      } catch (...) {
        used = 0;
      }
      if (used == 0 || used != fields[c].size())
        throw std::invalid_argument(path + ":" + std::to_string(line_no) + ": '" + fields[c] + "' is not a number");
      if (!std::isfinite(v))
        throw std::invalid_argument(path + ":" + std::to_string(line_no) + ": NaN or infinite value for class '" +
                                    m.classes[c - 1] + "'");
      m.values.push_back(v);
    }
  }
  if (m.image_ids.empty()) throw std::invalid_argument(path + ": no rows");
  return m;
}

}  // namespace mls::cli
