#include "runs/run_columns.h"

#include <QDateTime>
#include <QObject>

namespace mls {

namespace {

QString qs(const std::string& s) { return QString::fromStdString(s); }
QString yesNo(bool b) { return b ? QObject::tr("yes") : QObject::tr("no"); }

QString duration(qint64 ms) {
  const qint64 s = (ms + 500) / 1000;
  if (s < 60) return QStringLiteral("%1 s").arg(s);
  if (s < 3600) return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60);
  return QStringLiteral("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

QString percent(const std::optional<double>& v) { return v ? QString::number(*v, 'f', 2) : QString(); }
QVariant orInvalid(const std::optional<double>& v) { return v ? QVariant(*v) : QVariant(); }

// A settings column: text and sort value from the parsed config, empty when the config did not parse.
RunColumn setting(RunColumnId id, const QString& header, const QString& tip,
                  std::function<QVariant(const TrainRequest&)> value,
                  std::function<QString(const TrainRequest&)> text = {}) {
  RunColumn c{id, header, tip, true, {}, {}};
  c.sortValue = [value](const RunRow& r, qint64) { return r.config ? value(*r.config) : QVariant(); };
  c.text = [value, text](const RunRow& r, qint64) {
    if (!r.config) return QString();
    return text ? text(*r.config) : value(*r.config).toString();
  };
  return c;
}

std::vector<RunColumn> makeColumns() {
  using Id = RunColumnId;
  std::vector<RunColumn> c;
  c.push_back({Id::Name, QObject::tr("Run"), QObject::tr("Run id and name (double-click to rename)"), false,
               [](const RunRow& r, qint64) { return qs(r.record.name); },
               [](const RunRow& r, qint64) { return QVariant(qs(r.record.name).toLower()); }});
  c.push_back({Id::Status, QObject::tr("Status"), {}, false,
               [](const RunRow& r, qint64) { return qs(runStatusName(r.record.status)); },
               [](const RunRow& r, qint64) { return QVariant(qs(runStatusName(r.record.status))); }});
  c.push_back(setting(Id::Method, QObject::tr("Method"), {}, [](const TrainRequest& t) { return QVariant(qs(methodName(t.method))); }));
  c.push_back(setting(Id::Loss, QObject::tr("Loss"), {}, [](const TrainRequest& t) { return QVariant(qs(t.loss)); }));
  c.push_back(setting(Id::Labels, QObject::tr("Labels"), QObject::tr("full labels or single positives"),
                      [](const TrainRequest& t) { return QVariant(qs(t.labels)); }));
  c.push_back(setting(Id::Backbone, QObject::tr("Backbone"), {}, [](const TrainRequest& t) { return QVariant(qs(t.backbone)); }));
  c.push_back(setting(Id::Weights, QObject::tr("Weights"), QObject::tr("initial weights file"),
                      [](const TrainRequest& t) { return QVariant(qs(t.weights)); }));
  c.push_back(setting(Id::ImageSize, QObject::tr("Size"), QObject::tr("image size (px)"),
                      [](const TrainRequest& t) { return QVariant(t.image_size); }));
  c.push_back(setting(Id::Batch, QObject::tr("Batch"), QObject::tr("batch × gradient accumulation steps"),
                      [](const TrainRequest& t) { return QVariant(t.batch * t.grad_accum); },
                      [](const TrainRequest& t) {
                        return t.grad_accum > 1 ? QStringLiteral("%1 × %2").arg(t.batch).arg(t.grad_accum)
                                                : QString::number(t.batch);
                      }));
  c.push_back(setting(Id::Epochs, QObject::tr("Epochs"), QObject::tr("epochs asked for"),
                      [](const TrainRequest& t) { return QVariant(t.epochs); }));
  c.push_back(setting(Id::Lr, QObject::tr("LR"), QObject::tr("learning rate (peak, for OneCycle)"),
                      [](const TrainRequest& t) { return QVariant(t.lr); },
                      [](const TrainRequest& t) { return QString::number(t.lr, 'g', 3); }));
  c.push_back(setting(Id::Amp, QObject::tr("AMP"), QObject::tr("mixed precision"),
                      [](const TrainRequest& t) { return QVariant(t.amp ? qs(t.amp_dtype) : QObject::tr("off")); }));
  c.push_back(setting(Id::Ema, QObject::tr("EMA"), QObject::tr("EMA decay of the weights (0 = off)"),
                      [](const TrainRequest& t) { return QVariant(t.ema); },
                      [](const TrainRequest& t) { return t.ema > 0 ? QString::number(t.ema, 'g', 5) : QObject::tr("off"); }));
  c.push_back(setting(Id::EarlyStop, QObject::tr("Early stop"), QObject::tr("epochs without improvement (0 = off)"),
                      [](const TrainRequest& t) { return QVariant(t.early_stop); }));
  c.push_back(setting(Id::LinearInit, QObject::tr("LinearInit"), QObject::tr("MLSPL LinearInit epochs"),
                      [](const TrainRequest& t) { return QVariant(t.linear_init); }));
  c.push_back(setting(Id::ExpectedPositives, QObject::tr("k"),
                      QObject::tr("expected positives per image (EPR, ROLE; 0 = estimated)"),
                      [](const TrainRequest& t) { return QVariant(t.expected_positives); }));
  c.push_back(setting(Id::Seed, QObject::tr("Seed"), {},
                      [](const TrainRequest& t) { return QVariant(static_cast<qulonglong>(t.seed)); }));
  c.push_back(setting(Id::Device, QObject::tr("Device"), {}, [](const TrainRequest& t) { return QVariant(qs(t.device)); }));
  c.push_back(setting(Id::CheckpointBackbone, QObject::tr("Ckpt backbone"), QObject::tr("activation checkpointing"),
                      [](const TrainRequest& t) { return QVariant(yesNo(t.checkpoint_backbone)); }));
  c.push_back(setting(Id::ChannelsLast, QObject::tr("Channels last"), {},
                      [](const TrainRequest& t) { return QVariant(yesNo(t.channels_last)); }));
  c.push_back({Id::Started, QObject::tr("Started"), {}, false,
               [](const RunRow& r, qint64) {
                 return QDateTime::fromMSecsSinceEpoch(r.record.started_at).toString(QStringLiteral("yyyy-MM-dd HH:mm"));
               },
               [](const RunRow& r, qint64) { return QVariant(static_cast<qlonglong>(r.record.started_at)); }});
  c.push_back({Id::Duration, QObject::tr("Duration"), QObject::tr("wall time from start to end (so far, if running)"),
               false,
               [](const RunRow& r, qint64 now) {
                 const auto d = r.durationMs(now);
                 return d ? duration(*d) : QString();
               },
               [](const RunRow& r, qint64 now) {
                 const auto d = r.durationMs(now);
                 return d ? QVariant(static_cast<qlonglong>(*d)) : QVariant();
               }});
  c.push_back({Id::BestMap, QObject::tr("Best mAP"), QObject::tr("best val mAP (%) over the epochs"), false,
               [](const RunRow& r, qint64) { return percent(r.record.best_val_map); },
               [](const RunRow& r, qint64) { return orInvalid(r.record.best_val_map); }});
  c.push_back({Id::FinalMap, QObject::tr("Final mAP"), QObject::tr("val mAP (%) of the last recorded epoch"), false,
               [](const RunRow& r, qint64) { return percent(r.stats.final_val_map); },
               [](const RunRow& r, qint64) { return orInvalid(r.stats.final_val_map); }});
  c.push_back({Id::ImagesPerSecond, QObject::tr("img/s"),
               QObject::tr("Training images per second: recorded steps × batch ÷ recorded epoch time.\n"
                           "Epoch time includes validation, so the step rate alone is higher."),
               false,
               [](const RunRow& r, qint64) {
                 const auto v = r.imagesPerSecond();
                 return v ? QString::number(*v, 'f', *v < 10 ? 2 : 1) : QString();
               },
               [](const RunRow& r, qint64) { return orInvalid(r.imagesPerSecond()); }});
  c.push_back({Id::Notes, QObject::tr("Notes"), QObject::tr("your notes (double-click to edit)"), false,
               [](const RunRow& r, qint64) { return qs(r.record.notes); },
               [](const RunRow& r, qint64) { return QVariant(qs(r.record.notes).toLower()); }});
  return c;
}

}  // namespace

const std::vector<RunColumn>& runColumns() {
  static const std::vector<RunColumn> columns = makeColumns();
  return columns;
}

int runColumnIndex(RunColumnId id) {
  const auto& c = runColumns();
  for (size_t i = 0; i < c.size(); ++i)
    if (c[i].id == id) return static_cast<int>(i);
  return -1;
}

}  // namespace mls
