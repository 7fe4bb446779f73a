#include "data/training/project_samples.h"

#include <torch/torch.h>

#include <filesystem>
#include <stdexcept>
#include <unordered_map>

#include "data/store/project_store.h"

namespace mls {

LabelMode parseLabelMode(const std::string& name) {
  if (name == "full") return LabelMode::Full;
  if (name == "single") return LabelMode::Single;
  throw std::invalid_argument("unknown label mode '" + name + "' (expected full or single)");
}

namespace {

std::unordered_map<int64_t, int> categoryIndex(ProjectStore& store) {
  std::unordered_map<int64_t, int> idx;
  for (const auto& c : store.categories()) idx[c.id] = c.idx;
  return idx;
}

ImageSample sampleFor(ProjectStore& store, const ImageRecord& im, std::vector<float> targets, int64_t index) {
  ImageSample s;
  s.path = store.imagePath(im);
  s.targets = std::move(targets);
  s.index = index;
  s.width = im.width;
  s.height = im.height;
  return s;
}

}  // namespace

ProjectSamples trainingSamples(ProjectStore& store, LabelMode mode) {
  ProjectSamples out;
  const auto idx = categoryIndex(store);
  out.num_classes = static_cast<int>(idx.size());
  if (out.num_classes == 0) throw std::invalid_argument("the project has no categories");
  ImageFilter train;
  train.split = Split::Train;
  const auto images = store.images(train);
  const auto labels = store.labelsBySplit(Split::Train);
  const auto positives = store.singlePositives(Split::Train);
  for (const auto& im : images) {
    std::vector<float> t(static_cast<size_t>(out.num_classes), 0.0f);
    if (mode == LabelMode::Single) {
      auto it = positives.find(im.id);
      if (it == positives.end()) {
        ++out.left_out;
        continue;
      }
      t[static_cast<size_t>(idx.at(it->second.category_id))] = 1.0f;
    } else {
      auto it = labels.find(im.id);
      if (it == labels.end() || it->second.empty()) {
        ++out.left_out;
        continue;
      }
      for (auto c : it->second) t[static_cast<size_t>(idx.at(c))] = 1.0f;
    }
    out.samples.push_back(sampleFor(store, im, std::move(t), static_cast<int64_t>(out.samples.size())));
    out.image_ids.push_back(im.id);
  }
  if (out.samples.empty())
    throw std::invalid_argument(mode == LabelMode::Single
                                    ? "no training image has a single positive yet (annotate some, or run single-positive)"
                                    : "no training image has labels");
  return out;
}

ProjectSamples evaluationSamples(ProjectStore& store, Split split) {
  ProjectSamples out;
  const auto idx = categoryIndex(store);
  out.num_classes = static_cast<int>(idx.size());
  ImageFilter f;
  f.split = split;
  const auto labels = store.labelsBySplit(split);
  for (const auto& im : store.images(f)) {
    std::vector<float> t(static_cast<size_t>(out.num_classes), 0.0f);
    if (auto it = labels.find(im.id); it != labels.end())
      for (auto c : it->second) t[static_cast<size_t>(idx.at(c))] = 1.0f;
    out.samples.push_back(sampleFor(store, im, std::move(t), static_cast<int64_t>(out.samples.size())));
    out.image_ids.push_back(im.id);
  }
  return out;
}

void requireSomeTrainingFile(const ProjectSamples& train, const std::string& project_path) {
  std::error_code ec;
  for (const auto& s : train.samples)
    if (!s.path.empty() && std::filesystem::exists(s.path, ec)) return;
  if (train.samples.empty()) return;
  const std::filesystem::path first(train.samples.front().path);
  const std::string folder = first.parent_path().string();
  throw std::invalid_argument("none of the " + std::to_string(train.samples.size()) +
                              " training images can be read: the first, '" + first.filename().string() +
                              "', is not in '" + folder + "'. If the images moved, point the project at them: "
                              "mlstudio-cli relink --project " + project_path + " --from " + folder + " --to NEW_FOLDER");
}

at::Tensor targetMatrix(const ProjectSamples& s) {
  auto m = torch::zeros({static_cast<int64_t>(s.samples.size()), s.num_classes});
  auto a = m.accessor<float, 2>();
  for (size_t i = 0; i < s.samples.size(); ++i)
    for (size_t k = 0; k < s.samples[i].targets.size(); ++k) a[static_cast<int64_t>(i)][static_cast<int64_t>(k)] = s.samples[i].targets[k];
  return m;
}

}  // namespace mls
