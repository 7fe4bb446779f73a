// The renaming to the authors' parameter names (authors_names.h) on untrained models, for the cases the
// trained-run test does not reach: Query2Label without input_proj (channels == hidden size, the authors' default
// identity), an image size that is not a multiple of 32, MLSPL with frozen BatchNorm (batch counters added),
// and the tiny backbone (no counterpart: exact == false).
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <map>

#include "ml/models/authors_names.h"
#include "ml/models/backbone.h"
#include "ml/models/mlspl_classifier.h"
#include "ml/models/positional_encoding.h"
#include "ml/models/query2label.h"

using namespace mls;

namespace {

std::map<std::string, torch::Tensor> byName(const NamedTensors& tensors) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& kv : tensors) out.emplace(kv.first, kv.second);
  return out;
}

std::shared_ptr<Backbone> backbone(const std::string& name, bool frozen_bn = false) {
  BackboneOptions o;
  o.name = name;
  o.frozen_bn = frozen_bn;
  return makeBackbone(o);
}

std::string joined(const std::vector<std::string>& notes) {
  std::string s;
  for (const auto& n : notes) s += n + "\n";
  return s;
}

}  // namespace

class TestAuthorsNames : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { torch::set_num_threads(1); }

  void query2LabelWithoutInputProjection() {
    Q2LConfig c = Q2LConfig::smallCpu(5);
    c.transformer.d_model = 512;  // = ResNet-18's channels: no input_proj, like the authors' default nn.Identity
    c.transformer.dim_feedforward = 32;
    Query2Label model(backbone("resnet18"), c);
    model.eval();
    const auto r = toAuthorsNames(model, "resnet18", 96);
    const auto got = byName(r.tensors);
    QCOMPARE(got.size(), r.tensors.size());  // no name twice
    QCOMPARE(QString::fromStdString(r.module), QString("Qeruy2Label"));
    QVERIFY(r.exact);
    // No batch counters: the authors' FrozenBatchNorm2d has none.
    int64_t body = 0;
    for (const auto& kv : got) {
      QVERIFY2(kv.first.find("num_batches_tracked") == std::string::npos, kv.first.c_str());
      if (kv.first.rfind("backbone.0.body.", 0) == 0) ++body;
    }
    QCOMPARE(body, int64_t(100));  // what torchvision's resnet18 state dict has without fc and the 20 counters
    QVERIFY(!got.count("input_proj.weight"));
    QVERIFY(got.count("backbone.0.body.layer3.0.downsample.1.running_mean"));
    QVERIFY(got.at("backbone.1.pe").sizes().equals({1, 512, 3, 3}));  // 96 / 32
    QVERIFY(torch::equal(got.at("backbone.1.pe"), sinePositionEncoding2d(3, 3, 512)));
    QVERIFY(got.at("fc.W").sizes().equals({1, 5, 512}));
    QVERIFY(got.at("fc.b").sizes().equals({1, 5}));
    QVERIFY(got.at("query_embed.weight").sizes().equals({5, 512}));
    QVERIFY(got.at("transformer.encoder.layers.0.self_attn.in_proj_weight").sizes().equals({1536, 512}));
    QVERIFY(got.count("transformer.decoder.norm.weight"));
    std::map<std::string, std::string> args(r.arguments.begin(), r.arguments.end());
    QCOMPARE(QString::fromStdString(args.at("keep_input_proj")), QString("false"));
    QCOMPARE(QString::fromStdString(args.at("hidden_dim")), QString("512"));
    QCOMPARE(QString::fromStdString(args.at("img_size")), QString("96"));
    QVERIFY(model.is_training() == false);  // the dry run left the mode alone
  }

  void query2LabelOddImageSize() {
    Query2Label model(backbone("resnet18"), Q2LConfig::smallCpu(3));
    const auto r = toAuthorsNames(model, "resnet18", 80);  // 80 px -> a 3x3 map; the authors need a multiple of 32
    QVERIFY(byName(r.tensors).at("backbone.1.pe").sizes().equals({1, 128, 3, 3}));
    QVERIFY2(joined(r.notes).find("multiple of 32") != std::string::npos, joined(r.notes).c_str());
    QVERIFY(model.is_training());
  }

  void mlsplFrozenBatchNorm() {
    MlsplClassifier model(backbone("resnet18", /*frozen_bn=*/true), 7);
    const auto r = toAuthorsNames(model, "resnet18", 64);
    const auto got = byName(r.tensors);
    QCOMPARE(QString::fromStdString(r.module), QString("ImageClassifier"));
    QVERIFY(r.exact);
    QCOMPARE(got.size(), size_t(122));  // torchvision's Sequential(resnet18 children[:-1]) + Linear, as PyTorch lists it
    for (const char* key : {"feature_extractor.1.num_batches_tracked", "feature_extractor.4.0.bn2.num_batches_tracked",
                            "feature_extractor.7.0.downsample.1.num_batches_tracked"}) {
      QVERIFY2(got.count(key), key);
      QCOMPARE(got.at(key).scalar_type(), torch::kLong);
    }
    QVERIFY(got.at("feature_extractor.0.weight").sizes().equals({64, 3, 7, 7}));
    QVERIFY(got.at("feature_extractor.6.1.conv1.weight").sizes().equals({256, 256, 3, 3}));
    QVERIFY(got.at("linear_classifier.weight").sizes().equals({7, 512}));
    QVERIFY2(joined(r.notes).find("frozen") != std::string::npos, joined(r.notes).c_str());
    QVERIFY2(joined(r.notes).find("resnet50") != std::string::npos, joined(r.notes).c_str());
  }

  void tinyBackboneIsNotExact() {
    Query2Label q2l(backbone("tiny"), Q2LConfig::smallCpu(4));
    auto r = toAuthorsNames(q2l, "tiny", 64);
    QVERIFY(!r.exact);
    QVERIFY(byName(r.tensors).count("fc.W"));
    QVERIFY2(joined(r.notes).find("no counterpart") != std::string::npos, joined(r.notes).c_str());

    MlsplClassifier mlspl(backbone("tiny"), 4);
    r = toAuthorsNames(mlspl, "tiny", 64);
    QVERIFY(!r.exact);
    QVERIFY(byName(r.tensors).count("linear_classifier.bias"));
  }
};

QTEST_GUILESS_MAIN(TestAuthorsNames)
#include "test_authors_names.moc"
