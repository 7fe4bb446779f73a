#include "view/image_view.h"

#include <QMouseEvent>
#include <QPainter>
#include <QWheelEvent>
#include <algorithm>

namespace mls {

ImageView::ImageView(QWidget* parent) : QWidget(parent) {
  setMinimumSize(200, 200);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  setAttribute(Qt::WA_OpaquePaintEvent);
  setFocusPolicy(Qt::ClickFocus);  // a click on the picture gives the keys (A/D, 1-9, Enter) back to the window
}

void ImageView::setImage(const QImage& image, const QString& caption) {
  const bool same_size = image.size() == image_.size();
  image_ = image;
  caption_ = caption;
  message_.clear();
  if (!same_size) fit_ = true;
  update();
}

void ImageView::showMessage(const QString& message) {
  image_ = QImage();
  caption_.clear();
  message_ = message;
  fit_ = true;
  update();
}

QString ImageView::message() const {
  if (!image_.isNull()) return {};
  return message_.isEmpty() ? tr("No image selected") : message_;
}

double ImageView::fitScale() const {
  if (image_.isNull()) return 1.0;
  return std::min(width() / double(image_.width()), (height() - kCaptionHeight) / double(image_.height()));
}

double ImageView::zoom() const { return fit_ ? fitScale() : scale_; }

// Top-left of the image when fitted: centred above the caption band.
QPointF ImageView::fitOrigin() const {
  const double s = fitScale();
  return {(width() - image_.width() * s) / 2, (height() - kCaptionHeight - image_.height() * s) / 2};
}

void ImageView::zoomToFit() {
  fit_ = true;
  update();
}

void ImageView::zoomBy(double factor, QPointF anchor) {
  if (image_.isNull()) return;
  const double old_scale = zoom();
  const QPointF origin = fit_ ? fitOrigin() : offset_;
  scale_ = std::clamp(old_scale * factor, 0.05, 40.0);
  // Keep the image point under the anchor fixed.
  const QPointF image_point = (anchor - origin) / old_scale;
  offset_ = anchor - image_point * scale_;
  fit_ = false;
  update();
}

void ImageView::zoomIn() { zoomBy(1.25, rect().center()); }
void ImageView::zoomOut() { zoomBy(0.8, rect().center()); }

void ImageView::paintEvent(QPaintEvent*) {
  QPainter p(this);
  p.fillRect(rect(), palette().color(QPalette::Dark));
  if (image_.isNull()) {
    p.setPen(palette().color(QPalette::BrightText));
    // Paths are long: wrap anywhere rather than clip the part that tells where the file was looked for.
    p.drawText(rect().adjusted(12, 12, -12, -12), Qt::AlignCenter | Qt::TextWrapAnywhere, message());
    return;
  }
  const double s = zoom();
  const QSizeF size(image_.width() * s, image_.height() * s);
  const QPointF origin = fit_ ? fitOrigin() : offset_;
  p.setRenderHint(QPainter::SmoothPixmapTransform, s < 4.0);  // nearest-neighbour when zoomed far in
  p.drawImage(QRectF(origin, size), image_);
  p.setPen(palette().color(QPalette::BrightText));
  const QString info = QStringLiteral("%1   %2×%3   %4%").arg(caption_).arg(image_.width()).arg(image_.height()).arg(int(s * 100));
  p.drawText(QRect(6, height() - kCaptionHeight, width() - 12, kCaptionHeight - 2), Qt::AlignLeft | Qt::AlignVCenter, info);
}

std::vector<KeyBinding> ImageView::mouseBindings() {
  const QString where = tr("Image view");
  return {{tr("Mouse wheel"), tr("Zoom around the cursor"), where},
          {tr("Drag"), tr("Pan"), where},
          {tr("Double-click"), tr("Zoom to fit"), where}};
}

void ImageView::wheelEvent(QWheelEvent* e) {
  zoomBy(e->angleDelta().y() > 0 ? 1.15 : 1 / 1.15, e->position());
  e->accept();
}

void ImageView::mousePressEvent(QMouseEvent* e) {
  drag_start_ = e->position();
  if (fit_ && !image_.isNull()) {
    offset_ = fitOrigin();
    scale_ = fitScale();
  }
}

void ImageView::mouseMoveEvent(QMouseEvent* e) {
  if (!(e->buttons() & Qt::LeftButton) || image_.isNull()) return;
  fit_ = false;
  offset_ += e->position() - drag_start_;
  drag_start_ = e->position();
  update();
}

void ImageView::mouseDoubleClickEvent(QMouseEvent*) { zoomToFit(); }

}  // namespace mls
