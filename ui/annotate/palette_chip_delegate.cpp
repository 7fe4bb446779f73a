#include "annotate/palette_chip_delegate.h"

#include <QPainter>

namespace mls {

namespace {
constexpr int kPadX = 7, kPadY = 4, kMargin = 2;

QFont fontFor(const QStyleOptionViewItem& option, const QModelIndex& index) {
  const QVariant f = index.data(Qt::FontRole);
  return f.isValid() ? f.value<QFont>() : option.font;
}
}  // namespace

QSize PaletteChipDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const {
  const QFontMetrics fm(fontFor(option, index));
  const QString text = index.data(Qt::DisplayRole).toString();
  return {fm.horizontalAdvance(text) + 2 * (kPadX + kMargin), fm.height() + 2 * (kPadY + kMargin)};
}

void PaletteChipDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  painter->save();
  painter->setRenderHint(QPainter::Antialiasing);
  const QRectF chip = QRectF(option.rect).adjusted(kMargin + 0.5, kMargin + 0.5, -kMargin - 0.5, -kMargin - 0.5);
  const QPalette& pal = option.palette;
  const QVariant bg = index.data(Qt::BackgroundRole);
  const bool selected = option.state & QStyle::State_Selected;
  const bool hover = option.state & QStyle::State_MouseOver;
  painter->setBrush(bg.isValid() ? bg.value<QBrush>() : pal.brush(QPalette::Button));
  // The highlighted row (Enter's target while searching) gets a heavy border, hover a light one.
  QPen pen(selected ? pal.color(QPalette::Highlight) : hover ? pal.color(QPalette::Highlight).lighter(130)
                                                              : pal.color(QPalette::Mid));
  pen.setWidthF(selected ? 2.0 : 1.0);
  painter->setPen(pen);
  painter->drawRoundedRect(chip, 4, 4);
  const QVariant fg = index.data(Qt::ForegroundRole);
  painter->setPen(fg.isValid() ? fg.value<QBrush>().color() : pal.color(QPalette::ButtonText));
  painter->setFont(fontFor(option, index));
  painter->drawText(chip, Qt::AlignCenter, index.data(Qt::DisplayRole).toString());
  painter->restore();
}

}  // namespace mls
