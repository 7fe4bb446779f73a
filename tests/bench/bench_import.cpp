// Import benchmark (README, Benchmarks, COCO import): a COCO-2014-train-scale annotation file (82,783 images, ~600k
// instances with polygon segmentations, 80 categories) imported into a fresh project, against Python's json.load +
// pycocotools-style index building (tests/bench/pycocotools_reference.py) on the same machine.
// Usage: bench_import [--images N] [--keep DIR]    Prints a table and the ratio (target >= 10x).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "data/coco/coco_import.h"
#include "data/store/project_store.h"

namespace fs = std::filesystem;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Writes the synthetic file directly (no DOM) so generation stays fast. ~7.3 instances per image like COCO.
void writeCocoScale(const std::string& path, int images, int64_t& instances) {
  std::mt19937_64 rng(1200);
  std::ofstream out(path);
  out << "{\"info\":{\"description\":\"synthetic COCO-scale benchmark\"},\"licenses\":[],\"images\":[";
  for (int i = 0; i < images; ++i) {
    out << (i ? "," : "") << "{\"license\":3,\"file_name\":\"COCO_train2014_" << (100000 + i)
        << ".jpg\",\"coco_url\":\"http://images.cocodataset.org/train2014/COCO_train2014_" << (100000 + i)
        << ".jpg\",\"height\":" << 360 + rng() % 280 << ",\"width\":640,\"date_captured\":\"2013-11-14 16:28:13\","
        << "\"flickr_url\":\"http://farm5.staticflickr.com/4/" << rng() % 100000 << ".jpg\",\"id\":" << (i + 1) << "}";
  }
  out << "],\"annotations\":[";
  instances = 0;
  char buf[64];
  // COCO's 80 category ids lie in 1..90 with gaps; an image has ~2.9 distinct categories and ~7.3 instances.
  std::vector<int> category_ids;
  for (int c = 1; c <= 90; ++c)
    if (c % 9 != 0 || c == 90) category_ids.push_back(c);
  category_ids.resize(80);
  for (int i = 0; i < images; ++i) {
    const int distinct = 1 + static_cast<int>(rng() % 4) + (rng() % 3 == 0 ? static_cast<int>(rng() % 3) : 0);
    int chosen[8];
    for (int d = 0; d < distinct; ++d) chosen[d] = category_ids[rng() % category_ids.size()];
    const int n = distinct + static_cast<int>(rng() % 9);
    for (int k = 0; k < n; ++k) {
      out << (instances ? "," : "") << "{\"segmentation\":[[";
      const int pts = 8 + static_cast<int>(rng() % 36);
      for (int p = 0; p < 2 * pts; ++p) {
        std::snprintf(buf, sizeof(buf), "%s%.2f", p ? "," : "", static_cast<double>(rng() % 64000) / 100.0);
        out << buf;
      }
      std::snprintf(buf, sizeof(buf), "%.4f", static_cast<double>(rng() % 5000000) / 100.0);
      out << "]],\"area\":" << buf << ",\"iscrowd\":" << (rng() % 100 == 0) << ",\"image_id\":" << (i + 1)
          << ",\"bbox\":[" << rng() % 600 << ".5," << rng() % 400 << ".25," << rng() % 200 << ".75," << rng() % 200
          << ".0],\"category_id\":" << chosen[k % distinct] << ",\"id\":" << (900000000000LL + instances) << "}";
      ++instances;
    }
  }
  out << "],\"categories\":[";
  for (size_t c = 0; c < category_ids.size(); ++c)
    out << (c ? "," : "") << "{\"supercategory\":\"thing\",\"id\":" << category_ids[c] << ",\"name\":\"class "
        << category_ids[c] << "\"}";
  out << "]}";
}

}  // namespace

int main(int argc, char** argv) {
  int images = 82783;
  std::string keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) == "--images") images = std::atoi(argv[i + 1]);
    if (std::string(argv[i]) == "--keep") keep = argv[i + 1];
  }
  const fs::path dir = keep.empty() ? fs::temp_directory_path() / "mls_bench_import" : fs::path(keep);
  fs::create_directories(dir / "images");
  const auto json = (dir / "instances_train_synthetic.json").string();
  int64_t instances = 0;
  double t = now();
  writeCocoScale(json, images, instances);
  std::cout << "generated " << json << ": " << images << " images, " << instances << " instances, "
            << fs::file_size(json) / (1024.0 * 1024.0) << " MiB in " << now() - t << " s" << std::endl;

  const auto project = (dir / "bench.mlsproj").string();
  for (const char* s : {"", "-wal", "-shm"}) fs::remove(project + s);
  t = now();
  mls::ProjectStore store(project);
  mls::CocoImportOptions opt;
  opt.annotations = json;
  opt.images = (dir / "images").string();
  double phase_start = now();
  std::string phase_name;
  opt.progress = [&](const std::string& phase) {
    if (!phase_name.empty()) std::printf("  %-60s %.2f s\n", phase_name.c_str(), now() - phase_start);
    phase_name = phase;
    phase_start = now();
  };
  const auto report = mls::importCoco(store, opt);
  const double cpp = now() - t;
  std::printf("  %-60s %.2f s\n", phase_name.c_str(), now() - phase_start);

  const std::string cmd = "/usr/bin/python3 " MLS_SOURCE_DIR "/tests/bench/pycocotools_reference.py " + json;
  std::string py_out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char line[512];
    while (fgets(line, sizeof(line), p)) py_out += line;
    pclose(p);
  }
  const auto pos = py_out.find("\"seconds\": ");
  const double py = pos == std::string::npos ? -1 : std::atof(py_out.c_str() + pos + 11);

  std::printf("\n| step | seconds |\n|---|---|\n");
  std::printf("| mlstudio import-coco (parse + validate + %lld file checks + SQLite) | %.2f |\n",
              static_cast<long long>(report.images), cpp);
  std::printf("| Python json.load + pycocotools createIndex | %.2f |\n", py);
  std::printf("\nimported %lld images, %lld labels from %lld instances\n", static_cast<long long>(report.images),
              static_cast<long long>(report.labels), static_cast<long long>(report.annotations));
  if (py > 0) std::printf("speed-up: %.1fx (target >= 10x)\n", py / cpp);
  if (keep.empty()) fs::remove_all(dir);
  return 0;
}
