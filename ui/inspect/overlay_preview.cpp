#include "inspect/overlay_preview.h"

#include <QPainter>

namespace mls {

OverlayPreview::OverlayPreview(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void OverlayPreview::setImage(const QImage& image) {
  image_ = image;
  update();
}

void OverlayPreview::setMessage(const QString& message) {
  message_ = message;
  update();
}

void OverlayPreview::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Base).darker(104));
  if (image_.isNull()) {
    p.setPen(palette().color(QPalette::PlaceholderText));
    p.drawText(rect().adjusted(8, 8, -8, -8), Qt::AlignCenter | Qt::TextWordWrap, message_);
    return;
  }
  const QSize fitted = image_.size().scaled(size(), Qt::KeepAspectRatio);
  const QRect target(QPoint((width() - fitted.width()) / 2, (height() - fitted.height()) / 2), fitted);
  // Small images (the demo's 64 px) are enlarged: smooth filtering keeps the heat map readable.
  p.setRenderHint(QPainter::SmoothPixmapTransform);
  p.drawImage(target, image_);
}

}  // namespace mls
