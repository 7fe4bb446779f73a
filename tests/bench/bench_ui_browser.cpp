// Browser benchmark (README, Benchmarks, GUI): a 100k-image project opens and scrolls without stalls, memory
// bounded by the thumbnail cache. Generates the project (100 real demo JPEGs referenced round-robin by 100,000
// image rows), opens it in the main window (offscreen unless a display is set), scrolls the thumbnail grid from top
// to bottom in page steps, and prints open time, per-frame times (median / p99 / max) and resident memory.
// Usage: bench_ui_browser [--images N]
#include <QApplication>
#include <QElapsedTimer>
#include <QListView>
#include <QScrollBar>
#include <QTemporaryDir>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "browser/browser_panel.h"
#include "browser/thumbnail_model.h"
#include "data/store/project_store.h"
#include "demo_generator.h"
#include "main_window.h"

namespace {
double rssMiB() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      double kb = 0;
      status >> kb;
      return kb / 1024.0;
    }
    std::getline(status, key);
  }
  return -1;
}
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}
}  // namespace

int main(int argc, char** argv) {
  if (qEnvironmentVariableIsEmpty("DISPLAY")) qputenv("QT_QPA_PLATFORM", "offscreen");
  QApplication app(argc, argv);
  QApplication::setOrganizationName(QStringLiteral("MultiLabelStudioBench"));
  int n = 100000;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--images") n = std::atoi(argv[i + 1]);

  QTemporaryDir dir;
  mls::DemoOptions d;
  d.train = 100;
  d.val = 0;
  const auto demo = mls::generateDemoDataset(dir.path().toStdString(), d);
  const std::string project = (dir.path() + "/big.mlsproj").toStdString();
  {
    mls::ProjectStore store(project);
    std::vector<mls::Category> cats;
    for (size_t c = 0; c < mls::demoClassNames().size(); ++c)
      cats.push_back({static_cast<int64_t>(c + 1), mls::demoClassNames()[c], "", 0});
    std::vector<mls::NewImage> images;
    std::vector<std::pair<int64_t, int64_t>> labels;
    for (int i = 0; i < n; ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "train_%06d.jpg", i % 100 + 1);
      images.push_back({i + 1, name, 128, 128, i % 5 == 0 ? mls::Split::Val : mls::Split::Train, false});
      labels.emplace_back(i + 1, i % 12 + 1);
    }
    store.importCollection(demo.images_dir, cats, images, labels);
  }
  const double rss_before = rssMiB();

  QElapsedTimer t;
  t.start();
  mls::MainWindow window;
  window.resize(1400, 900);
  window.show();
  if (!window.openProject(QString::fromStdString(project), true)) return 1;
  QApplication::processEvents();
  const double open_ms = static_cast<double>(t.nsecsElapsed()) / 1e6;

  QListView* view = window.browserPanel()->view();
  QScrollBar* bar = view->verticalScrollBar();
  std::vector<double> frames;
  int steps = 0;
  // Scroll page by page to the end; the model fetches more rows as the view nears the bottom.
  while (steps < 100000) {
    const int before = bar->value();
    QElapsedTimer f;
    f.start();
    bar->setValue(bar->value() + bar->pageStep());
    // As QAbstractItemView does when the user reaches the bottom of what is loaded.
    if (bar->value() == bar->maximum() && window.thumbnailModel()->canFetchMore({})) {
      const int old_max = bar->maximum();
      window.thumbnailModel()->fetchMore({});
      // The view lays out new rows in batches; let it finish so the next step scrolls into them.
      for (int i = 0; i < 200 && bar->maximum() == old_max; ++i) QApplication::processEvents();
    }
    view->viewport()->repaint();
    QApplication::processEvents();
    frames.push_back(static_cast<double>(f.nsecsElapsed()) / 1e6);
    ++steps;
    if (bar->value() == before && !window.thumbnailModel()->canFetchMore({})) break;
  }
  std::printf("| images | open (ms) | scroll frames | median (ms) | p99 (ms) | max (ms) | rows loaded | RSS before / after (MiB) |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  std::printf("| %d | %.0f | %d | %.2f | %.2f | %.2f | %d | %.0f / %.0f |\n", n, open_ms, steps, percentile(frames, 0.5),
              percentile(frames, 0.99), percentile(frames, 1.0), window.thumbnailModel()->rowCount(), rss_before,
              rssMiB());
  return 0;
}
