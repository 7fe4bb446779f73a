#include "data/store/project_types.h"

#include <filesystem>

#include "data/store/one_line.h"

namespace mls {

const char* splitName(Split split) {
  switch (split) {
    case Split::Train: return "train";
    case Split::Val: return "val";
    case Split::Test: return "test";
  }
  return "train";
}

Split parseSplit(const std::string& name) {
  if (name == "train") return Split::Train;
  if (name == "val") return Split::Val;
  if (name == "test") return Split::Test;
  throw std::invalid_argument("unknown split '" + oneLine(name) + "' (expected train, val or test)");
}

const char* sourceName(AnnotationSource source) {
  switch (source) {
    case AnnotationSource::User: return "user";
    case AnnotationSource::Generated: return "generated";
    case AnnotationSource::AcceptedSuggestion: return "accepted-suggestion";
  }
  return "user";
}

AnnotationSource parseSource(const std::string& name) {
  if (name == "user") return AnnotationSource::User;
  if (name == "generated") return AnnotationSource::Generated;
  if (name == "accepted-suggestion") return AnnotationSource::AcceptedSuggestion;
  throw std::invalid_argument("unknown annotation source '" + oneLine(name) + "'");
}

bool staysInsideFolder(const std::string& file_name) {
  // The usual flat name ("COCO_train2014_000000000009.jpg") has one component and no root: no path object
  // (an import checks each of its ~80k names).
  if (file_name.find('/') == std::string::npos) return !file_name.empty() && file_name != "..";
  const std::filesystem::path p(file_name);
  if (file_name.empty() || p.has_root_path()) return false;
  for (const auto& part : p)
    if (part == "..") return false;
  return true;
}

}  // namespace mls
