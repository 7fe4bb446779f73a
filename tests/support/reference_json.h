// Loads a reference file from tests/testdata (written by the make_*_reference.py scripts).
#pragma once
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtGlobal>

namespace mls::test {

inline QJsonObject loadTestJson(const char* name) {
  QFile file(QStringLiteral(MLS_TEST_DATA_DIR "/") + QString::fromLatin1(name));
  if (!file.open(QIODevice::ReadOnly)) qFatal("cannot open %s", name);
  QJsonParseError error;
  const auto doc = QJsonDocument::fromJson(file.readAll(), &error);
  if (error.error != QJsonParseError::NoError) qFatal("%s: %s", name, qPrintable(error.errorString()));
  return doc.object();
}

}  // namespace mls::test
