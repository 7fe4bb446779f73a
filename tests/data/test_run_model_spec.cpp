// modelSpecFor: the model each method trains (BatchNorm frozen for Query2Label and the hybrid, trainable for
// MLSPL as its authors' code fine-tunes a torchvision ResNet-50), the choice stored with the run, and configs
// stored before that choice existed still rebuilding the model their checkpoints were saved from.
#include <QtTest/QtTest>
#include <torch/torch.h>

#include "data/training/run_model_spec.h"

using namespace mls;

namespace {

TrainRequest request(const std::string& method, const std::string& backbone, const std::string& weights) {
  TrainRequest r;
  r.method = parseMethod(method);
  r.loss = method == "q2l" ? "asl" : "role";
  r.labels = method == "q2l" ? "full" : "single";
  r.backbone = backbone;
  r.weights = weights;
  r.resolveDefaults();
  return r;
}

// What the run's stored config gives back to eval / predict / resume.
ModelSpec storedSpec(const TrainRequest& r) { return modelSpecFor(TrainRequest::fromJson(r.toJson()), 10); }

bool hasBuffer(torch::nn::Module& m, const std::string& name) {
  for (const auto& b : m.named_buffers())
    if (b.key() == name) return true;
  return false;
}

}  // namespace

class TestRunModelSpec : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void eachMethodWithAndWithoutWeights() {
    struct Case {
      const char* method;
      const char* backbone;
      const char* weights;
      bool frozen_bn, freeze_stem;
    };
    const Case cases[] = {
        // The official Q2L R101 setup needs the pretrained statistics; from scratch BatchNorm must learn.
        {"q2l", "resnet101", "r101.pt", true, true},
        {"q2l", "resnet50", "", false, false},
        // MLSPL (Cole et al. code): torchvision ResNet-50 in train mode, ordinary BatchNorm, nothing frozen.
        {"mlspl", "resnet50", "r50.pt", false, false},
        {"mlspl", "resnet50", "", false, false},
        // The hybrid trains the Q2L model with the Q2L recipe, backbone included.
        {"hybrid", "resnet50", "r50.pt", true, true},
        {"hybrid", "resnet101", "", false, false},
        // Small backbones never freeze.
        {"q2l", "resnet18", "r18.pt", false, false},
        {"mlspl", "tiny", "", false, false},
    };
    for (const auto& c : cases) {
      const auto r = request(c.method, c.backbone, c.weights);
      const QByteArray what = QByteArray(c.method) + " " + c.backbone + " weights '" + c.weights + "'";
      QVERIFY2(r.frozen_bn.has_value(), what.constData());
      const auto spec = modelSpecFor(r, 10);
      QVERIFY2(spec.frozen_bn == c.frozen_bn, what.constData());
      QVERIFY2(spec.freeze_stem == c.freeze_stem, what.constData());
      QCOMPARE(std::string(methodName(spec.method)), std::string(c.method));
      QCOMPARE(spec.num_classes, 10);
      QCOMPARE(spec.weights, std::string(c.weights));
      // The run's stored config rebuilds the same model.
      const auto stored = storedSpec(r);
      QVERIFY2(stored.frozen_bn == spec.frozen_bn && stored.freeze_stem == spec.freeze_stem, what.constData());
    }
  }

  void oldConfigsBuildTheOldModel() {
    // Stored before frozen_bn was recorded: every method froze BatchNorm on a pretrained ResNet-50/101.
    const auto old_mlspl = TrainRequest::fromJson(
        R"({"method":"mlspl","loss":"role","labels":"single","backbone":"resnet50","weights":"r50.pt","image_size":448})");
    QCOMPARE(old_mlspl.frozen_bn, std::optional<bool>(true));
    auto spec = modelSpecFor(old_mlspl, 10);
    QVERIFY(spec.frozen_bn);
    QVERIFY(!spec.freeze_stem);
    const auto old_q2l = TrainRequest::fromJson(R"({"method":"q2l","backbone":"resnet101","weights":"r101.pt"})");
    QVERIFY(modelSpecFor(old_q2l, 10).frozen_bn && modelSpecFor(old_q2l, 10).freeze_stem);
    const auto old_scratch = TrainRequest::fromJson(R"({"method":"mlspl","backbone":"resnet50","weights":""})");
    QVERIFY(!modelSpecFor(old_scratch, 10).frozen_bn);
    // Resolving defaults again (as --resume does) keeps the stored choice.
    auto resumed = old_mlspl;
    resumed.resolveDefaults();
    QCOMPARE(resumed.frozen_bn, std::optional<bool>(true));

    // The model has FrozenBatchNorm2d (no num_batches_tracked, fixed weight), as its checkpoints do.
    spec.weights.clear();  // the file is not there; the architecture is what matters
    spec.image_size = 64;
    auto frozen = buildModel(spec);
    QVERIFY(!hasBuffer(*frozen, "backbone.bn1.num_batches_tracked"));
    QVERIFY(hasBuffer(*frozen, "backbone.bn1.weight"));
  }

  void mlsplBatchNormLearnsItsStatisticsInTrainMode() {
    auto spec = modelSpecFor(request("mlspl", "resnet50", "r50.pt"), 10);
    spec.weights.clear();
    spec.image_size = 64;
    auto model = buildModel(spec);
    QVERIFY(hasBuffer(*model, "backbone.bn1.num_batches_tracked"));
    torch::Tensor running_mean, weight;
    for (const auto& b : model->named_buffers())
      if (b.key() == "backbone.bn1.running_mean") running_mean = b.value();
    for (const auto& p : model->named_parameters())
      if (p.key() == "backbone.bn1.weight") weight = p.value();
    QVERIFY(running_mean.defined() && weight.defined());
    QVERIFY(weight.requires_grad());
    const auto before = running_mean.clone();
    torch::manual_seed(3);
    const auto x = torch::randn({2, 3, 64, 64}) + 1.0;
    model->eval();
    {
      torch::NoGradGuard no_grad;
      model->forward(x);
    }
    QVERIFY(torch::equal(before, running_mean));  // eval mode uses the statistics
    model->train();
    model->forward(x).logits.sum().backward();
    QVERIFY(!torch::equal(before, running_mean));  // train mode updates them
    QVERIFY(weight.grad().defined());
  }
};

QTEST_APPLESS_MAIN(TestRunModelSpec)
#include "test_run_model_spec.moc"
