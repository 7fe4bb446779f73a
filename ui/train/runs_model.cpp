#include "train/runs_model.h"

#include <QColor>
#include <QDateTime>
#include <algorithm>

namespace mls {

RunsModel::RunsModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunsModel::setRuns(std::vector<RunRecord> runs) {
  std::sort(runs.begin(), runs.end(), [](const RunRecord& a, const RunRecord& b) { return a.id > b.id; });
  beginResetModel();
  runs_ = std::move(runs);
  QSet<qint64> still;
  for (const auto& r : runs_)
    if (checked_.contains(r.id)) still.insert(r.id);
  checked_ = still;
  endResetModel();
}

const RunRecord* RunsModel::runAt(int row) const {
  return row >= 0 && row < static_cast<int>(runs_.size()) ? &runs_[static_cast<size_t>(row)] : nullptr;
}

int RunsModel::rowOfRun(qint64 run_id) const {
  for (size_t i = 0; i < runs_.size(); ++i)
    if (runs_[i].id == run_id) return static_cast<int>(i);
  return -1;
}

QList<qint64> RunsModel::checkedRuns() const {
  QList<qint64> out;
  for (const auto& r : runs_)
    if (checked_.contains(r.id)) out.push_back(r.id);
  return out;
}

void RunsModel::setChecked(qint64 run_id, bool checked) {
  const int row = rowOfRun(run_id);
  if (row < 0 || checked_.contains(run_id) == checked) return;
  if (checked)
    checked_.insert(run_id);
  else
    checked_.remove(run_id);
  const QModelIndex i = index(row, NameColumn);
  Q_EMIT dataChanged(i, i, {Qt::CheckStateRole});
  Q_EMIT checkedChanged(run_id, checked);
}

int RunsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(runs_.size());
}

int RunsModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : ColumnCount; }

QVariant RunsModel::data(const QModelIndex& index, int role) const {
  const RunRecord* r = index.isValid() ? runAt(index.row()) : nullptr;
  if (!r) return {};
  if (role == RunIdRole) return QVariant::fromValue<qint64>(r->id);
  if (role == Qt::CheckStateRole && index.column() == NameColumn)
    return checked_.contains(r->id) ? Qt::Checked : Qt::Unchecked;
  if (role == Qt::ToolTipRole) {
    QString tip = QStringLiteral("Run %1 · started %2").arg(r->id).arg(
        QDateTime::fromMSecsSinceEpoch(r->started_at).toString(Qt::ISODate));
    if (!r->message.empty()) tip += QStringLiteral("\n") + QString::fromStdString(r->message);
    return tip;
  }
  if (role == Qt::ForegroundRole && index.column() == StatusColumn) {
    if (r->status == RunStatus::Failed) return QColor(200, 40, 40);
    if (r->status == RunStatus::Running) return QColor(30, 110, 200);
    return {};
  }
  if (role == Qt::TextAlignmentRole && index.column() == BestMapColumn)
    return QVariant(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole) return {};
  switch (index.column()) {
    case NameColumn: return QStringLiteral("#%1 %2").arg(r->id).arg(QString::fromStdString(r->name));
    case MethodColumn: return QString::fromStdString(r->method);
    case StatusColumn: return QString::fromLatin1(runStatusName(r->status));
    case BestMapColumn: return r->best_val_map ? QString::number(*r->best_val_map, 'f', 2) : QString();
    default: return {};
  }
}

bool RunsModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  const RunRecord* r = index.isValid() ? runAt(index.row()) : nullptr;
  if (!r || role != Qt::CheckStateRole || index.column() != NameColumn) return false;
  setChecked(r->id, static_cast<Qt::CheckState>(value.toInt()) == Qt::Checked);
  return true;
}

Qt::ItemFlags RunsModel::flags(const QModelIndex& index) const {
  if (!index.isValid()) return Qt::NoItemFlags;
  Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren;
  if (index.column() == NameColumn) f |= Qt::ItemIsUserCheckable;
  return f;
}

QVariant RunsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case NameColumn: return tr("Run");
    case MethodColumn: return tr("Method");
    case StatusColumn: return tr("Status");
    case BestMapColumn: return tr("Best mAP");
    default: return {};
  }
}

}  // namespace mls
