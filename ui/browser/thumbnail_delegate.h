// Paints a thumbnail cell so its state reads at a glance: a border and corner badge in the colour of how the
// image is labelled (by you, generated, accepted suggestion, not yet), a strip with the model's suggestion
// when it differs from the label, and the file name elided in the middle (the start and the number at the
// end are what tell files apart; the tooltip has the full name).
#pragma once
#include <QStyledItemDelegate>

namespace mls {

class ThumbnailDelegate : public QStyledItemDelegate {
  Q_OBJECT
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;

  static constexpr int kIconPx = 96;
  static QSize cellSize(const QFontMetrics& fm);  // the grid size the browser uses
};

}  // namespace mls
