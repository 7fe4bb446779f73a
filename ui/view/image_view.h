// The large image in the middle of the window: zoom-to-fit by default, mouse-wheel zoom around the cursor,
// drag to pan, double-click to fit again. Shows either the plain image or an overlay (Inspect tab), or says
// why there is none ("File not found: ...") when the selected image cannot be shown.
#pragma once
#include <QImage>
#include <QPointF>
#include <QWidget>
#include <vector>

#include "help/key_binding.h"

namespace mls {

class ImageView : public QWidget {
  Q_OBJECT
 public:
  explicit ImageView(QWidget* parent = nullptr);
  void setImage(const QImage& image, const QString& caption = {});
  // No picture, and the reason in its place (a null image with no message reads "No image selected").
  void showMessage(const QString& message);
  const QImage& image() const { return image_; }
  QString message() const;  // the text shown instead of a picture; empty while one is shown
  double zoom() const;  // current scale (image px -> widget px)
  // The mouse gestures handled below, for Help > Keyboard shortcuts.
  static std::vector<KeyBinding> mouseBindings();

 public Q_SLOTS:
  void zoomToFit();
  void zoomIn();
  void zoomOut();

 protected:
  void paintEvent(QPaintEvent*) override;
  void wheelEvent(QWheelEvent* e) override;
  void mousePressEvent(QMouseEvent* e) override;
  void mouseMoveEvent(QMouseEvent* e) override;
  void mouseDoubleClickEvent(QMouseEvent*) override;

 private:
  double fitScale() const;
  QPointF fitOrigin() const;
  static constexpr int kCaptionHeight = 20;  // the file name / size / zoom line under the image
  void zoomBy(double factor, QPointF anchor);

  QImage image_;
  QString caption_;
  QString message_;
  bool fit_ = true;
  double scale_ = 1.0;
  QPointF offset_;  // image origin in widget coordinates when not fitting
  QPointF drag_start_;
};

}  // namespace mls
