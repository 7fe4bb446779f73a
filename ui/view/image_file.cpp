#include "view/image_file.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QImageReader>

namespace mls {

ImageFile readImageFile(const QString& path) {
  ImageFile out;
  if (!QFileInfo(path).isFile()) {
    out.error = QCoreApplication::translate("ImageFile", "File not found: %1").arg(path);
    return out;
  }
  QImageReader reader(path);
  out.image = reader.read();
  if (out.image.isNull())
    out.error = QCoreApplication::translate("ImageFile", "Cannot decode %1: %2").arg(path, reader.errorString());
  return out;
}

}  // namespace mls
