#include "runs/runs_table_model.h"

#include <QColor>
#include <QDateTime>
#include <QFont>

#include "data/store/project_store.h"
#include "runs/run_columns.h"

namespace mls {

RunsTableModel::RunsTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunsTableModel::setStore(ProjectStore* store) {
  store_ = store;
  reload();
}

void RunsTableModel::reload() {
  try {
    setRows(store_ ? loadRunRows(*store_) : std::vector<RunRow>{});
  } catch (const std::exception& e) {
    Q_EMIT storeError(tr("Could not read the runs: %1").arg(QString::fromUtf8(e.what())));
  }
}

void RunsTableModel::setRows(std::vector<RunRow> rows) {
  beginResetModel();
  rows_ = std::move(rows);
  now_ms_ = QDateTime::currentMSecsSinceEpoch();
  updateConstantColumns();
  endResetModel();
}

void RunsTableModel::updateConstantColumns() {
  const auto& columns = runColumns();
  constant_.assign(columns.size(), false);
  if (rows_.size() < 2) return;
  for (size_t c = 0; c < columns.size(); ++c) {
    if (!columns[c].setting) continue;
    const QString first = columns[c].text(rows_.front(), now_ms_);
    bool same = true;
    for (size_t r = 1; r < rows_.size() && same; ++r) same = columns[c].text(rows_[r], now_ms_) == first;
    constant_[c] = same;
  }
}

const RunRow* RunsTableModel::rowAt(int row) const {
  return row >= 0 && row < static_cast<int>(rows_.size()) ? &rows_[static_cast<size_t>(row)] : nullptr;
}

int RunsTableModel::rowOfRun(qint64 run_id) const {
  for (size_t i = 0; i < rows_.size(); ++i)
    if (rows_[i].record.id == run_id) return static_cast<int>(i);
  return -1;
}

bool RunsTableModel::isConstantColumn(int column) const {
  return column >= 0 && column < static_cast<int>(constant_.size()) && constant_[static_cast<size_t>(column)];
}

int RunsTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int RunsTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(runColumns().size());
}

QVariant RunsTableModel::data(const QModelIndex& index, int role) const {
  const RunRow* r = index.isValid() ? rowAt(index.row()) : nullptr;
  if (!r || index.column() >= columnCount()) return {};
  const RunColumn& col = runColumns()[static_cast<size_t>(index.column())];
  switch (role) {
    case RunIdRole: return QVariant::fromValue<qint64>(r->record.id);
    case SortRole: return col.sortValue(*r, now_ms_);
    case Qt::EditRole: return col.text(*r, now_ms_);
    case Qt::DisplayRole: {
      const QString text = col.text(*r, now_ms_);
      if (col.id == RunColumnId::Name) return QStringLiteral("#%1 %2").arg(r->record.id).arg(text);
      if (col.id == RunColumnId::Notes) return text.section(QLatin1Char('\n'), 0, 0);  // first line in the cell
      return text;
    }
    case Qt::ToolTipRole:
      if (col.id == RunColumnId::Status && !r->record.message.empty()) return QString::fromStdString(r->record.message);
      if (col.id == RunColumnId::Notes && !r->record.notes.empty()) return QString::fromStdString(r->record.notes);
      if (col.setting && !r->config) return tr("this run's stored settings could not be read");
      return {};
    case Qt::ForegroundRole:
      if (col.id == RunColumnId::Status) {
        if (r->record.status == RunStatus::Failed) return QColor(200, 40, 40);
        if (r->record.status == RunStatus::Running) return QColor(30, 110, 200);
      }
      return {};
    case Qt::TextAlignmentRole: {
      const QVariant v = col.sortValue(*r, now_ms_);
      const bool number = v.typeId() == QMetaType::Double || v.typeId() == QMetaType::Int ||
                          v.typeId() == QMetaType::LongLong || v.typeId() == QMetaType::ULongLong;
      return number && col.id != RunColumnId::Started ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    }
    default: return {};
  }
}

bool RunsTableModel::setData(const QModelIndex& index, const QVariant& value, int role) {
  const RunRow* r = index.isValid() ? rowAt(index.row()) : nullptr;
  if (!r || !store_ || role != Qt::EditRole) return false;
  const RunColumnId id = runColumns()[static_cast<size_t>(index.column())].id;
  if (id != RunColumnId::Name && id != RunColumnId::Notes) return false;
  const QString text = id == RunColumnId::Name ? value.toString().trimmed() : value.toString();
  if (id == RunColumnId::Name && text.isEmpty()) {
    Q_EMIT storeError(tr("A run needs a name."));
    return false;
  }
  auto& row = rows_[static_cast<size_t>(index.row())];
  try {
    if (id == RunColumnId::Name) {
      store_->renameRun(row.record.id, text.toStdString());
      row.record.name = text.toStdString();
    } else {
      store_->setRunNotes(row.record.id, text.toStdString());
      row.record.notes = text.toStdString();
    }
  } catch (const std::exception& e) {
    Q_EMIT storeError(tr("Could not save: %1").arg(QString::fromUtf8(e.what())));
    return false;
  }
  Q_EMIT dataChanged(index, index);
  Q_EMIT runEdited(row.record.id);
  return true;
}

Qt::ItemFlags RunsTableModel::flags(const QModelIndex& index) const {
  if (!index.isValid()) return Qt::NoItemFlags;
  Qt::ItemFlags f = Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemNeverHasChildren;
  const RunColumnId id = runColumns()[static_cast<size_t>(index.column())].id;
  // Notes may span lines: the panel edits them in a dialog (setData still takes them), not in a line edit.
  if (id == RunColumnId::Name) f |= Qt::ItemIsEditable;
  return f;
}

QVariant RunsTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || section < 0 || section >= columnCount()) return {};
  const RunColumn& col = runColumns()[static_cast<size_t>(section)];
  if (role == Qt::DisplayRole) return col.header;
  if (role == Qt::ToolTipRole) return col.tooltip.isEmpty() ? QVariant() : QVariant(col.tooltip);
  return {};
}

}  // namespace mls
