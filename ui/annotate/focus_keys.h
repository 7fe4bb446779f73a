// Which keys the focused widget keeps for itself. The Annotate panel's window-wide single-key shortcuts
// (letters, digits, arrows, Enter) would otherwise take keys that belong to a text field, a spin box or a
// button elsewhere in the window.
#pragma once

class QWidget;

namespace mls {

// Takes typed text: a line or text edit, a spin box, an editable combo box. All single keys are its own.
bool takesText(const QWidget* w);
// Return means something of its own here: typed text, or a push button that Return clicks (a dialog's
// default button). Item views, the image view, other buttons and plain combo boxes ignore Return, so Enter
// there is the panel's.
bool usesReturn(const QWidget* w);

}  // namespace mls
