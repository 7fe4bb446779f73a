// One row of Help > Keyboard shortcuts. Panels record these where they create their shortcuts, so the list
// the user reads is the list the code binds.
#pragma once
#include <QString>

namespace mls {

struct KeyBinding {
  QString keys;     // as shown, e.g. "D, Right" or "1 \u2013 9"
  QString action;   // what it does
  QString context;  // where it works, e.g. "Annotate tab"
};

}  // namespace mls
