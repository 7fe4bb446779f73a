#include "data/coco/project_export.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>

#include "data/store/project_store.h"

namespace mls {

namespace {

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::ofstream openOut(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::invalid_argument("cannot write '" + path + "'");
  return out;
}

}  // namespace

int64_t exportCsv(ProjectStore& store, const std::string& out_path) {
  std::unordered_map<int64_t, std::string> names;
  for (const auto& c : store.categories()) names[c.id] = c.name;
  const auto positives = store.singlePositives();
  std::unordered_map<int64_t, std::vector<int64_t>> labels;
  for (Split s : {Split::Train, Split::Val, Split::Test})
    for (auto& [id, cats] : store.labelsBySplit(s)) labels[id] = std::move(cats);

  auto out = openOut(out_path);
  out << "image_id,file_name,split,single_positive,labels\n";
  int64_t rows = 0;
  for (const auto& im : store.images()) {
    std::string sp;
    if (auto it = positives.find(im.id); it != positives.end()) sp = names[it->second.category_id];
    std::string joined;
    if (auto it = labels.find(im.id); it != labels.end()) {
      for (size_t k = 0; k < it->second.size(); ++k) joined += (k ? ";" : "") + names[it->second[k]];
    }
    out << im.id << ',' << csvField(im.file_name) << ',' << splitName(im.split) << ',' << csvField(sp) << ','
        << csvField(joined) << '\n';
    ++rows;
  }
  if (!out) throw std::runtime_error("error while writing '" + out_path + "'");
  return rows;
}

int64_t exportCoco(ProjectStore& store, const std::string& out_path) {
  nlohmann::json j;
  j["info"] = {{"description", "Multi-Label Studio export: one image-level annotation per single positive"}};
  j["categories"] = nlohmann::json::array();
  for (const auto& c : store.categories())
    j["categories"].push_back({{"id", c.id}, {"name", c.name}, {"supercategory", c.supercategory}});
  j["images"] = nlohmann::json::array();
  const auto images = store.images();
  for (const auto& im : images)
    j["images"].push_back({{"id", im.id},
                           {"file_name", im.file_name},
                           {"width", im.width},
                           {"height", im.height},
                           {"split", splitName(im.split)}});
  j["annotations"] = nlohmann::json::array();
  int64_t next_id = 1;
  const auto positives = store.singlePositives();
  for (const auto& im : images) {
    auto it = positives.find(im.id);
    if (it == positives.end()) continue;
    j["annotations"].push_back({{"id", next_id++},
                                {"image_id", im.id},
                                {"category_id", it->second.category_id},
                                {"iscrowd", 0},
                                {"source", sourceName(it->second.source)}});
  }
  auto out = openOut(out_path);
  out << j.dump() << '\n';
  if (!out) throw std::runtime_error("error while writing '" + out_path + "'");
  return next_id - 1;
}

}  // namespace mls
