#include "data/coco/coco_reader.h"

#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace mls {

namespace {

// simdjson is fast but its errors carry no position; on failure we re-parse with nlohmann-json (slow path,
// only for broken files) to tell the user the byte offset and line.
[[noreturn]] void throwSyntaxError(const std::string& text, const std::string& source, simdjson::error_code code) {
  try {
    (void)nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    throw CocoFormatError(source + ": malformed JSON at byte " + std::to_string(e.byte) + " (" +
                          std::string(e.what()).substr(std::string(e.what()).find(']') + 2) + ")");
  } catch (...) {
  }
  throw CocoFormatError(source + ": malformed JSON (" + simdjson::error_message(code) + ")");
}

std::string where(const char* array, size_t index) {
  return std::string(array) + "[" + std::to_string(index) + "]";
}

int64_t requireId(simdjson::dom::object obj, const char* key, const std::string& ctx) {
  simdjson::dom::element el;
  if (obj[key].get(el)) throw CocoFormatError(ctx + ": missing key '" + key + "'");
  int64_t v = 0;
  if (el.is_int64()) return el.get_int64().value();
  if (el.is_uint64()) {
    throw CocoFormatError(ctx + ": '" + key + "' is too large for a 64-bit id");
  }
  double d = 0;
  if (!el.get_double().get(d) && d == static_cast<double>(static_cast<int64_t>(d))) return static_cast<int64_t>(d);
  (void)v;
  throw CocoFormatError(ctx + ": '" + key + "' must be an integer");
}

std::string requireString(simdjson::dom::object obj, const char* key, const std::string& ctx) {
  std::string_view sv;
  simdjson::dom::element el;
  if (obj[key].get(el)) throw CocoFormatError(ctx + ": missing key '" + key + "'");
  if (el.get_string().get(sv)) throw CocoFormatError(ctx + ": '" + key + "' must be a string");
  return std::string(sv);
}

int optionalInt(simdjson::dom::object obj, const char* key) {
  simdjson::dom::element el;
  if (obj[key].get(el)) return 0;
  int64_t i = 0;
  if (!el.get_int64().get(i)) return static_cast<int>(i);
  double d = 0;
  if (!el.get_double().get(d)) return static_cast<int>(d);
  return 0;
}

simdjson::dom::array requireArray(simdjson::dom::object root, const char* key, const std::string& source) {
  simdjson::dom::element el;
  if (root[key].get(el)) throw CocoFormatError(source + ": missing top-level key '" + key + "'");
  simdjson::dom::array arr;
  if (el.get_array().get(arr)) throw CocoFormatError(source + ": '" + key + "' must be an array");
  return arr;
}

simdjson::dom::object requireObject(simdjson::dom::element el, const std::string& ctx) {
  simdjson::dom::object obj;
  if (el.get_object().get(obj)) throw CocoFormatError(ctx + ": must be an object");
  return obj;
}

CocoCollection parse(const simdjson::padded_string& text, const std::string& source) {
  simdjson::dom::parser parser;
  simdjson::dom::element root_el;
  if (auto err = parser.parse(text).get(root_el))
    throwSyntaxError(std::string(text.data(), text.size()), source, err);
  simdjson::dom::object root;
  if (root_el.get_object().get(root)) throw CocoFormatError(source + ": top level must be a JSON object");

  CocoCollection out;
  std::unordered_set<int64_t> category_ids;
  size_t i = 0;
  for (auto el : requireArray(root, "categories", source)) {
    const auto ctx = source + ": " + where("categories", i++);
    auto obj = requireObject(el, ctx);
    Category c;
    c.id = requireId(obj, "id", ctx);
    c.name = requireString(obj, "name", ctx);
    std::string_view super;
    if (!obj["supercategory"].get_string().get(super)) c.supercategory = std::string(super);
    if (!category_ids.insert(c.id).second)
      throw CocoFormatError(ctx + ": duplicate category id " + std::to_string(c.id));
    out.categories.push_back(std::move(c));
  }

  std::unordered_set<int64_t> image_ids;
  i = 0;
  auto images = requireArray(root, "images", source);
  out.images.reserve(images.size());
  image_ids.reserve(images.size() * 2);
  for (auto el : images) {
    const auto ctx = source + ": " + where("images", i++);
    auto obj = requireObject(el, ctx);
    CocoImage im;
    im.id = requireId(obj, "id", ctx);
    im.file_name = requireString(obj, "file_name", ctx);
    im.width = optionalInt(obj, "width");
    im.height = optionalInt(obj, "height");
    if (!image_ids.insert(im.id).second) throw CocoFormatError(ctx + ": duplicate image id " + std::to_string(im.id));
    out.images.push_back(std::move(im));
  }

  // image_info files (test splits) have no annotations: images without labels.
  simdjson::dom::element ann_el;
  if (root["annotations"].get(ann_el)) return out;
  simdjson::dom::array anns;
  if (ann_el.get_array().get(anns)) throw CocoFormatError(source + ": 'annotations' must be an array");
  std::unordered_set<int64_t> ann_ids;
  ann_ids.reserve(anns.size() * 2);
  out.labels.reserve(anns.size());
  i = 0;
  for (auto el : anns) {
    const auto ctx = source + ": " + where("annotations", i++);
    auto obj = requireObject(el, ctx);
    const int64_t image_id = requireId(obj, "image_id", ctx);
    const int64_t category_id = requireId(obj, "category_id", ctx);
    simdjson::dom::element id_el;
    if (!obj["id"].get(id_el)) {
      const int64_t ann_id = requireId(obj, "id", ctx);
      if (!ann_ids.insert(ann_id).second)
        throw CocoFormatError(ctx + ": duplicate annotation id " + std::to_string(ann_id));
    }
    if (!image_ids.count(image_id))
      throw CocoFormatError(ctx + ": refers to unknown image id " + std::to_string(image_id));
    if (!category_ids.count(category_id))
      throw CocoFormatError(ctx + ": refers to unknown category id " + std::to_string(category_id));
    out.labels.emplace_back(image_id, category_id);
  }
  out.annotations = static_cast<int64_t>(anns.size());
  std::sort(out.labels.begin(), out.labels.end());
  out.labels.erase(std::unique(out.labels.begin(), out.labels.end()), out.labels.end());
  return out;
}

}  // namespace

CocoCollection readCocoFile(const std::string& json_path) {
  if (!std::filesystem::is_regular_file(json_path))
    throw CocoFormatError("annotation file '" + json_path + "' does not exist");
  simdjson::padded_string text;
  if (simdjson::padded_string::load(json_path).get(text))
    throw CocoFormatError("cannot read annotation file '" + json_path + "'");
  return parse(text, json_path);
}

CocoCollection parseCocoJson(const std::string& json_text) {
  return parse(simdjson::padded_string(json_text), "<json>");
}

}  // namespace mls
