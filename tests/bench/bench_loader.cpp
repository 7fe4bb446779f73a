// Loader throughput (issue 5: can the image pipeline feed a GPU step of ~440 img/s?): decodes and augments
// COCO-sized JPEGs (640x480, generated here: photos cannot be downloaded) into 448 px training batches with
// the Query2Label policy (Cutout + RandAugment + flip) and into evaluation batches (resize + normalise), for
// each worker count, and prints images/s per configuration and per worker thread.
// Usage: bench_loader [--images 384] [--size 448] [--batch 32] [--workers 1,2,..] [--keep DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "data/pipeline/image_batch_source.h"

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  int images = 384;
  int size = 448;
  int batch = 32;
  std::vector<int> workers;
  std::string keep;
};

// Flags through CLI11 (as mlstudio-cli); exits with CLI11's message on bad input.
Options parse(int argc, char** argv) {
  Options o;
  CLI::App app("Loader throughput: COCO-sized JPEGs into training and evaluation batches");
  app.add_option("--images", o.images, "Generated JPEGs")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--size", o.size, "Network input side")->check(CLI::Range(32, 2048))->capture_default_str();
  app.add_option("--batch", o.batch, "Batch size")->check(CLI::Range(1, 4096))->capture_default_str();
  app.add_option("--workers", o.workers, "Loader thread counts to measure (default: 1, 2, 4, .. cores)")
      ->delimiter(',')
      ->check(CLI::Range(1, 256));
  app.add_option("--keep", o.keep, "Keep the generated JPEGs in this folder (and reuse them)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::exit(app.exit(e));
  }
  if (o.images < o.batch) {
    std::fprintf(stderr, "bench_loader: --images must be >= --batch\n");
    std::exit(2);
  }
  if (o.workers.empty()) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    for (int w = 1; w <= cores; w *= 2) o.workers.push_back(w);
    if (o.workers.back() != cores) o.workers.push_back(cores);
  }
  return o;
}

// A photo-like 640x480 JPEG: smooth gradient background, textured ellipses and rectangles, sensor noise,
// quality 90 — about the size and entropy of a COCO image (~160 KB), which is what decoding cost follows.
void writePhoto(const fs::path& path, std::mt19937& rng) {
  cv::Mat img(480, 640, CV_8UC3);
  std::uniform_int_distribution<int> colour(0, 255), x(0, 639), y(0, 479), r(10, 120);
  const cv::Vec3b a(colour(rng), colour(rng), colour(rng)), b(colour(rng), colour(rng), colour(rng));
  for (int row = 0; row < img.rows; ++row)
    for (int col = 0; col < img.cols; ++col) {
      const double t = (row + col) / double(img.rows + img.cols);
      img.at<cv::Vec3b>(row, col) = a * (1 - t) + b * t;
    }
  for (int k = 0; k < 12; ++k) {
    const cv::Scalar c(colour(rng), colour(rng), colour(rng));
    if (k % 2) cv::ellipse(img, {x(rng), y(rng)}, {r(rng), r(rng)}, colour(rng), 0, 360, c, cv::FILLED);
    else cv::rectangle(img, {x(rng), y(rng)}, {x(rng), y(rng)}, c, cv::FILLED);
  }
  cv::Mat noise(img.size(), CV_8UC3);
  cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(32));
  img += noise;
  cv::imwrite(path.string(), img, {cv::IMWRITE_JPEG_QUALITY, 90});
}

double runEpoch(const std::vector<mls::ImageSample>& samples, const Options& o, int workers,
                const mls::AugmentationOptions& aug) {
  mls::ImageBatchSource source(samples, o.size, o.batch, /*shuffle=*/true, aug, /*seed=*/7, workers);
  source.startEpoch(0);
  const auto start = Clock::now();
  int64_t images = 0;
  while (auto batch = source.next()) images += batch->images.size(0);
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  if (source.skippedSamples() > 0) std::fprintf(stderr, "warning: %lld images skipped\n", (long long)source.skippedSamples());
  return images / s;
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const fs::path dir = o.keep.empty() ? fs::temp_directory_path() / ("mls_bench_loader_" + std::to_string(::getpid()))
                                      : fs::path(o.keep);
  fs::create_directories(dir);
  std::mt19937 rng(1200);
  std::vector<mls::ImageSample> samples;
  uintmax_t bytes = 0;
  for (int i = 0; i < o.images; ++i) {
    const fs::path p = dir / ("photo_" + std::to_string(i) + ".jpg");
    if (!fs::exists(p)) writePhoto(p, rng);
    bytes += fs::file_size(p);
    mls::ImageSample s;
    s.path = p.string();
    s.targets.assign(80, 0.0f);
    s.targets[static_cast<size_t>(i % 80)] = 1.0f;
    s.index = i;
    s.width = 640;
    s.height = 480;
    samples.push_back(std::move(s));
  }
  std::printf("%d JPEGs 640x480 (mean %.0f KB) -> %d px batches of %d; %u hardware threads\n", o.images,
              bytes / 1024.0 / o.images, o.size, o.batch, std::thread::hardware_concurrency());
  std::printf("%8s %22s %22s\n", "workers", "train (Q2L aug) img/s", "eval img/s");
  for (int w : o.workers) {
    const double train = runEpoch(samples, o, w, mls::AugmentationOptions::query2label());
    const double eval = runEpoch(samples, o, w, mls::AugmentationOptions::none());
    std::printf("%8d %14.1f (%5.1f/w) %14.1f (%5.1f/w)\n", w, train, train / w, eval, eval / w);
    std::printf("{\"bench\":\"loader\",\"workers\":%d,\"size\":%d,\"batch\":%d,\"train_images_per_s\":%.2f,"
                "\"eval_images_per_s\":%.2f}\n",
                w, o.size, o.batch, train, eval);
  }
  if (o.keep.empty()) fs::remove_all(dir);
  return 0;
}
