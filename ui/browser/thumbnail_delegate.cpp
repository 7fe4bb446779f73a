#include "browser/thumbnail_delegate.h"

#include <QApplication>
#include <QPainter>
#include <QPixmap>

#include "browser/label_state.h"
#include "browser/thumbnail_model.h"

namespace mls {

namespace {
constexpr int kPad = 4, kBadge = 16, kBorder = 3;

QString badgeGlyph(LabelState state) {
  switch (state) {
    case LabelState::User: return QStringLiteral("\u2713");
    case LabelState::Generated: return QStringLiteral("G");
    case LabelState::AcceptedSuggestion: return QStringLiteral("S");
    default: return {};
  }
}
}  // namespace

QSize ThumbnailDelegate::cellSize(const QFontMetrics& fm) { return {kIconPx + 20, kIconPx + 2 * kPad + fm.height() + 8}; }

QSize ThumbnailDelegate::sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const {
  return cellSize(option.fontMetrics);
}

void ThumbnailDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const {
  QStyleOptionViewItem opt = option;
  initStyleOption(&opt, index);
  painter->save();
  painter->setRenderHint(QPainter::Antialiasing);
  // The style's own selection / hover background, without its text and icon.
  const QWidget* widget = option.widget;
  QStyle* style = widget ? widget->style() : QApplication::style();
  style->drawPrimitive(QStyle::PE_PanelItemViewItem, &opt, painter, widget);

  const QRect cell = option.rect;
  const QRect icon_area(cell.left() + (cell.width() - kIconPx) / 2, cell.top() + kPad, kIconPx, kIconPx);
  const QPixmap pixmap = index.data(Qt::DecorationRole).value<QPixmap>();
  QRect picture = icon_area;
  if (!pixmap.isNull()) {
    const QSize size = pixmap.size().scaled(icon_area.size(), Qt::KeepAspectRatio);
    picture = QRect(QPoint(0, 0), size);
    picture.moveCenter(icon_area.center());
    painter->drawPixmap(picture, pixmap);
  }

  const auto state = static_cast<LabelState>(index.data(ThumbnailModel::LabelStateRole).toInt());
  const QColor colour = labelStateColor(state);
  if (colour.isValid()) {
    QPen pen(colour, kBorder);
    pen.setJoinStyle(Qt::MiterJoin);
    painter->setPen(pen);
    painter->setBrush(Qt::NoBrush);
    if (state != LabelState::Unlabelled) painter->drawRect(QRectF(picture).adjusted(1.5, 1.5, -1.5, -1.5));
    // Corner badge: filled with a glyph when labelled, an empty ring when not.
    const QRectF badge(picture.left() + 2, picture.top() + 2, kBadge, kBadge);
    painter->setPen(QPen(state == LabelState::Unlabelled ? colour : Qt::white, 2));
    painter->setBrush(state == LabelState::Unlabelled ? QBrush(QColor(0, 0, 0, 110)) : QBrush(colour));
    painter->drawEllipse(badge);
    if (const QString glyph = badgeGlyph(state); !glyph.isEmpty()) {
      QFont f = option.font;
      f.setBold(true);
      f.setPixelSize(11);
      painter->setFont(f);
      painter->setPen(Qt::white);
      painter->drawText(badge, Qt::AlignCenter, glyph);
    }
  }

  // "Model suggests X": only where it would tell something (no label yet, or a different one).
  const QString suggestion = index.data(ThumbnailModel::SuggestionRole).toString();
  const QString label = index.data(ThumbnailModel::LabelNameRole).toString();
  if (!suggestion.isEmpty() && suggestion != label) {
    QFont f = option.font;
    f.setPixelSize(10);
    const QFontMetrics fm(f);
    const QRect strip(picture.left(), picture.bottom() - fm.height() - 2, picture.width(), fm.height() + 2);
    painter->fillRect(strip, QColor(0, 0, 0, 160));
    painter->setFont(f);
    painter->setPen(QColor(255, 215, 120));
    painter->drawText(strip.adjusted(3, 0, -3, 0), Qt::AlignVCenter | Qt::AlignLeft,
                      fm.elidedText(QStringLiteral("\u2192 ") + suggestion, Qt::ElideRight, strip.width() - 6));
  }

  const QRect text_rect(cell.left() + 2, icon_area.bottom() + kPad, cell.width() - 4,
                        cell.bottom() - icon_area.bottom() - kPad);
  painter->setFont(option.font);
  const bool selected = option.state & QStyle::State_Selected;
  painter->setPen(option.palette.color(selected ? QPalette::HighlightedText : QPalette::Text));
  const QString name = index.data(Qt::DisplayRole).toString();
  painter->drawText(text_rect, Qt::AlignHCenter | Qt::AlignTop,
                    option.fontMetrics.elidedText(name, Qt::ElideMiddle, text_rect.width()));
  painter->restore();
}

}  // namespace mls
