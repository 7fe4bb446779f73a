#include "contrast_style.h"

#include <QPainter>
#include <QStyleFactory>
#include <QStyleOption>

namespace mls {

ContrastStyle::ContrastStyle() : QProxyStyle(QStyleFactory::create(QStringLiteral("Fusion"))) {}

void ContrastStyle::drawPrimitive(PrimitiveElement element, const QStyleOption* option, QPainter* painter,
                                  const QWidget* widget) const {
  QProxyStyle::drawPrimitive(element, option, painter, widget);
  const bool check_box = element == PE_IndicatorCheckBox || element == PE_IndicatorItemViewItemCheck;
  if (!check_box || option->palette.color(QPalette::Base).lightness() > 100) return;  // light palettes: as Fusion
  painter->save();
  painter->setRenderHint(QPainter::Antialiasing, false);
  painter->setBrush(Qt::NoBrush);
  painter->setPen(option->palette.color(QPalette::Disabled, QPalette::Text));
  painter->drawRect(option->rect.adjusted(0, 0, -1, -1));
  painter->restore();
}

}  // namespace mls
