#include "annotate/focus_keys.h"

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTextEdit>

namespace mls {

bool takesText(const QWidget* w) {
  if (!w) return false;
  if (qobject_cast<const QLineEdit*>(w) || qobject_cast<const QTextEdit*>(w) ||
      qobject_cast<const QPlainTextEdit*>(w) || qobject_cast<const QAbstractSpinBox*>(w))
    return true;
  if (auto* combo = qobject_cast<const QComboBox*>(w)) return combo->isEditable();
  return false;
}

bool usesReturn(const QWidget* w) {
  if (takesText(w)) return true;
  // A push button clicks on Return only as a (auto-)default button, as in dialogs; other buttons and
  // non-editable combo boxes ignore Return, so there it stays the panel's.
  auto* button = qobject_cast<const QPushButton*>(w);
  return button && (button->autoDefault() || button->isDefault());
}

}  // namespace mls
