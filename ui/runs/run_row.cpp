#include "runs/run_row.h"

#include <unordered_map>

#include "data/store/project_store.h"

namespace mls {

std::optional<double> RunRow::imagesPerSecond() const {
  if (!config || stats.steps <= 0 || stats.epoch_seconds <= 0) return std::nullopt;
  return static_cast<double>(stats.steps) * config->batch / stats.epoch_seconds;
}

std::optional<qint64> RunRow::durationMs(qint64 now_ms) const {
  if (record.finished_at) return *record.finished_at - record.started_at;
  if (record.status == RunStatus::Running) return now_ms - record.started_at;
  return std::nullopt;
}

QString RunRow::label() const {
  return QStringLiteral("#%1 %2").arg(record.id).arg(QString::fromStdString(record.name));
}

std::vector<RunRow> loadRunRows(ProjectStore& store) {
  std::unordered_map<int64_t, RunStats> stats;
  for (const auto& s : store.runStats()) stats.emplace(s.run_id, s);
  std::vector<RunRow> rows;
  for (auto& r : store.runs()) {
    RunRow row;
    row.record = std::move(r);
    if (auto it = stats.find(row.record.id); it != stats.end()) row.stats = it->second;
    try {
      row.config = TrainRequest::fromJson(row.record.config);
    } catch (const std::exception&) {
      // An unreadable config leaves the settings cells empty; the run itself still lists.
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace mls
