// Include QCustomPlot through this header: qcustomplot.h (2.1) uses the `signals` and `foreach` keywords that
// the project's QT_NO_KEYWORDS removes (Torch uses `slots` as an identifier), so map them for its parse only.
#pragma once
#include <QtGlobal>

#pragma push_macro("signals")
#pragma push_macro("foreach")
#undef signals
#undef foreach
#define signals Q_SIGNALS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#pragma pop_macro("foreach")
#pragma pop_macro("signals")
