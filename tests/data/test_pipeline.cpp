// The image data pipeline: decoding (reduced JPEG), transforms, the threaded ImageBatchSource,
// the in-memory TensorBatchSource and the cached-feature source.
#include "data/pipeline/feature_batch_source.h"
#include "data/pipeline/image_batch_source.h"
#include "data/pipeline/image_decoder.h"
#include "data/pipeline/image_header.h"
#include "data/pipeline/image_transforms.h"
#include "data/pipeline/rand_augment.h"
#include "data/pipeline/sample_pipeline.h"
#include "ml/shard.h"
#include "ml/tensor_batch_source.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest/QtTest>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>

using namespace mls;

namespace {

// ImageNet normalisation of an 8-bit value, the expected output of ToTensor + Normalize.
float normalised(int value, int channel) {
  const float mean[3] = {0.485f, 0.456f, 0.406f};
  const float std[3] = {0.229f, 0.224f, 0.225f};
  return (value / 255.0f - mean[channel]) / std[channel];
}

std::vector<float> oneHot(int k, int positive) {
  std::vector<float> t(static_cast<size_t>(k), 0.0f);
  t[static_cast<size_t>(positive)] = 1.0f;
  return t;
}

std::vector<Batch> drain(BatchSource& source, int epoch) {
  source.startEpoch(epoch);
  std::vector<Batch> out;
  while (auto b = source.next()) out.push_back(std::move(*b));
  return out;
}

std::vector<int64_t> seenIndices(const std::vector<Batch>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches)
    for (int64_t i = 0; i < b.indices.size(0); ++i) out.push_back(b.indices[i].item<int64_t>());
  return out;
}

bool sameBatches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!torch::equal(a[i].images, b[i].images) || !torch::equal(a[i].targets, b[i].targets) ||
        !torch::equal(a[i].indices, b[i].indices))
      return false;
  return true;
}

cv::Mat noiseImage(int width, int height, uint64_t seed) {
  cv::Mat img(height, width, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(img, cv::RNG::UNIFORM, 0, 256);
  return img;
}

}  // namespace

class TestPipeline : public QObject {
  Q_OBJECT

 private:
  QTemporaryDir dir_;
  std::string solid_;    // 40×30 PNG, RGB (255, 0, 128)
  std::string halves_;   // 32×32 PNG, left half red, right half blue
  std::string big_jpg_;  // 1600×1200 JPEG
  std::string corrupt_;  // garbage bytes named .jpg
  std::string missing_;  // never written
  std::vector<std::string> noise_;  // 6 PNGs with distinct content

  std::string path(const char* name) const { return dir_.filePath(name).toStdString(); }

  // An 8x8 JPEG whose SOF0 header is then patched to claim width x height (as a crafted ~1 kB file does).
  static void writeJpegClaiming(const std::string& file, int width, int height) {
    std::vector<uchar> bytes;
    QVERIFY(cv::imencode(".jpg", cv::Mat(8, 8, CV_8UC3, cv::Scalar(10, 200, 30)), bytes));
    size_t sof = 0;
    for (size_t i = 2; i + 9 < bytes.size() && sof == 0; ++i)
      if (bytes[i] == 0xFF && bytes[i + 1] == 0xC0) sof = i;
    QVERIFY(sof > 0);
    // FF C0, length(2), precision(1), height(2), width(2): big-endian.
    bytes[sof + 5] = static_cast<uchar>(height >> 8);
    bytes[sof + 6] = static_cast<uchar>(height & 0xFF);
    bytes[sof + 7] = static_cast<uchar>(width >> 8);
    bytes[sof + 8] = static_cast<uchar>(width & 0xFF);
    std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()),
                                                static_cast<std::streamsize>(bytes.size()));
  }

  // `count` samples over the noise images plus, when asked, the corrupt and the missing file.
  std::vector<ImageSample> noiseSamples(int count, int k = 4) const {
    std::vector<ImageSample> samples;
    for (int i = 0; i < count; ++i)
      samples.push_back({noise_[static_cast<size_t>(i) % noise_.size()], oneHot(k, i % k), i});
    return samples;
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    solid_ = path("solid.png");
    halves_ = path("halves.png");
    big_jpg_ = path("big.jpg");
    corrupt_ = path("corrupt.jpg");
    missing_ = path("does_not_exist.jpg");

    QVERIFY(cv::imwrite(solid_, cv::Mat(30, 40, CV_8UC3, cv::Scalar(128, 0, 255))));  // BGR on disk
    cv::Mat halves(32, 32, CV_8UC3, cv::Scalar(0, 0, 255));                             // red
    halves(cv::Rect(16, 0, 16, 32)).setTo(cv::Scalar(255, 0, 0));                       // right half blue
    QVERIFY(cv::imwrite(halves_, halves));
    QVERIFY(cv::imwrite(big_jpg_, noiseImage(1600, 1200, 3)));
    for (int i = 0; i < 6; ++i) {
      noise_.push_back(path(("noise" + std::to_string(i) + ".png").c_str()));
      QVERIFY(cv::imwrite(noise_.back(), noiseImage(48 + 8 * i, 40, 100 + i)));
    }
    std::ofstream garbage(corrupt_, std::ios::binary);
    cv::RNG rng(9);
    for (int i = 0; i < 4096; ++i) garbage.put(static_cast<char>(rng.uniform(0, 256)));
  }

  void headerProbing() {
    auto jpg = probeImageHeader(big_jpg_);
    QVERIFY(jpg.has_value());
    QCOMPARE(jpg->format, ImageFormat::Jpeg);
    QCOMPARE(jpg->width, 1600);
    QCOMPARE(jpg->height, 1200);
    auto png = probeImageHeader(solid_);
    QVERIFY(png.has_value());
    QCOMPARE(png->format, ImageFormat::Png);
    QCOMPARE(png->width, 40);
    QCOMPARE(png->height, 30);
    auto garbage = probeImageHeader(corrupt_);
    QVERIFY(garbage.has_value());
    QCOMPARE(garbage->format, ImageFormat::Unknown);
    QVERIFY(!probeImageHeader(missing_).has_value());
    QVERIFY(hasJpegExtension("a/B.JPEG"));
    QVERIFY(!hasJpegExtension("a/b.png"));
  }

  void reducedDecodingPicksFactor() {
    QCOMPARE(reducedDecodeFactor(1600, 1200, 224), 4);  // 1200/4 = 300 >= 224, 1200/8 = 150 < 224
    QCOMPARE(reducedDecodeFactor(4000, 3000, 224), 8);
    QCOMPARE(reducedDecodeFactor(640, 480, 224), 2);
    QCOMPARE(reducedDecodeFactor(640, 480, 448), 1);
    QCOMPARE(reducedDecodeFactor(1600, 1200, 600), 2);
    QCOMPARE(reducedDecodeFactor(0, 0, 224), 1);

    // Size from the header probe.
    DecodedImage probed = decodeImageRgb(big_jpg_, 224);
    QCOMPARE(probed.reduction, 4);
    QCOMPARE(probed.rgb.cols, 400);
    QCOMPARE(probed.rgb.rows, 300);
    QCOMPARE(probed.rgb.type(), CV_8UC3);
    // Size from the project's stored width/height.
    DecodedImage stored = decodeImageRgb(big_jpg_, 100, 1600, 1200);
    QCOMPARE(stored.reduction, 8);
    QCOMPARE(stored.rgb.cols, 200);
    // Disabled, and never for PNG (OpenCV would shrink PNGs with plain bilinear).
    QCOMPARE(decodeImageRgb(big_jpg_, 0).reduction, 1);
    QCOMPARE(decodeImageRgb(big_jpg_, 0).rgb.cols, 1600);
    QCOMPARE(decodeImageRgb(solid_, 4).reduction, 1);

    QVERIFY_THROWS_EXCEPTION(ImageDecodeError, decodeImageRgb(missing_, 224));
    QVERIFY_THROWS_EXCEPTION(ImageDecodeError, decodeImageRgb(corrupt_, 224));
  }

  // A small JPEG whose frame header claims a huge size: refused from the header in one line, before
  // OpenCV spends seconds and gigabytes on it or asserts over several lines (issue 11 §4.5).
  void hugeHeaderIsRefusedBeforeDecoding() {
    for (const int side : {30000, 65500}) {
      const std::string file = path(("huge" + std::to_string(side) + ".jpg").c_str());
      writeJpegClaiming(file, side, side);
      QCOMPARE(probeImageHeader(file)->width, side);
      const auto start = std::chrono::steady_clock::now();
      for (const auto& [target, known] : {std::pair{0, 0}, std::pair{64, 0}, std::pair{64, 8}}) {
        try {
          decodeImageRgb(file, target, known, known);  // a stored size of 8x8 must not hide the header's
          QFAIL("decoded a 30000x30000 claim");
        } catch (const ImageDecodeError& e) {
          const std::string m = e.what();
          QVERIFY2(m.find("too large") != std::string::npos, m.c_str());
          QVERIFY2(m.find(std::to_string(side) + "x" + std::to_string(side)) != std::string::npos, m.c_str());
          QVERIFY2(m.find(file) != std::string::npos, m.c_str());
          QVERIFY2(m.find('\n') == std::string::npos, m.c_str());
        }
      }
      QVERIFY(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    }
    // The loader skips it like any unreadable file and goes on.
    auto samples = noiseSamples(2);
    samples.push_back({path("huge30000.jpg"), oneHot(4, 0), 2});
    ImageBatchSource source(samples, 16, 3, false, {}, 0, 1);
    const auto batches = drain(source, 0);
    QCOMPARE(seenIndices(batches), (std::vector<int64_t>{0, 1}));
    QCOMPARE(source.skippedSamples(), int64_t(1));
  }

  void decodeIsRgb() {
    DecodedImage img = decodeImageRgb(solid_, 0);
    const auto px = img.rgb.at<cv::Vec3b>(5, 5);
    QCOMPARE(int(px[0]), 255);
    QCOMPARE(int(px[1]), 0);
    QCOMPARE(int(px[2]), 128);
  }

  void solidColourNormalisation() {
    ImageBatchSource source({{solid_, {1.f, 0.f, -1.f}, 42}}, 16, 4, false);
    auto batches = drain(source, 0);
    QCOMPARE(batches.size(), size_t(1));
    const Batch& b = batches[0];
    QCOMPARE(b.images.sizes().vec(), (std::vector<int64_t>{1, 3, 16, 16}));
    QCOMPARE(b.images.scalar_type(), torch::kFloat);
    const int rgb[3] = {255, 0, 128};
    for (int c = 0; c < 3; ++c) {
      const auto plane = b.images[0][c];
      QVERIFY(std::abs(plane.min().item<float>() - normalised(rgb[c], c)) < 1e-5f);
      QVERIFY(std::abs(plane.max().item<float>() - normalised(rgb[c], c)) < 1e-5f);
    }
    QVERIFY(std::abs(b.images[0][0][0][0].item<float>() - 2.2489083f) < 1e-5f);   // (1 - 0.485) / 0.229
    QVERIFY(std::abs(b.images[0][1][0][0].item<float>() + 2.0357143f) < 1e-5f);   // (0 - 0.456) / 0.224
    QCOMPARE(b.targets[0][2].item<float>(), -1.0f);
    QCOMPARE(b.indices[0].item<int64_t>(), int64_t(42));
    QCOMPARE(b.indices.scalar_type(), torch::kLong);
  }

  void batchShapesAndTargets() {
    const int k = 5;
    auto samples = noiseSamples(8, k);
    ImageBatchSource source(samples, 24, 3, false);
    QCOMPARE(source.size(), int64_t(8));
    QCOMPARE(source.numClasses(), int64_t(k));
    auto batches = drain(source, 0);
    QCOMPARE(batches.size(), size_t(3));
    QCOMPARE(batches[0].images.sizes().vec(), (std::vector<int64_t>{3, 3, 24, 24}));
    QCOMPARE(batches[0].targets.sizes().vec(), (std::vector<int64_t>{3, k}));
    QCOMPARE(batches[2].images.size(0), int64_t(2));
    for (const auto& b : batches)
      for (int64_t i = 0; i < b.indices.size(0); ++i) {
        const int64_t idx = b.indices[i].item<int64_t>();
        QCOMPARE(b.targets[i].argmax().item<int64_t>(), idx % k);
        QCOMPARE(b.targets[i].sum().item<float>(), 1.0f);
      }
    QVERIFY(!source.pinsMemory() || torch::cuda::is_available());

    source.setDropLast(true);
    QCOMPARE(source.size(), int64_t(6));
    QCOMPARE(drain(source, 0).size(), size_t(2));
  }

  void flipMirrorsImage() {
    AugmentationOptions flip;
    flip.horizontal_flip = true;
    flip.flip_probability = 1.0;
    ImageBatchSource plain({{halves_, {1.f}, 0}}, 32, 1, false);
    ImageBatchSource flipped({{halves_, {1.f}, 0}}, 32, 1, false, flip);
    const auto a = drain(plain, 0).at(0).images;
    const auto b = drain(flipped, 0).at(0).images;
    QVERIFY(torch::equal(b, a.flip({3})));
    // Left column is now blue: R plane at its minimum, B plane at its maximum.
    QVERIFY(std::abs(a[0][0][5][0].item<float>() - normalised(255, 0)) < 1e-5f);
    QVERIFY(std::abs(b[0][0][5][0].item<float>() - normalised(0, 0)) < 1e-5f);
    QVERIFY(std::abs(b[0][2][5][0].item<float>() - normalised(255, 2)) < 1e-5f);

    // With p = 0.5 some samples flip and some do not, decided per sample.
    flip.flip_probability = 0.5;
    std::vector<ImageSample> many;
    for (int i = 0; i < 16; ++i) many.push_back({halves_, {1.f}, i});
    ImageBatchSource half(many, 32, 16, false, flip, 5);
    const auto imgs = drain(half, 0).at(0).images;
    int flips = 0;
    for (int i = 0; i < 16; ++i) flips += torch::equal(imgs[i], a[0].flip({2})) ? 1 : 0;
    QVERIFY(flips > 0 && flips < 16);
  }

  void deterministicForSeed() {
    auto samples = noiseSamples(12);
    auto options = AugmentationOptions::query2label();
    options.horizontal_flip = true;
    ImageBatchSource a(samples, 32, 4, true, options, 7, /*workers=*/2, /*prefetch=*/2);
    ImageBatchSource b(samples, 32, 4, true, options, 7, /*workers=*/3, /*prefetch=*/5);
    ImageBatchSource sync(samples, 32, 4, true, options, 7, /*workers=*/0);
    ImageBatchSource other_seed(samples, 32, 4, true, options, 8, 2);
    const auto a0 = drain(a, 0);
    QVERIFY(sameBatches(a0, drain(b, 0)));
    QVERIFY(sameBatches(a0, drain(sync, 0)));
    QVERIFY(!sameBatches(a0, drain(other_seed, 0)));
    const auto a1 = drain(a, 1);
    QVERIFY(sameBatches(a1, drain(b, 1)));
    QVERIFY(!sameBatches(a0, a1));
    QVERIFY(sameBatches(a0, drain(a, 0)));  // replaying an epoch gives the same data
    // Augmentation really changed the pixels relative to the plain pipeline.
    ImageBatchSource plain(samples, 32, 4, true, {}, 7, 2);
    QVERIFY(!sameBatches(a0, drain(plain, 0)));
  }

  void corruptAndMissingSkipped() {
    auto samples = noiseSamples(5);
    samples.insert(samples.begin() + 1, ImageSample{corrupt_, oneHot(4, 0), 100});
    samples.push_back({missing_, oneHot(4, 1), 101});
    ImageBatchSource source(samples, 16, 3, false, {}, 0, 2);
    auto batches = drain(source, 0);
    // Batches of 3 over 7 samples: [0, corrupt, 1], [2, 3, 4], [missing] -> the last is passed over.
    QCOMPARE(batches.size(), size_t(2));
    QCOMPARE(batches[0].images.size(0), int64_t(2));
    QCOMPARE(batches[0].targets.size(0), int64_t(2));
    QCOMPARE(batches[1].images.size(0), int64_t(3));
    QCOMPARE(seenIndices(batches), (std::vector<int64_t>{0, 1, 2, 3, 4}));
    QCOMPARE(source.skippedSamples(), int64_t(2));
    const auto messages = source.skippedMessages();
    QCOMPARE(messages.size(), size_t(2));
    QVERIFY(std::any_of(messages.begin(), messages.end(),
                        [&](const std::string& m) { return m.find("does_not_exist") != std::string::npos; }));
    drain(source, 1);
    QCOMPARE(source.skippedSamples(), int64_t(2));  // counted once per sample, not once per epoch
  }

  void everySampleOncePerEpoch() {
    auto samples = noiseSamples(10);
    ImageBatchSource source(samples, 16, 3, true, AugmentationOptions::singlePositive(), 11, 2, 3);
    std::vector<int64_t> all(10);
    std::iota(all.begin(), all.end(), 0);
    const auto e0 = seenIndices(drain(source, 0));
    const auto e1 = seenIndices(drain(source, 1));
    QVERIFY(e0 != e1);  // reshuffled
    for (auto seen : {e0, e1}) {
      std::sort(seen.begin(), seen.end());
      QCOMPARE(seen, all);
    }
    QVERIFY(!source.next().has_value());  // stays at the end until the next startEpoch
    // next() without startEpoch starts epoch 0.
    ImageBatchSource fresh(samples, 16, 3, true, AugmentationOptions::singlePositive(), 11, 2, 3);
    std::vector<int64_t> first;
    while (auto b = fresh.next())
      for (int64_t i = 0; i < b->indices.size(0); ++i) first.push_back(b->indices[i].item<int64_t>());
    QCOMPARE(first, e0);
  }

  void destructorMidEpochIsPrompt() {
    std::vector<ImageSample> samples;
    for (int i = 0; i < 2000; ++i) samples.push_back({big_jpg_, {1.f}, i, 1600, 1200});
    using Clock = std::chrono::steady_clock;
    {
      auto source = std::make_unique<ImageBatchSource>(samples, 64, 8, true, AugmentationOptions::query2label(), 1, 2, 4);
      auto b = source->next();
      QVERIFY(b.has_value());
      QCOMPARE(b->images.size(0), int64_t(8));
      const auto t0 = Clock::now();
      source.reset();
      QVERIFY(Clock::now() - t0 < std::chrono::seconds(2));
    }
    {
      auto source = std::make_unique<ImageBatchSource>(samples, 64, 8, false, AugmentationOptions{}, 1, 2, 4);
      source->startEpoch(3);  // workers busy, nothing consumed
      const auto t0 = Clock::now();
      source->startEpoch(4);  // restarting mid-epoch cancels too
      source.reset();
      QVERIFY(Clock::now() - t0 < std::chrono::seconds(2));
    }
  }

  void cutoutMatchesCutoutPil() {
    // Side int(0.5*448 + 0.5) = 224; PIL's rectangle includes both corners, so an unclipped hole spans 225.
    DeterministicRng rng(3);
    int unclipped = 0;
    for (int i = 0; i < 200; ++i) {
      const CutoutRect r = drawCutoutRect(448, 448, 0.5, rng);
      QVERIFY(r.x1 >= 0 && r.y1 >= 0 && r.x2 <= 447 && r.y2 <= 447);
      QVERIFY(r.x2 - r.x1 + 1 <= 225 && r.y2 - r.y1 + 1 <= 225);
      if (r.x1 > 0 && r.x2 < 447) {
        QCOMPARE(r.x2 - r.x1 + 1, 225);
        ++unclipped;
      }
    }
    QVERIFY(unclipped > 0);

    cv::Mat img(64, 64, CV_8UC3, cv::Scalar(1, 2, 3));
    DeterministicRng fill_rng(4);
    applyCutout(img, 1, 0.5, CutoutFill::Mean, {0.485f, 0.456f, 0.406f}, fill_rng);
    int filled = 0;
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 64; ++x)
        if (img.at<cv::Vec3b>(y, x) == cv::Vec3b(124, 116, 104)) ++filled;  // round(mean * 255)
    QVERIFY(filled >= 17 * 17 && filled <= 33 * 33);
  }

  void randAugmentOps() {
    cv::Mat base;
    noiseImage(40, 40, 77).convertTo(base, CV_8U, 0.6, 30);  // values in [30, 183]: autocontrast has work to do
    for (int i = 0; i < kRandAugmentOpCount; ++i) {
      const auto op = static_cast<RandAugmentOp>(i);
      cv::Mat out = base.clone();
      applyRandAugmentOp(out, op, 0.9, i % 2 == 0);
      QCOMPARE(out.type(), CV_8UC3);
      QCOMPARE(out.size(), base.size());
      const bool changed = cv::norm(out, base, cv::NORM_L1) > 0;
      QVERIFY2(changed == (op != RandAugmentOp::Identity), randAugmentOpName(op));
      // At magnitude 0 every level-driven op is the identity.
      if (op != RandAugmentOp::AutoContrast && op != RandAugmentOp::Equalize) {
        cv::Mat zero = base.clone();
        applyRandAugmentOp(zero, op, 0.0, false);
        QVERIFY2(cv::norm(zero, base, cv::NORM_L1) == 0, randAugmentOpName(op));
      }
    }
    cv::Mat stretched = base.clone();
    applyRandAugmentOp(stretched, RandAugmentOp::AutoContrast, 0.0, false);
    double lo = 0, hi = 0;
    cv::minMaxLoc(stretched.reshape(1), &lo, &hi);
    QCOMPARE(lo, 0.0);
    QCOMPARE(hi, 255.0);
    cv::Mat px(1, 1, CV_8UC3, cv::Scalar(200, 0xAB, 10));
    cv::Mat b = px.clone();
    applyRandAugmentOp(b, RandAugmentOp::Brightness, 0.5, true);  // factor 1 - 0.45
    QCOMPARE(int(b.at<cv::Vec3b>(0, 0)[0]), 110);
    cv::Mat p = px.clone();
    applyRandAugmentOp(p, RandAugmentOp::Posterize, 1.0, false);  // 4 bits
    QCOMPARE(int(p.at<cv::Vec3b>(0, 0)[1]), 0xA0);
    cv::Mat s = px.clone();
    applyRandAugmentOp(s, RandAugmentOp::Solarize, 1.0, false);  // threshold 0: everything inverted
    QCOMPARE(int(s.at<cv::Vec3b>(0, 0)[0]), 55);
    QCOMPARE(int(s.at<cv::Vec3b>(0, 0)[2]), 245);
    cv::Mat t = base.clone();
    applyRandAugmentOp(t, RandAugmentOp::TranslateX, 1.0, false);  // content moves left by 18 px
    QCOMPARE(t.at<cv::Vec3b>(10, 0), base.at<cv::Vec3b>(10, 18));
    QCOMPARE(t.at<cv::Vec3b>(10, 39), cv::Vec3b(128, 128, 128));
  }

  void tensorBatchSource() {
    auto images = torch::arange(10 * 3 * 2 * 4, torch::kFloat).reshape({10, 3, 2, 4});
    auto targets = torch::eye(10).narrow(1, 0, 5);
    auto ids = torch::arange(100, 110, torch::kLong);
    TensorBatchSource source(images, targets, 4, true, 3, ids);
    QCOMPARE(source.size(), int64_t(10));
    QCOMPARE(source.numClasses(), int64_t(5));
    auto e0 = drain(source, 0);
    QCOMPARE(e0.size(), size_t(3));
    QCOMPARE(e0[2].images.size(0), int64_t(2));
    auto seen = seenIndices(e0);
    std::sort(seen.begin(), seen.end());
    QCOMPARE(seen.front(), int64_t(100));
    QCOMPARE(seen.back(), int64_t(109));
    QCOMPARE(std::set<int64_t>(seen.begin(), seen.end()).size(), size_t(10));
    for (const auto& b : e0)
      for (int64_t i = 0; i < b.indices.size(0); ++i) {
        const int64_t row = b.indices[i].item<int64_t>() - 100;
        QVERIFY(torch::equal(b.images[i], images[row]));
        QVERIFY(torch::equal(b.targets[i], targets[row]));
      }
    TensorBatchSource again(images, targets, 4, true, 3, ids);
    QVERIFY(sameBatches(e0, drain(again, 0)));
    QVERIFY(!sameBatches(e0, drain(again, 1)));

    source.setDropLast(true);
    QCOMPARE(source.size(), int64_t(8));
    QCOMPARE(drain(source, 0).size(), size_t(2));

    TensorBatchSource flipping(images, targets, 10, false, 9);
    flipping.setHorizontalFlip(true);
    const auto f = drain(flipping, 0).at(0);
    int flipped = 0;
    for (int64_t i = 0; i < 10; ++i) {
      const bool same = torch::equal(f.images[i], images[i]);
      QVERIFY(same || torch::equal(f.images[i], images[i].flip({2})));
      flipped += same ? 0 : 1;
    }
    QVERIFY(flipped > 0 && flipped < 10);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, TensorBatchSource(images, targets.narrow(0, 0, 9), 4));
    TensorBatchSource features(torch::zeros({4, 7}), torch::zeros({4, 2}), 3);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, features.setHorizontalFlip(true));
  }

  // setShard: torch DistributedSampler's split of the epoch's order, the same for images and tensors. 10 samples
  // over 3 ranks: 4 each (2 padding entries wrap to the order's start); the ranks together cover every sample,
  // and ranks' step s together are step s of one process with a 3x larger batch.
  void shardsSplitTheEpochOrder() {
    const int n = 10, world = 3;
    auto samples = noiseSamples(n);
    auto images = torch::arange(n, torch::kFloat).reshape({n, 1});
    auto targets = torch::zeros({n, 4});
    for (bool shuffle : {true, false}) {
      const auto order = epochOrder(n, shuffle, 11, 1);
      std::vector<int64_t> covered;
      for (int r = 0; r < world; ++r) {
        ImageBatchSource image_source(samples, 16, 2, shuffle, AugmentationOptions{}, 11, 1, 2);
        TensorBatchSource tensor_source(images, targets, 2, shuffle, 11);
        image_source.setShard({r, world});
        tensor_source.setShard({r, world});
        QCOMPARE(image_source.size(), int64_t(4));
        QCOMPARE(tensor_source.size(), int64_t(4));
        QCOMPARE(tensor_source.datasetSize(), int64_t(n));
        const auto from_images = seenIndices(drain(image_source, 1));
        const auto from_tensors = seenIndices(drain(tensor_source, 1));
        QCOMPARE(from_images, from_tensors);
        std::vector<int64_t> expected;
        for (int slot = 0; slot < 4; ++slot) expected.push_back(order[size_t((slot * world + r) % n)]);
        QCOMPARE(from_images, expected);
        QCOMPARE(shardOf(order, {r, world}), expected);
        covered.insert(covered.end(), from_images.begin(), from_images.end());
      }
      std::sort(covered.begin(), covered.end());
      covered.erase(std::unique(covered.begin(), covered.end()), covered.end());
      QCOMPARE(covered.size(), size_t(n));
    }
    TensorBatchSource whole(images, targets, 4);
    whole.setShard({1, 2});
    whole.setShard({});  // back to one shard
    QCOMPARE(whole.size(), int64_t(n));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, whole.setShard({2, 2}));
    QCOMPARE(shardPositions(5, {1, 2}), (std::vector<int64_t>{1, 3, 0}));
    QCOMPARE(shardLength(5, 2, true), int64_t(2));
  }

  void featureCache() {
    std::vector<ImageSample> samples{{solid_, {1.f, 0.f}, 0}, {corrupt_, {0.f, 1.f}, 1}, {halves_, {0.f, 1.f}, 2}};
    ImageBatchSource images(samples, 16, 2, false, {}, 0, 2);
    // Global average pooling as a stand-in backbone: (B,3,H,W) -> (B,3).
    auto cache = computeFeatureCache(images, [](const torch::Tensor& x) { return x.mean({2, 3}); });
    QCOMPARE(cache.features.sizes().vec(), (std::vector<int64_t>{2, 3}));
    QCOMPARE(cache.skipped, int64_t(1));
    QVERIFY(!cache.cancelled);
    QCOMPARE(cache.indices[1].item<int64_t>(), int64_t(2));
    QVERIFY(std::abs(cache.features[0][0].item<float>() - normalised(255, 0)) < 1e-5f);
    QVERIFY(std::abs(cache.features[0][2].item<float>() - normalised(128, 2)) < 1e-5f);
    // Halves: mean of red half and blue half in the R plane.
    QVERIFY(std::abs(cache.features[1][0].item<float>() - 0.5f * (normalised(255, 0) + normalised(0, 0))) < 1e-4f);

    FeatureBatchSource source(cache, 4, false);
    QCOMPARE(source.size(), int64_t(2));
    QCOMPARE(source.skippedSamples(), int64_t(1));
    auto batches = drain(source, 0);
    QCOMPARE(batches.size(), size_t(1));
    QVERIFY(torch::equal(batches[0].images, cache.features));
    QCOMPARE(seenIndices(batches), (std::vector<int64_t>{0, 2}));

    ImageBatchSource augmented(samples, 16, 2, false, AugmentationOptions::singlePositive());
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument,
                             computeFeatureCache(augmented, [](const torch::Tensor& x) { return x; }));
    // Cancelling after the first batch keeps what was computed.
    auto partial = computeFeatureCache(images, [](const torch::Tensor& x) { return x.mean({2, 3}); },
                                       [](int64_t, int64_t) { return false; });
    QVERIFY(partial.cancelled);
    QCOMPARE(partial.features.size(0), int64_t(1));
  }

  void inconsistentTargetsRejected() {
    std::vector<ImageSample> samples{{solid_, {1.f, 0.f}, 0}, {solid_, {1.f}, 1}};
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ImageBatchSource(samples, 16, 2, false));
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, ImageBatchSource({}, 0, 2, false));
  }
};

QTEST_APPLESS_MAIN(TestPipeline)
#include "test_pipeline.moc"
