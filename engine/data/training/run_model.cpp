#include "data/training/run_model.h"

#include <torch/torch.h>

#include <filesystem>

#include "data/pipeline/image_batch_source.h"
#include "data/pipeline/image_decoder.h"
#include "data/pipeline/image_transforms.h"
#include "data/store/project_store.h"
#include "data/training/project_samples.h"
#include "data/training/run_model_spec.h"
#include "ml/device.h"
#include "ml/models/multilabel_model.h"
#include "ml/training/checkpoint_io.h"

namespace fs = std::filesystem;

namespace mls {

namespace {
std::string bestCheckpoint(ProjectStore& store, const RunRecord& run) {
  const fs::path best = fs::path(run.checkpoint_dir) / "best.pt";
  if (!run.checkpoint_dir.empty() && fs::is_regular_file(best)) return best.string();
  const auto cps = store.checkpoints(run.id);
  if (!cps.empty() && fs::is_regular_file(cps.back().path)) return cps.back().path;
  throw std::runtime_error("run " + std::to_string(run.id) + " ('" + run.name + "') has no checkpoint yet");
}
}  // namespace

RunModel::RunModel(ProjectStore& store, int64_t run_id, const std::string& device) : device_(device) {
  const auto run = store.run(run_id);
  if (!run) throw UnknownIdError("unknown run id " + std::to_string(run_id));
  request_ = TrainRequest::fromJson(run->config);
  request_.resolveDefaults();
  categories_ = store.categories();
  checkpoint_ = bestCheckpoint(store, *run);
  // The trained architecture (frozen BN included); the weights come from the checkpoint, not the
  // original weights file.
  ModelSpec spec = modelSpecFor(request_, static_cast<int>(categories_.size()));
  spec.weights.clear();
  model_ = buildModel(spec);
  loadCheckpointWeights(*model_, checkpoint_);
  model_->to(resolveDevice(device_));
  model_->eval();
}

RunModel::~RunModel() = default;

bool RunModel::hasAttention() const { return model_->hasAttention(); }

ImagePrediction RunModel::predict(const std::string& image_path, bool want_attention) {
  ImagePrediction out;
  const int s = request_.image_size;
  auto decoded = decodeImageRgb(image_path, 0);
  out.image_rgb = decoded.rgb;
  const cv::Mat resized = resizeSquare(decoded.rgb, s);
  auto input = torch::empty({1, 3, s, s});
  const AugmentationOptions plain;
  writeNormalisedChw(resized, plain.mean, plain.std, input.data_ptr<float>());
  torch::NoGradGuard no_grad;
  const auto dev = resolveDevice(device_);
  auto result = model_->forward(input.to(dev), want_attention && model_->hasAttention());
  auto scores = torch::sigmoid(result.logits.to(torch::kFloat32)).cpu().contiguous();
  out.scores.assign(scores.data_ptr<float>(), scores.data_ptr<float>() + scores.numel());
  if (result.attention.defined()) out.attention = result.attention[0].to(torch::kFloat32).cpu();
  return out;
}

MultiLabelMetrics RunModel::evaluate(ProjectStore& store, Split split) {
  const auto samples = evaluationSamples(store, split);
  if (samples.samples.empty()) throw std::invalid_argument(std::string("the project has no ") + splitName(split) + " images");
  ImageBatchSource source(samples.samples, request_.image_size, 64, false, AugmentationOptions::none(), 0, 2);
  source.startEpoch(0);
  const auto k = static_cast<size_t>(samples.num_classes);
  std::vector<float> scores;
  std::vector<uint8_t> labels;
  size_t rows = 0;
  torch::NoGradGuard no_grad;
  const auto dev = resolveDevice(device_);
  while (auto batch = source.next()) {
    auto s = torch::sigmoid(model_->forward(batch->images.to(dev)).logits.to(torch::kFloat32)).cpu().contiguous();
    auto t = batch->targets.to(torch::kFloat32).contiguous();
    const auto sa = s.accessor<float, 2>();
    const auto ta = t.accessor<float, 2>();
    for (int64_t r = 0; r < s.size(0); ++r, ++rows) {
      for (size_t c = 0; c < k; ++c) {
        scores.push_back(sa[r][static_cast<int64_t>(c)]);
        labels.push_back(ta[r][static_cast<int64_t>(c)] > 0.5f ? 1 : 0);
      }
    }
  }
  if (source.skippedSamples() > 0 && rows == 0) throw std::runtime_error("no image of the split could be decoded");
  return evaluateMultiLabel(scores, labels, rows, k);
}

}  // namespace mls
