// Shows an image scaled to fit (aspect kept, centred), or a centred message when there is none. Used for the
// attention overlay preview; the full-size image is kept for export and for the main view.
#pragma once
#include <QImage>
#include <QString>
#include <QWidget>

namespace mls {

class OverlayPreview : public QWidget {
  Q_OBJECT
 public:
  explicit OverlayPreview(QWidget* parent = nullptr);
  void setImage(const QImage& image);
  void setMessage(const QString& message);  // shown while there is no image
  const QImage& image() const { return image_; }
  const QString& message() const { return message_; }
  QSize sizeHint() const override { return {240, 200}; }
  QSize minimumSizeHint() const override { return {96, 80}; }

 protected:
  void paintEvent(QPaintEvent*) override;

 private:
  QImage image_;
  QString message_;
};

}  // namespace mls
