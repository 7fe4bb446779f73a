// Paints each palette class as a rounded "chip" so it reads as a button, keeping the model's background
// marks (current label green, suggestion amber) which a style sheet would hide.
#pragma once
#include <QStyledItemDelegate>

namespace mls {

class PaletteChipDelegate : public QStyledItemDelegate {
  Q_OBJECT
 public:
  using QStyledItemDelegate::QStyledItemDelegate;
  void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override;
  QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override;
};

}  // namespace mls
