#include "data/store/project_types.h"

#include <filesystem>

#include "data/store/one_line.h"
#include "ml/name_table.h"

namespace mls {

namespace {

// The names are what project files store: never rename one.
constexpr EnumName<Split> kSplits[] = {{Split::Train, "train"}, {Split::Val, "val"}, {Split::Test, "test"}};

constexpr EnumName<AnnotationSource> kSources[] = {
    {AnnotationSource::User, "user"},
    {AnnotationSource::Generated, "generated"},
    {AnnotationSource::AcceptedSuggestion, "accepted-suggestion"},
};

constexpr EnumName<RunStatus> kRunStatuses[] = {
    {RunStatus::Running, "running"},
    {RunStatus::Finished, "finished"},
    {RunStatus::Failed, "failed"},
    {RunStatus::Cancelled, "cancelled"},
};

constexpr EnumName<MetricKey> kMetricKeys[] = {
    {MetricKey::Loss, "loss"},
    {MetricKey::Lr, "lr"},
    {MetricKey::TrainLoss, "train_loss"},
    {MetricKey::ValMap, "val_map"},
    {MetricKey::ValMapRaw, "val_map_raw"},
    {MetricKey::ValMapEma, "val_map_ema"},
    {MetricKey::ValMapMlspl, "val_map_mlspl"},
    {MetricKey::ValMapQ2lVoc, "val_map_q2l_voc"},
    {MetricKey::Cf1, "cf1"},
    {MetricKey::Of1, "of1"},
    {MetricKey::EpochSeconds, "epoch_seconds"},
};

// Parsing a stored value: one with a line break (a damaged file) is quoted on one line in the refusal. Names
// in the tables have no control characters, so oneLine() changes no name that could match.
template <class E, size_t N>
E parseStored(const EnumName<E> (&table)[N], const std::string& name, const char* what) {
  return parseEnum(table, oneLine(name), what);
}

}  // namespace

const char* splitName(Split split) { return enumName(kSplits, split); }
Split parseSplit(const std::string& name) { return parseStored(kSplits, name, "split"); }
std::vector<std::string> splitNames() { return enumNames(kSplits); }

const char* sourceName(AnnotationSource source) { return enumName(kSources, source); }
AnnotationSource parseSource(const std::string& name) { return parseStored(kSources, name, "annotation source"); }
std::vector<std::string> sourceNames() { return enumNames(kSources); }

const char* runStatusName(RunStatus status) { return enumName(kRunStatuses, status); }
RunStatus parseRunStatus(const std::string& name) { return parseStored(kRunStatuses, name, "run status"); }
std::vector<std::string> runStatusNames() { return enumNames(kRunStatuses); }

const char* metricName(MetricKey key) { return enumName(kMetricKeys, key); }
MetricKey parseMetricKey(const std::string& name) { return parseStored(kMetricKeys, name, "metric"); }
std::vector<std::string> metricNames() { return enumNames(kMetricKeys); }

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
