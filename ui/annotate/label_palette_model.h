// The Annotate panel's class list: every category, filtered and ranked by the search text (best match
// first, so Enter can take row 0), with marks for the current single positive, the model's suggestion,
// pinned classes and number keys.
#pragma once
#include <QAbstractListModel>
#include <QString>
#include <optional>
#include <vector>

#include "data/store/project_types.h"

namespace mls {

// How well `query` matches a class: 0 name starts with it, 1 every query word starts a word of the name
// ("bl st" -> "blue star"), 2 name contains it, 3 supercategory contains it; -1 no match. Case-insensitive.
int paletteMatchRank(const QString& name, const QString& supercategory, const QString& query);

class LabelPaletteModel : public QAbstractListModel {
  Q_OBJECT
 public:
  enum Roles { CategoryIdRole = Qt::UserRole + 1, QuickKeyRole };

  explicit LabelPaletteModel(QObject* parent = nullptr);

  void setCategories(const std::vector<Category>& categories);
  void setFilterText(const QString& text);
  int totalCategories() const { return static_cast<int>(categories_.size()); }

  int64_t categoryIdAt(int row) const;      // -1 outside the rows
  int rowOfCategory(int64_t id) const;      // -1 when filtered out or unknown

  // Visual marks; a change only repaints, the rows stay.
  void setCurrentCategory(std::optional<int64_t> id);
  void setSuggestedCategory(std::optional<int64_t> id);
  // keys[i] is the class on key i+1; pinned marks a star.
  void setQuickKeys(const std::vector<int64_t>& keys, const std::vector<int64_t>& pinned);

  int rowCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role) const override;

 private:
  void rebuildRows();
  void repaintAll();
  int keyOf(int64_t id) const;
  bool isPinned(int64_t id) const;

  std::vector<Category> categories_;
  std::vector<int> rows_;      // indices into categories_
  QString filter_;
  std::optional<int64_t> current_, suggested_;
  std::vector<int64_t> keys_, pinned_;
};

}  // namespace mls
