// A spin box for learning rates: shows 1e-05 rather than 0.000010, accepts typed scientific notation, and
// steps by half a decade (1e-3 -> 3.2e-4 -> 1e-4), the grid people search learning rates on.
#pragma once
#include <QDoubleSpinBox>

namespace mls {

class ScientificSpinBox : public QDoubleSpinBox {
 public:
  explicit ScientificSpinBox(QWidget* parent = nullptr);
  QString textFromValue(double value) const override;
  double valueFromText(const QString& text) const override;
  QValidator::State validate(QString& text, int& pos) const override;
  void stepBy(int steps) override;
};

}  // namespace mls
