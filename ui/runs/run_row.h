// One run as the Runs panel shows it: the stored record, totals of its recorded metrics, and its settings
// parsed from the stored config JSON.
#pragma once
#include <QString>
#include <optional>
#include <vector>

#include "data/store/project_types.h"
#include "data/training/train_request.h"

namespace mls {

class ProjectStore;

struct RunRow {
  RunRecord record;
  RunStats stats;
  std::optional<TrainRequest> config;  // nullopt when the stored config does not parse

  // Training images per second of recorded epoch wall time: steps × batch ÷ Σ epoch_seconds over the
  // completed epochs. epoch_seconds includes validation, so this is a lower bound on the step rate.
  std::optional<double> imagesPerSecond() const;
  // Finished: finished − started. Running: so far (now_ms). Unknown otherwise.
  std::optional<qint64> durationMs(qint64 now_ms) const;
  QString label() const;  // "#id name"
};

std::vector<RunRow> loadRunRows(ProjectStore& store);

}  // namespace mls
