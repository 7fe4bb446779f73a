#include "annotate/label_palette_model.h"

#include <QBrush>
#include <QColor>
#include <QFont>
#include <QRegularExpression>
#include <QStringList>
#include <algorithm>
#include <numeric>

namespace mls {

namespace {
QStringList wordsOf(const QString& text) {
  static const QRegularExpression sep(QStringLiteral("[\\s_\\-/,.]+"));
  return text.toLower().split(sep, Qt::SkipEmptyParts);
}

// Every query word starts some word of the name, in order ("bl st" matches "blue star", not "star blue").
bool wordPrefixesMatch(const QStringList& name_words, const QStringList& query_words) {
  int next = 0;
  for (const auto& q : query_words) {
    bool found = false;
    for (; next < name_words.size(); ++next)
      if (name_words[next].startsWith(q)) {
        found = true;
        ++next;
        break;
      }
    if (!found) return false;
  }
  return true;
}
}  // namespace

int paletteMatchRank(const QString& name, const QString& supercategory, const QString& query) {
  const QString q = query.trimmed().toLower();
  if (q.isEmpty()) return 0;
  const QString n = name.toLower();
  if (n.startsWith(q)) return 0;
  if (wordPrefixesMatch(wordsOf(n), wordsOf(q))) return 1;
  if (n.contains(q)) return 2;
  if (supercategory.toLower().contains(q)) return 3;
  return -1;
}

LabelPaletteModel::LabelPaletteModel(QObject* parent) : QAbstractListModel(parent) {}

void LabelPaletteModel::setCategories(const std::vector<Category>& categories) {
  beginResetModel();
  categories_ = categories;
  current_.reset();
  suggested_.reset();
  keys_.clear();
  pinned_.clear();
  rebuildRows();
  endResetModel();
}

void LabelPaletteModel::setFilterText(const QString& text) {
  if (text == filter_) return;
  beginResetModel();
  filter_ = text;
  rebuildRows();
  endResetModel();
}

void LabelPaletteModel::rebuildRows() {
  std::vector<std::pair<int, int>> ranked;  // (rank, category index)
  ranked.reserve(categories_.size());
  for (size_t i = 0; i < categories_.size(); ++i) {
    const auto& c = categories_[i];
    const int r = paletteMatchRank(QString::fromStdString(c.name), QString::fromStdString(c.supercategory), filter_);
    if (r >= 0) ranked.emplace_back(r, static_cast<int>(i));
  }
  // Best rank first; within a rank the model's class order (idx), which users of COCO know.
  std::stable_sort(ranked.begin(), ranked.end(), [&](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return categories_[static_cast<size_t>(a.second)].idx < categories_[static_cast<size_t>(b.second)].idx;
  });
  rows_.clear();
  for (const auto& [r, i] : ranked) rows_.push_back(i);
}

int64_t LabelPaletteModel::categoryIdAt(int row) const {
  if (row < 0 || row >= static_cast<int>(rows_.size())) return -1;
  return categories_[static_cast<size_t>(rows_[static_cast<size_t>(row)])].id;
}

int LabelPaletteModel::rowOfCategory(int64_t id) const {
  for (size_t r = 0; r < rows_.size(); ++r)
    if (categories_[static_cast<size_t>(rows_[r])].id == id) return static_cast<int>(r);
  return -1;
}

void LabelPaletteModel::repaintAll() {
  if (!rows_.empty()) Q_EMIT dataChanged(index(0), index(static_cast<int>(rows_.size()) - 1));
}

void LabelPaletteModel::setCurrentCategory(std::optional<int64_t> id) {
  if (id == current_) return;
  current_ = id;
  repaintAll();
}

void LabelPaletteModel::setSuggestedCategory(std::optional<int64_t> id) {
  if (id == suggested_) return;
  suggested_ = id;
  repaintAll();
}

void LabelPaletteModel::setQuickKeys(const std::vector<int64_t>& keys, const std::vector<int64_t>& pinned) {
  if (keys == keys_ && pinned == pinned_) return;
  keys_ = keys;
  pinned_ = pinned;
  repaintAll();
}

int LabelPaletteModel::keyOf(int64_t id) const {
  auto it = std::find(keys_.begin(), keys_.end(), id);
  return it == keys_.end() ? 0 : static_cast<int>(it - keys_.begin()) + 1;
}

bool LabelPaletteModel::isPinned(int64_t id) const {
  return std::find(pinned_.begin(), pinned_.end(), id) != pinned_.end();
}

int LabelPaletteModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

QVariant LabelPaletteModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const size_t row = static_cast<size_t>(index.row());
  const Category& c = categories_[static_cast<size_t>(rows_[row])];
  const QString name = QString::fromStdString(c.name);
  const int key = keyOf(c.id);
  switch (role) {
    case Qt::DisplayRole: {
      QString text = name;
      if (isPinned(c.id)) text = QStringLiteral("\u2605 ") + text;
      if (key > 0) text += QStringLiteral("  [%1]").arg(key);
      return text;
    }
    case Qt::ToolTipRole:
      return tr("%1 (%2, id %3)\nClick to label the current image. Right-click to pin to a number key.")
          .arg(name, QString::fromStdString(c.supercategory))
          .arg(c.id);
    case Qt::FontRole:
      if (current_ && *current_ == c.id) {
        QFont f;
        f.setBold(true);
        return f;
      }
      return {};
    case Qt::BackgroundRole:
      if (current_ && *current_ == c.id) return QBrush(QColor(150, 210, 150));
      if (suggested_ && *suggested_ == c.id) return QBrush(QColor(255, 226, 140));
      return {};
    case Qt::ForegroundRole:
      if ((current_ && *current_ == c.id) || (suggested_ && *suggested_ == c.id)) return QBrush(Qt::black);
      return {};
    case CategoryIdRole: return QVariant::fromValue<qlonglong>(c.id);
    case QuickKeyRole: return key;
    default: return {};
  }
}

}  // namespace mls
