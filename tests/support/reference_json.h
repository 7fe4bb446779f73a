// Loads a reference file from tests/testdata (written by the make_*_reference.py scripts).
#pragma once
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtGlobal>

#include <cmath>
#include <cstdint>
#include <vector>

namespace mls::test {

inline QJsonObject loadTestJson(const char* name) {
  QFile file(QStringLiteral(MLS_TEST_DATA_DIR "/") + QString::fromLatin1(name));
  if (!file.open(QIODevice::ReadOnly)) qFatal("cannot open %s", name);
  QJsonParseError error;
  const auto doc = QJsonDocument::fromJson(file.readAll(), &error);
  if (error.error != QJsonParseError::NoError) qFatal("%s: %s", name, qPrintable(error.errorString()));
  return doc.object();
}

// A vector or a row-major matrix (array of arrays) of numbers, flattened.
template <typename T>
std::vector<T> flatJson(const QJsonArray& a) {
  std::vector<T> out;
  for (const auto& v : a) {
    if (v.isArray()) {
      for (const auto& x : v.toArray()) out.push_back(static_cast<T>(x.toDouble()));
    } else {
      out.push_back(static_cast<T>(v.toDouble()));
    }
  }
  return out;
}

// null in the JSON stands for "undefined" (NaN here).
inline bool sameAsJson(double actual, const QJsonValue& expected, double tol = 1e-9) {
  if (expected.isNull()) return std::isnan(actual);
  return std::abs(actual - expected.toDouble()) <= tol;
}

}  // namespace mls::test
