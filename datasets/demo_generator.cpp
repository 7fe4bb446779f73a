#include "demo_generator.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <stdexcept>

#include "data/coco/coco_import.h"
#include "data/labels/single_positive_generator.h"
#include "data/store/project_store.h"

namespace fs = std::filesystem;

namespace mls {

namespace {

enum class Shape { Circle, Square, Triangle, Star, Cross, Ring };
constexpr int kShapes = 6;
const char* const kShapeNames[kShapes] = {"circle", "square", "triangle", "star", "cross", "ring"};
const char* const kColourNames[2] = {"red", "blue"};

class Rng {
 public:
  explicit Rng(uint64_t seed) : gen_(seed) {}
  double uniform(double lo, double hi) { return lo + (hi - lo) * (static_cast<double>(gen_() >> 11) * 0x1.0p-53); }
  int integer(int lo, int hi) { return lo + static_cast<int>(gen_() % static_cast<uint64_t>(hi - lo + 1)); }

 private:
  std::mt19937_64 gen_;
};

// Colour families are wide enough in hue/brightness that colour alone is not a lookup table (BGR).
cv::Scalar objectColour(int family, Rng& rng) {
  const double v = rng.uniform(150, 255);
  const double a = rng.uniform(0, 90), b = rng.uniform(0, 70);
  return family == 0 ? cv::Scalar(b, a, v) : cv::Scalar(v, a, b);
}

std::vector<cv::Point> regularPolygon(cv::Point2d c, double r, int n, double rot, double inner_ratio = 0) {
  std::vector<cv::Point> pts;
  const int steps = inner_ratio > 0 ? 2 * n : n;
  for (int i = 0; i < steps; ++i) {
    const double ang = rot + 2.0 * M_PI * i / steps;
    const double rad = (inner_ratio > 0 && (i % 2)) ? r * inner_ratio : r;
    pts.emplace_back(cvRound(c.x + rad * std::cos(ang)), cvRound(c.y + rad * std::sin(ang)));
  }
  return pts;
}

// Draws one object and returns its outline polygon (used for bbox and segmentation).
std::vector<cv::Point> drawShape(cv::Mat& img, Shape shape, cv::Point2d c, double r, double rot, cv::Scalar colour) {
  std::vector<cv::Point> outline;
  switch (shape) {
    case Shape::Circle:
      cv::circle(img, c, cvRound(r), colour, cv::FILLED, cv::LINE_AA);
      outline = regularPolygon(c, r, 16, 0);
      break;
    case Shape::Ring:
      cv::circle(img, c, cvRound(r * 0.8), colour, std::max(2, cvRound(r * 0.35)), cv::LINE_AA);
      outline = regularPolygon(c, r, 16, 0);
      break;
    case Shape::Square:
      outline = regularPolygon(c, r, 4, rot);
      cv::fillConvexPoly(img, outline, colour, cv::LINE_AA);
      break;
    case Shape::Triangle:
      outline = regularPolygon(c, r, 3, rot);
      cv::fillConvexPoly(img, outline, colour, cv::LINE_AA);
      break;
    case Shape::Star:
      outline = regularPolygon(c, r, 5, rot, 0.45);
      cv::fillPoly(img, std::vector<std::vector<cv::Point>>{outline}, colour, cv::LINE_AA);
      break;
    case Shape::Cross: {
      const double w = r * 0.32;
      std::vector<cv::Point2d> base = {{-w, -r}, {w, -r}, {w, -w}, {r, -w}, {r, w}, {w, w},
                                       {w, r},   {-w, r}, {-w, w}, {-r, w}, {-r, -w}, {-w, -w}};
      for (const auto& p : base)
        outline.emplace_back(cvRound(c.x + p.x * std::cos(rot) - p.y * std::sin(rot)),
                             cvRound(c.y + p.x * std::sin(rot) + p.y * std::cos(rot)));
      cv::fillPoly(img, std::vector<std::vector<cv::Point>>{outline}, colour, cv::LINE_AA);
      break;
    }
  }
  return outline;
}

void drawBackground(cv::Mat& img, Rng& rng) {
  const int s = img.rows;
  const cv::Vec3d a(rng.uniform(20, 200), rng.uniform(20, 200), rng.uniform(20, 200));
  const cv::Vec3d b(rng.uniform(20, 200), rng.uniform(20, 200), rng.uniform(20, 200));
  const double dx = rng.uniform(-1, 1), dy = rng.uniform(-1, 1);
  for (int y = 0; y < s; ++y) {
    auto* row = img.ptr<cv::Vec3b>(y);
    for (int x = 0; x < s; ++x) {
      const double t = std::clamp(0.5 + (dx * (x - s / 2.0) + dy * (y - s / 2.0)) / s, 0.0, 1.0);
      const cv::Vec3d v = a * (1 - t) + b * t;
      row[x] = cv::Vec3b(cv::saturate_cast<uchar>(v[0]), cv::saturate_cast<uchar>(v[1]), cv::saturate_cast<uchar>(v[2]));
    }
  }
  // Clutter: grey lines and blobs, so objects must be found, not just a colour histogram read off.
  const int clutter = rng.integer(2, 6);
  for (int i = 0; i < clutter; ++i) {
    const double g = rng.uniform(40, 220);
    const cv::Scalar grey(g, g, g);
    const cv::Point p1(rng.integer(0, s - 1), rng.integer(0, s - 1)), p2(rng.integer(0, s - 1), rng.integer(0, s - 1));
    if (rng.uniform(0, 1) < 0.6)
      cv::line(img, p1, p2, grey, rng.integer(1, 3), cv::LINE_AA);
    else
      cv::ellipse(img, p1, cv::Size(rng.integer(3, s / 10), rng.integer(3, s / 10)), rng.uniform(0, 180), 0, 360,
                  grey, cv::FILLED, cv::LINE_AA);
  }
}

struct DrawnObject {
  int category_id;
  std::vector<cv::Point> outline;
};

std::vector<DrawnObject> drawImage(cv::Mat& img, Rng& rng) {
  const int s = img.rows;
  drawBackground(img, rng);
  const int count = rng.integer(1, 4);
  std::vector<DrawnObject> objects;
  std::vector<cv::Vec3d> placed;  // x, y, r: keep objects mostly apart so each stays visible
  for (int n = 0; n < count; ++n) {
    const int category = rng.integer(0, kShapes * 2 - 1);
    double r = 0, x = 0, y = 0;
    for (int attempt = 0; attempt < 30; ++attempt) {
      r = rng.uniform(0.10, 0.20) * s;
      x = rng.uniform(r, s - r);
      y = rng.uniform(r, s - r);
      bool ok = true;
      for (const auto& p : placed) ok = ok && std::hypot(p[0] - x, p[1] - y) > 0.8 * (p[2] + r);
      if (ok) break;
    }
    placed.emplace_back(x, y, r);
    const auto shape = static_cast<Shape>(category % kShapes);
    const auto outline = drawShape(img, shape, {x, y}, r, rng.uniform(0, 2 * M_PI), objectColour(category / kShapes, rng));
    objects.push_back({category + 1, outline});
  }
  cv::Mat noise(img.size(), CV_16SC3);
  cv::randn(noise, 0, rng.uniform(3, 12));
  cv::Mat tmp;
  img.convertTo(tmp, CV_16SC3);
  tmp += noise;
  tmp.convertTo(img, CV_8UC3);
  return objects;
}

nlohmann::json categoriesJson() {
  auto cats = nlohmann::json::array();
  const auto& names = demoClassNames();
  for (size_t i = 0; i < names.size(); ++i)
    cats.push_back({{"id", i + 1}, {"name", names[i]}, {"supercategory", kShapeNames[i % kShapes]}});
  return cats;
}

void writeJson(const std::string& path, const nlohmann::json& j) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("cannot write " + path);
  out << j.dump();
}

}  // namespace

const std::vector<std::string>& demoClassNames() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (int colour = 0; colour < 2; ++colour)
      for (int shape = 0; shape < kShapes; ++shape) v.push_back(std::string(kColourNames[colour]) + " " + kShapeNames[shape]);
    return v;
  }();
  return names;
}

DemoDataset generateDemoDataset(const std::string& out_dir, const DemoOptions& opt,
                                const std::function<void(int, int)>& progress) {
  if (opt.train < 1 || opt.val < 0 || opt.size < 32 || opt.size > 1024)
    throw std::invalid_argument("demo: need --train >= 1, --val >= 0 and 32 <= --size <= 1024");
  const fs::path root(out_dir);
  fs::create_directories(root / "images");
  fs::create_directories(root / "annotations");
  DemoDataset ds{(root / "images").string(), (root / "annotations" / "instances_train.json").string(),
                 (root / "annotations" / "instances_val.json").string(), ""};
  const int total = opt.train + opt.val;
  int64_t ann_id = 1;
  for (int part = 0; part < 2; ++part) {
    const bool train = part == 0;
    nlohmann::json j;
    j["info"] = {{"description", "Multi-Label Studio synthetic demo dataset"}, {"seed", opt.seed}};
    j["categories"] = categoriesJson();
    j["images"] = nlohmann::json::array();
    j["annotations"] = nlohmann::json::array();
    const int n = train ? opt.train : opt.val;
    for (int i = 0; i < n; ++i) {
      const int64_t image_id = train ? i + 1 : opt.train + i + 1;
      // Per-image stream: an image does not change when the counts change.
      Rng rng(opt.seed * 1000003ULL + static_cast<uint64_t>(image_id) * 7919ULL + (train ? 0 : 17));
      cv::Mat img(opt.size, opt.size, CV_8UC3);
      const auto objects = drawImage(img, rng);
      char name[64];
      std::snprintf(name, sizeof(name), "%s_%06lld.jpg", train ? "train" : "val", static_cast<long long>(image_id));
      if (!cv::imwrite((root / "images" / name).string(), img, {cv::IMWRITE_JPEG_QUALITY, 92}))
        throw std::runtime_error(std::string("cannot write image ") + name);
      j["images"].push_back({{"id", image_id}, {"file_name", name}, {"width", opt.size}, {"height", opt.size}});
      for (const auto& o : objects) {
        const cv::Rect box = cv::boundingRect(o.outline) & cv::Rect(0, 0, opt.size, opt.size);
        nlohmann::json poly = nlohmann::json::array();
        for (const auto& p : o.outline) {
          poly.push_back(std::clamp(p.x, 0, opt.size - 1));
          poly.push_back(std::clamp(p.y, 0, opt.size - 1));
        }
        j["annotations"].push_back({{"id", ann_id++},
                                    {"image_id", image_id},
                                    {"category_id", o.category_id},
                                    {"bbox", {box.x, box.y, box.width, box.height}},
                                    {"area", box.area()},
                                    {"segmentation", nlohmann::json::array({poly})},
                                    {"iscrowd", 0}});
      }
      if (progress && ((train ? i : opt.train + i) % 100 == 0)) progress(train ? i : opt.train + i, total);
    }
    writeJson(train ? ds.train_json : ds.val_json, j);
  }
  if (progress) progress(total, total);
  return ds;
}

DemoDataset createDemoProject(const std::string& out_dir, const DemoOptions& opt,
                              const std::function<void(int, int)>& progress) {
  // Never over an existing file: it may be a demo the user has labelled, or anything else of theirs.
  const std::string project = (fs::path(out_dir) / "demo.mlsproj").string();
  if (fs::exists(project))
    throw std::runtime_error("'" + project + "' already exists: the demo is never written over a file (choose another folder)");
  auto ds = generateDemoDataset(out_dir, opt, progress);
  ds.project = project;
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(ds.project + suffix);
  ProjectStore store(ds.project);
  store.setMeta("name", "Demo (synthetic shapes)");
  CocoImportOptions train;
  train.annotations = ds.train_json;
  train.images = ds.images_dir;
  train.split = Split::Train;
  importCoco(store, train);
  if (opt.val > 0) {
    CocoImportOptions val = train;
    val.annotations = ds.val_json;
    val.split = Split::Val;
    importCoco(store, val);
  }
  if (opt.single_positives) generateSinglePositives(store, opt.seed, false);
  return ds;
}

}  // namespace mls
