// Annotation latency benchmark (README, Benchmarks, GUI; target: a click is durable in SQLite and the next
// image is shown in < 16 ms). Replays what one palette click costs the Annotate panel, without widgets:
//   write   setSinglePositive (one committed WAL transaction + history row)
//   track   the panel's bookkeeping of the change (image + single positive lookups)
//   next    neighbourImage(after, {split=train, annotated=false}): the next unannotated train image
//   show    the panel's refresh of the new image (record, single positive, ground truth, stored scores)
//   decode  the file decoded at full size (the image view's job; OpenCV/libjpeg, as the engine does)
// over --clicks clicks on a generated demo project padded with --extra image rows (files absent) so the
// tables have a realistic size. Prints median / p99 / max per stage and for the whole click.
// Usage: bench_annotate [--clicks 500] [--train 600] [--size 448] [--extra 100000] [--keep DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "data/pipeline/image_decoder.h"
#include "data/store/project_store.h"
#include "demo_generator.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

int argInt(int argc, char** argv, const std::string& name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return std::atoi(argv[i + 1]);
  return fallback;
}

std::string argStr(int argc, char** argv, const std::string& name) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  const int clicks = argInt(argc, argv, "--clicks", 500);
  const int train = std::max(argInt(argc, argv, "--train", 600), clicks + 1);
  const int size = argInt(argc, argv, "--size", 448);
  const int extra = argInt(argc, argv, "--extra", 100000);
  std::string dir = argStr(argc, argv, "--keep");
  const bool keep = !dir.empty();
  if (!keep) dir = (fs::temp_directory_path() / ("mls_bench_annotate_" + std::to_string(::getpid()))).string();
  fs::create_directories(dir);

  try {
    std::printf("generating demo project: %d train + 50 val images at %d px, %d extra image rows ...\n", train, size,
                extra);
    std::fflush(stdout);
    mls::DemoOptions options;
    options.train = train;
    options.val = 50;
    options.size = size;
    const auto demo = mls::createDemoProject(dir, options);
    {
      mls::ProjectStore store(demo.project);
      // Pad the tables to a COCO-like size: extra train rows after the demo's ids (files absent).
      std::vector<mls::NewImage> rows;
      for (int i = 0; i < extra; ++i)
        rows.push_back({1000000 + i, "pad_" + std::to_string(i) + ".jpg", 640, 480, mls::Split::Train, true});
      if (!rows.empty()) store.importCollection(dir + "/padding", store.categories(), rows, {});
      // Start from an unannotated project, with a finished run that has scores for every demo image.
      store.transaction([&] {
        for (int64_t id = 1; id <= train; ++id) store.setSinglePositive(id, std::nullopt, mls::AnnotationSource::User);
      });
      const int64_t run = store.createRun("bench", "q2l", "{}", "");
      std::vector<std::pair<int64_t, std::vector<float>>> scores;
      for (int64_t id = 1; id <= train + 50; ++id) scores.emplace_back(id, std::vector<float>(12, 0.3f));
      store.storePredictions(run, scores);
      store.finishRun(run, mls::RunStatus::Finished, "", 0.5);
    }

    mls::ProjectStore store(demo.project);  // the GUI thread's connection
    const int64_t run = store.runs().back().id;
    const auto categories = store.categories();
    mls::ImageFilter unannotated;
    unannotated.split = mls::Split::Train;
    unannotated.annotated = false;

    std::vector<double> t_write, t_track, t_next, t_show, t_decode, t_total;
    int64_t current = 1;
    volatile int64_t sink = 0;
    for (int c = 0; c < clicks; ++c) {
      const int64_t category = categories[static_cast<size_t>(c) % categories.size()].id;
      const auto t0 = Clock::now();
      store.setSinglePositive(current, category, mls::AnnotationSource::User);
      const auto t1 = Clock::now();
      const auto changed = store.image(current);
      sink = sink + (store.singlePositive(current) ? 1 : 0) + (changed ? changed->width : 0);
      const auto t2 = Clock::now();
      const auto next = store.neighbourImage(current, unannotated, true);
      const auto t3 = Clock::now();
      if (!next) throw std::runtime_error("no unannotated image left");
      const auto record = store.image(*next);
      sink = sink + (store.singlePositive(*next) ? 1 : 0) + static_cast<int64_t>(store.labelsOf(*next).size());
      const auto scores = store.predictions(run, *next);
      sink = sink + (scores ? static_cast<int64_t>(scores->size()) : 0);
      const std::string path = store.imagePath(*record);
      const auto t4 = Clock::now();
      const auto decoded = mls::decodeImageRgb(path, 0, record->width, record->height);
      const auto t5 = Clock::now();
      sink = sink + decoded.rgb.cols;
      t_write.push_back(ms(t0, t1));
      t_track.push_back(ms(t1, t2));
      t_next.push_back(ms(t2, t3));
      t_show.push_back(ms(t3, t4));
      t_decode.push_back(ms(t4, t5));
      t_total.push_back(ms(t0, t5));
      if (*next != current + 1) throw std::runtime_error("unexpected next image " + std::to_string(*next));
      current = *next;
    }

    mls::ProjectStore check(demo.project);  // durable: a second connection sees every click
    const auto counts = check.counts();
    std::printf("\n%d clicks, %lld single positives visible to a second connection, %lld images in the project\n",
                clicks, static_cast<long long>(counts.single_positives),
                static_cast<long long>(counts.train + counts.val + counts.test));
    std::printf("(SQLite WAL, synchronous=NORMAL: a commit survives an app crash; decode at %dx%d px)\n\n", size, size);
    std::printf("%-40s %10s %10s %10s\n", "stage (ms)", "median", "p99", "max");
    auto row = [](const char* name, const std::vector<double>& v) {
      std::printf("%-40s %10.3f %10.3f %10.3f\n", name, percentile(v, 0.5), percentile(v, 0.99),
                  *std::max_element(v.begin(), v.end()));
    };
    row("write: setSinglePositive (commit)", t_write);
    row("track: panel bookkeeping", t_track);
    row("next: neighbourImage unannotated", t_next);
    row("show: record, label, truth, scores", t_show);
    row("decode: full-size image", t_decode);
    row("click -> durable -> next decoded", t_total);
    const double p99 = percentile(t_total, 0.99);
    std::printf("\ntarget < 16 ms per click: %s (p99 %.2f ms)\n", p99 < 16.0 ? "met" : "NOT met", p99);
    if (!keep) fs::remove_all(dir);
    return counts.single_positives == clicks ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_annotate: %s\n", e.what());
    if (!keep) fs::remove_all(dir);
    return 1;
  }
}
