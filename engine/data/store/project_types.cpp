#include "data/store/project_types.h"

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
  throw std::invalid_argument("unknown split '" + name + "' (expected train, val or test)");
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
  throw std::invalid_argument("unknown annotation source '" + name + "'");
}

}  // namespace mls
