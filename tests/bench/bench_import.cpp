// Import benchmark: what a user runs on COCO 2014 train. A generated annotation file of that size (82,783
// images, ~7.3 polygon instances of ~2.9 distinct categories per image, polygons of 6-30 points, 80 category
// ids in 1..90, ~1 % of the images without annotations) and the 82,783 image files (empty: the import only
// checks that each file is there). Times the whole command `mlstudio-cli import-coco` as a child process
// (process start included) against the whole command `python3 tests/bench/pycocotools_reference.py` (what
// `COCO(annotation_file)` does), median of --runs runs each, plus `mlstudio-cli --help`,
// `mlstudio-cli-torch --help` (LibTorch's load time) and the import in this process, phase by phase.
// Usage: bench_import [--images N] [--runs R] [--keep DIR]    Prints a table and the ratio (target >= 10x).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "data/coco/coco_import.h"

namespace fs = std::filesystem;

extern char** environ;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

std::string imageName(int i) {
  char name[64];
  std::snprintf(name, sizeof(name), "COCO_train2014_%012d.jpg", 100000 + i);
  return name;
}

struct Generated {
  int64_t instances = 0, labels = 0, points = 0;
};

// Writes the file directly (no DOM) so that generation stays fast.
Generated writeCocoScale(const std::string& path, int images) {
  std::mt19937_64 rng(1200);
  std::ofstream out(path);
  out << "{\"info\":{\"description\":\"synthetic COCO-2014-train-scale benchmark\"},\"licenses\":[],\"images\":[";
  for (int i = 0; i < images; ++i) {
    out << (i ? "," : "") << "{\"license\":3,\"file_name\":\"" << imageName(i)
        << "\",\"coco_url\":\"http://images.cocodataset.org/train2014/" << imageName(i)
        << "\",\"height\":" << 360 + rng() % 280 << ",\"width\":640,\"date_captured\":\"2013-11-14 16:28:13\","
        << "\"flickr_url\":\"http://farm5.staticflickr.com/4/" << rng() % 100000 << ".jpg\",\"id\":" << (i + 1) << "}";
  }
  out << "],\"annotations\":[";
  Generated g;
  char buf[64];
  std::vector<int> category_ids;  // COCO's 80 ids lie in 1..90 with gaps
  for (int c = 1; c <= 90; ++c)
    if (c % 9 != 0 || c == 90) category_ids.push_back(c);
  category_ids.resize(80);
  // COCO 2014 train: 604,907 instances = 7.3 per image, 2.9 distinct categories per image.
  std::poisson_distribution<int> more_categories(1.9), more_instances(4.4);
  std::uniform_int_distribution<int> points(6, 30);
  for (int i = 0; i < images; ++i) {
    if (rng() % 100 == 0) continue;  // ~1 % of COCO's train images have no annotation
    const int distinct = std::min(8, 1 + more_categories(rng));
    std::vector<int> chosen = category_ids;
    std::shuffle(chosen.begin(), chosen.end(), rng);
    chosen.resize(distinct);
    g.labels += distinct;
    const int n = distinct + more_instances(rng);
    for (int k = 0; k < n; ++k) {
      out << (g.instances ? "," : "") << "{\"segmentation\":[[";
      const int pts = points(rng);
      g.points += pts;
      for (int p = 0; p < 2 * pts; ++p) {
        std::snprintf(buf, sizeof(buf), "%s%.2f", p ? "," : "", static_cast<double>(rng() % 64000) / 100.0);
        out << buf;
      }
      std::snprintf(buf, sizeof(buf), "%.4f", static_cast<double>(rng() % 5000000) / 100.0);
      out << "]],\"area\":" << buf << ",\"iscrowd\":0,\"image_id\":" << (i + 1) << ",\"bbox\":[" << rng() % 600
          << ".5," << rng() % 400 << ".25," << rng() % 200 << ".75," << rng() % 200
          << ".0],\"category_id\":" << chosen[k % distinct] << ",\"id\":" << (900000000000LL + g.instances) << "}";
      ++g.instances;
    }
  }
  out << "],\"categories\":[";
  for (size_t c = 0; c < category_ids.size(); ++c)
    out << (c ? "," : "") << "{\"supercategory\":\"thing\",\"id\":" << category_ids[c] << ",\"name\":\"class "
        << category_ids[c] << "\"}";
  out << "]}";
  return g;
}

// Creates the image files that are not there yet; returns how many exist afterwards.
int createImageFiles(const fs::path& folder, int images) {
  fs::create_directories(folder);
  int present = 0;
  for (int i = 0; i < images; ++i) {
    const auto path = folder / imageName(i);
    if (!fs::exists(path)) std::ofstream(path).flush();
    present += fs::exists(path) ? 1 : 0;
  }
  return present;
}

// Runs `argv` as a child process (stdout and stderr to /dev/null unless `log` names a file); returns the wall
// time from spawn to exit, or -1 when it failed.
double timeCommand(const std::vector<std::string>& argv, const std::string& log = "/dev/null") {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  const double start = now();
  pid_t pid = 0;
  const int err = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  const double seconds = now() - start;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? seconds : -1;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

std::string readAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void removeProject(const std::string& project) {
  for (const char* s : {"", "-wal", "-shm"}) fs::remove(project + s);
}

}  // namespace

int main(int argc, char** argv) {
  int images = 82783, runs = 3;
  std::string keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--images") images = std::atoi(argv[i + 1]);
    else if (a == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
    else if (a == "--keep") keep = argv[i + 1];
  }
  const std::string cli = MLS_CLI_PATH;
  const std::string torch_cli = (fs::path(cli).parent_path() / "mlstudio-cli-torch").string();
  const fs::path dir = keep.empty() ? fs::temp_directory_path() / "mls_bench_import" : fs::path(keep);
  fs::create_directories(dir);
  const auto json = (dir / "instances_train_synthetic.json").string();
  const auto folder = (dir / "images").string();
  double t = now();
  const Generated g = writeCocoScale(json, images);
  std::printf("generated %s: %d images, %lld instances (%.2f per image), %lld image-level labels (%.2f per image), "
              "%.1f polygon points per instance, %.0f MiB in %.1f s\n",
              json.c_str(), images, static_cast<long long>(g.instances), double(g.instances) / images,
              static_cast<long long>(g.labels), double(g.labels) / images, double(g.points) / g.instances,
              fs::file_size(json) / (1024.0 * 1024.0), now() - t);
  t = now();
  const int files = createImageFiles(folder, images);
  std::printf("image folder %s: %d files (%.1f s)\n", folder.c_str(), files, now() - t);

  const auto project = (dir / "bench.mlsproj").string();
  const auto log = (dir / "last_run.log").string();
  const std::string reference = MLS_SOURCE_DIR "/tests/bench/pycocotools_reference.py";
  std::vector<double> cli_times, py_times, py_inner, help_times, torch_help_times, in_process;
  std::vector<std::vector<std::pair<std::string, double>>> phases;
  std::string cli_output;
  // Alternating runs so that both sides see the same machine load and a warm page cache.
  for (int r = 0; r < runs; ++r) {
    removeProject(project);
    cli_times.push_back(timeCommand({cli, "import-coco", "--project", project, "--annotations", json, "--images", folder}, log));
    cli_output = readAll(log);
    py_times.push_back(timeCommand({"/usr/bin/python3", reference, json}, log));
    const std::string py_out = readAll(log);
    const auto pos = py_out.find("\"seconds\": ");
    py_inner.push_back(pos == std::string::npos ? -1 : std::atof(py_out.c_str() + pos + 11));
    help_times.push_back(timeCommand({cli, "--help"}));
    torch_help_times.push_back(timeCommand({torch_cli, "--help"}));

    removeProject(project);
    mls::CocoImportOptions opt;
    opt.annotations = json;
    opt.images = folder;
    std::vector<std::pair<std::string, double>> steps;
    double phase_start = now();
    opt.progress = [&](const std::string& phase) {
      if (!steps.empty()) steps.back().second = now() - phase_start;
      steps.emplace_back(phase.substr(0, phase.find(' ')), 0.0);
      phase_start = now();
    };
    t = now();
    mls::importCocoIntoProject(project, opt);
    in_process.push_back(now() - t);
    steps.back().second = now() - phase_start;
    phases.push_back(steps);
  }
  removeProject(project);
  if (keep.empty()) fs::remove_all(dir);

  const double cli_s = median(cli_times), py_s = median(py_times);
  std::printf("\nmlstudio-cli said: %s", cli_output.c_str());
  std::printf("\n| whole command, median of %d runs | seconds |\n|---|---|\n", runs);
  std::printf("| `python3 pycocotools_reference.py` (what `COCO(file)` does: json.load + createIndex) | %.2f |\n", py_s);
  std::printf("| `mlstudio-cli import-coco` (parse, validate, %d file checks, SQLite) | %.2f |\n", files, cli_s);
  std::printf("| **speed-up** | **%.1fx** |\n", py_s / cli_s);
  std::printf("\n| for comparison | seconds |\n|---|---|\n");
  std::printf("| python: json.load + createIndex alone (timed inside the script) | %.2f |\n", median(py_inner));
  std::printf("| mlstudio: import in-process (`importCocoIntoProject`) | %.2f |\n", median(in_process));
  for (size_t p = 0; p < phases.back().size(); ++p) {
    std::vector<double> v;
    for (const auto& run : phases)
      if (p < run.size()) v.push_back(run[p].second);
    std::printf("| - %s | %.3f |\n", phases.back()[p].first.c_str(), median(v));
  }
  std::printf("| `mlstudio-cli --help` | %.3f |\n", median(help_times));
  std::printf("| `mlstudio-cli-torch --help` (loads LibTorch) | %.3f |\n", median(torch_help_times));
  std::printf("\nspeed-up of the whole command: %.1fx (target >= 10x)\n", py_s / cli_s);
  return cli_s > 0 && py_s > 0 ? 0 : 1;
}
