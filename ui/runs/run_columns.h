// The columns of the runs table, each with the text it shows and the value it sorts by. Settings columns
// come from the run's stored TrainRequest; the compare table lists the same settings side by side.
#pragma once
#include <QString>
#include <QVariant>
#include <functional>
#include <vector>

#include "runs/run_row.h"

namespace mls {

enum class RunColumnId {
  Name, Status,
  // settings (from the stored config)
  Method, Loss, Labels, Backbone, Weights, ImageSize, Batch, Epochs, Lr, Amp, Ema, EarlyStop, LinearInit,
  ExpectedPositives, Seed, Device, CheckpointBackbone, ChannelsLast,
  // outcome
  Started, Duration, BestMap, FinalMap, ImagesPerSecond, Notes,
};

struct RunColumn {
  RunColumnId id;
  QString header;
  QString tooltip;
  bool setting;  // a training setting: hidden when equal in every run (unless "all settings" is on)
  std::function<QString(const RunRow&, qint64 now_ms)> text;
  std::function<QVariant(const RunRow&, qint64 now_ms)> sortValue;  // invalid = no value (sorts last)
};

const std::vector<RunColumn>& runColumns();
int runColumnIndex(RunColumnId id);

}  // namespace mls
