// Fault-trial helper for the GUI path: an offscreen Annotate panel on a ProjectSession stores single
// positives with AnnotatePanel::assignCategory (what a palette click or number key does: an undo command
// that commits to the project) and prints "ack <n> <image_id> <category_id>" after each returned true.
//   mls_fault_annotate_writer PROJECT COUNT [FIRST]
#include <QApplication>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "annotate/annotate_panel.h"
#include "label_plan.h"
#include "project_session.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s PROJECT COUNT [FIRST]\n", argv[0]);
    return 2;
  }
  qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  mls::ProjectSession session;
  QString error;
  if (!session.open(QString::fromLocal8Bit(argv[1]), &error)) {
    std::fprintf(stderr, "error: %s\n", qPrintable(error));
    return 1;
  }
  mls::AnnotatePanel panel(&session);
  panel.setAdvanceAfterLabelling(false);
  QObject::connect(&panel, &mls::AnnotatePanel::errorOccurred,
                   [](const QString& message) { std::fprintf(stderr, "error: %s\n", qPrintable(message)); });
  try {
    const auto plan = mls::fault::labelPlan(*session.store(), std::atoi(argv[2]), argc > 3 ? std::atoi(argv[3]) : 0);
    for (size_t n = 0; n < plan.size(); ++n) {
      session.setCurrentImage(plan[n].first);
      if (!panel.assignCategory(plan[n].second)) return 1;
      std::printf("ack %zu %lld %lld\n", n + 1, static_cast<long long>(plan[n].first),
                  static_cast<long long>(plan[n].second));
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
