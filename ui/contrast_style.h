// Fusion with check-box frames that stay visible on a dark palette: Fusion draws an unchecked box's frame
// from the window colour darkened, which on a dark window is almost the colour of the dark base inside it
// (the run lists' check boxes disappeared in the dark palette).
#pragma once
#include <QProxyStyle>

namespace mls {

class ContrastStyle : public QProxyStyle {
  Q_OBJECT
 public:
  ContrastStyle();
  void drawPrimitive(PrimitiveElement element, const QStyleOption* option, QPainter* painter,
                     const QWidget* widget = nullptr) const override;
};

}  // namespace mls
