#include "train/scientific_spin_box.h"

#include <QRegularExpression>
#include <cmath>

namespace mls {

ScientificSpinBox::ScientificSpinBox(QWidget* parent) : QDoubleSpinBox(parent) {
  setDecimals(12);  // QDoubleSpinBox rounds values to decimals(); keep small learning rates exact
  setRange(1e-8, 10.0);
  setValue(1e-4);
  setKeyboardTracking(false);
}

QString ScientificSpinBox::textFromValue(double value) const { return QString::number(value, 'g', 3); }

double ScientificSpinBox::valueFromText(const QString& text) const { return text.trimmed().toDouble(); }

QValidator::State ScientificSpinBox::validate(QString& text, int&) const {
  const QString t = text.trimmed();
  if (t.isEmpty()) return QValidator::Intermediate;
  bool ok = false;
  const double v = t.toDouble(&ok);
  if (ok && v >= minimum() && v <= maximum()) return QValidator::Acceptable;
  // Half-typed numbers such as "1e" or "3e-" may still become valid.
  static const QRegularExpression partial(QStringLiteral("^[0-9]*\\.?[0-9]*([eE][-+]?[0-9]*)?$"));
  return partial.match(t).hasMatch() ? QValidator::Intermediate : QValidator::Invalid;
}

void ScientificSpinBox::stepBy(int steps) {
  const double v = value() * std::pow(10.0, 0.5 * steps);
  // Two significant digits keep the grid readable: 3.2e-4 rather than 3.16227766e-4.
  const double magnitude = std::pow(10.0, std::floor(std::log10(v)) - 1);
  setValue(std::round(v / magnitude) * magnitude);
}

}  // namespace mls
