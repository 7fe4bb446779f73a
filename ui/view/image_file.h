// Reads an image file for display and, when that fails, says why in words a user can act on: the file is
// not there (a moved images folder) or it is there but cannot be decoded.
#pragma once
#include <QImage>
#include <QString>

namespace mls {

struct ImageFile {
  QImage image;   // null on failure
  QString error;  // "File not found: <path>" or "Cannot decode <path>: <reason>"; empty on success
};

ImageFile readImageFile(const QString& path);

}  // namespace mls
