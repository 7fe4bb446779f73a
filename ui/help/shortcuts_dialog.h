// Help > Keyboard shortcuts: every key of the app in one table. Menu and window actions are read from the
// window itself (their shortcuts as bound now), panels hand in the keys they bind (AnnotatePanel::
// keyBindings), and the image view its mouse gestures, so the list follows the code instead of a copy.
#pragma once
#include <QDialog>
#include <vector>

#include "help/key_binding.h"

class QTableWidget;

namespace mls {

class ShortcutsDialog : public QDialog {
  Q_OBJECT
 public:
  ShortcutsDialog(QWidget* window, const std::vector<KeyBinding>& panel_keys, QWidget* parent = nullptr);
  QTableWidget* table() const { return table_; }

  // Every QAction under `window` that has a shortcut; where = its menu ("Project menu"), else "Window".
  static std::vector<KeyBinding> actionBindings(const QWidget* window);

 private:
  QTableWidget* table_;
};

}  // namespace mls
