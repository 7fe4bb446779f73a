// Weights: torchvision ResNet-18 exported by tests/testdata/export_torchvision_resnet.py (random init with
// random BatchNorm statistics) loads into the native ResNet by name, from the plain dict and from the
// TorchScript archive, and reproduces PyTorch's features and logits on the script's reference input.
// Unreadable files (OrderedDict, legacy format, garbage, wrong shapes) give clear errors.
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <fstream>

#include "../support/python_torch.h"
#include "../support/tensor_compare.h"
#include "ml/models/backbone.h"
#include "ml/models/multilabel_model.h"
#include "ml/models/resnet.h"
#include "ml/models/state_dict_io.h"

using namespace mls;
using test::contains;
using test::maxAbsDiff;

namespace {

torch::Tensor find(const NamedTensors& tensors, const std::string& key) {
  for (const auto& kv : tensors)
    if (kv.first == key) return kv.second;
  return {};
}

// Runs `what`, expecting std::runtime_error whose message contains every needle.
template <typename F>
void expectError(F&& what, std::initializer_list<const char*> needles) {
  try {
    what();
  } catch (const std::runtime_error& e) {
    qInfo("error message: %s", e.what());
    for (const char* n : needles) QVERIFY2(contains(e.what(), n), e.what());
    return;
  }
  QFAIL("expected std::runtime_error");
}

}  // namespace

class TestWeights : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString skip_reason_;
  std::string plain_, scripted_, reference_;
  NamedTensors ref_;

  bool runPython(const QStringList& args, QString* output) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(test::testPython(), args);
    if (!p.waitForStarted(10000)) {
      *output = "cannot start " + test::testPython();
      return false;
    }
    p.waitForFinished(120000);
    *output = QString::fromLocal8Bit(p.readAll());
    return p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
  }

  std::string path(const char* name) const { return dir_.filePath(name).toStdString(); }

  std::shared_ptr<ResNet> resnet18(bool frozen_bn = false, bool with_fc = true) {
    ResNetOptions o;
    o.depth = 18;
    o.frozen_bn = frozen_bn;
    o.with_fc = with_fc;
    auto r = std::make_shared<ResNet>(o);
    r->eval();
    return r;
  }

  void checkMatchesReference(ResNet& net, const char* what) {
    torch::NoGradGuard no_grad;
    const auto input = find(ref_, "input");
    const auto features = net.forward(input);
    const double feature_err = maxAbsDiff(features, find(ref_, "features"));
    const double logit_err = maxAbsDiff(net.classify(input), find(ref_, "logits"));
    qInfo("%s: max |features - torch| = %.2e, max |logits - torch| = %.2e", what, feature_err, logit_err);
    QVERIFY2(feature_err < 1e-4, what);
    QVERIFY2(logit_err < 1e-4, what);
  }

 private Q_SLOTS:
  void initTestCase() {
    torch::set_num_threads(1);  // small ops: OpenMP threads only contend when ctest runs in parallel
    QVERIFY(dir_.isValid());
    skip_reason_ = test::pythonTorchMissing();
    if (!skip_reason_.isEmpty()) {
      if (test::runningOnCi()) QFAIL(qPrintable(skip_reason_));
      return;  // every test function skips, and ctest reports the test as skipped
    }
    QString out;
    plain_ = path("r18.pt");
    scripted_ = path("r18.ts");
    reference_ = path("r18_ref.pt");
    const QStringList args{MLS_TEST_DATA_DIR "/export_torchvision_resnet.py",
                           "--arch", "resnet18", "--random", "--seed", "3",
                           "--out", QString::fromStdString(plain_),
                           "--torchscript", QString::fromStdString(scripted_),
                           "--reference", QString::fromStdString(reference_)};
    QVERIFY2(runPython(args, &out), qPrintable(out));
    // The two files LibTorch cannot read: what torch.save(model.state_dict()) writes, and the legacy format.
    const QString extra = QString(
        "import torch, collections\n"
        "torch.save(collections.OrderedDict(w=torch.zeros(2)), '%1')\n"
        "torch.save({'w': torch.zeros(2)}, '%2', _use_new_zipfile_serialization=False)\n")
        .arg(QString::fromStdString(path("ordered.pt")), QString::fromStdString(path("legacy.pt")));
    QVERIFY2(runPython({"-c", extra}, &out), qPrintable(out));
    ref_ = readStateDictFile(reference_);
  }

  void init() {
    if (!skip_reason_.isEmpty()) QSKIP(qPrintable(skip_reason_));
  }

  void referenceFileIsAPlainDict() {
    std::string format;
    const auto ref = readStateDictFile(reference_, &format);
    QCOMPARE(format, std::string("plain dict"));
    QCOMPARE(find(ref, "input").sizes().vec(), (std::vector<int64_t>{2, 3, 96, 96}));
    QCOMPARE(find(ref, "features").sizes().vec(), (std::vector<int64_t>{2, 512, 3, 3}));
    QCOMPARE(find(ref, "logits").sizes().vec(), (std::vector<int64_t>{2, 1000}));
  }

  void plainDictMatchesTorchvision() {
    auto net = resnet18();
    const auto report = loadStateDictFile(*net, plain_);
    QCOMPARE(report.format, std::string("plain dict"));
    QCOMPARE(report.loaded.size(), size_t(122));  // every torchvision entry, num_batches_tracked included
    QVERIFY(report.missing.empty());
    QVERIFY(report.unexpected.empty());
    QCOMPARE(net->named_buffers()["bn1.num_batches_tracked"].item<int64_t>(), int64_t(7));
    checkMatchesReference(*net, "plain dict");
  }

  void frozenBatchNormLoadsTheSameFile() {
    auto net = resnet18(/*frozen_bn=*/true);
    const auto report = loadStateDictFile(*net, plain_);
    // FrozenBatchNorm2d has no num_batches_tracked: ignored, not reported as unexpected.
    QCOMPARE(report.loaded.size(), size_t(122 - 20));
    QVERIFY(report.missing.empty());
    QVERIFY(report.unexpected.empty());
    checkMatchesReference(*net, "frozen BN");
  }

  void torchScriptArchiveLoadsByName() {
    auto net = resnet18();
    const auto report = loadStateDictFile(*net, scripted_);
    QCOMPARE(report.format, std::string("TorchScript"));
    QCOMPARE(report.loaded.size(), size_t(122));
    QVERIFY(report.missing.empty());
    QVERIFY(report.unexpected.empty());
    checkMatchesReference(*net, "TorchScript archive");
  }

  void torchScriptBackboneMatches() {
    BackboneOptions o;
    o.name = "torchscript:" + scripted_;
    o.dry_run_size = 96;
    auto backbone = makeBackbone(o);
    QCOMPARE(backbone->outChannels(), int64_t(512));
    QCOMPARE(backbone->stride(), int64_t(32));
    backbone->eval();
    torch::NoGradGuard no_grad;
    QVERIFY(maxAbsDiff(backbone->forward(find(ref_, "input")), find(ref_, "features")) < 1e-4);
    // Same names as the native network, so its tensors are the torchvision ones.
    QVERIFY(torch::equal(backbone->named_parameters()["layer3.1.conv2.weight"],
                         find(readStateDictFile(plain_), "layer3.1.conv2.weight")));
  }

  void missingUnexpectedAndPrefix() {
    // Without fc: fc.weight and fc.bias are unexpected, nothing missing.
    auto net = resnet18(false, /*with_fc=*/false);
    const auto report = loadStateDictFile(*net, plain_);
    QCOMPARE(report.unexpected, (std::vector<std::string>{"fc.weight", "fc.bias"}));
    QVERIFY(report.missing.empty());
    QVERIFY(contains(report.summary(), "2 unexpected: fc.weight, fc.bias"));

    // A partial file reports the module keys it lacks; a prefix targets a submodule.
    NamedTensors partial;
    for (const auto& kv : readStateDictFile(plain_))
      if (kv.first.rfind("layer4", 0) != 0) partial.push_back(kv);
    torch::nn::Module holder;
    holder.register_module("body", resnet18());
    const auto r = loadStateDict(holder, partial, "body");
    QVERIFY(r.unexpected.empty());
    QVERIFY(!r.missing.empty());
    for (const auto& key : r.missing) QVERIFY2(key.rfind("body.layer4.", 0) == 0, key.c_str());
    QVERIFY(torch::equal(holder.named_parameters()["body.conv1.weight"], find(partial, "conv1.weight")));
  }

  void buildModelLoadsBackboneWeights() {
    ModelSpec spec;
    spec.method = Method::MLSPL;
    spec.backbone = "resnet18";
    spec.num_classes = 4;
    spec.image_size = 96;
    spec.weights = plain_;
    auto model = buildModel(spec);
    QVERIFY2(contains(model->weightsSummary(), "loaded 120 tensors (plain dict); 0 missing; 2 unexpected"), model->weightsSummary().c_str());
    model->eval();
    torch::NoGradGuard no_grad;
    QVERIFY(maxAbsDiff(model->pooledFeatures(find(ref_, "input")), find(ref_, "pooled")) < 1e-4);

    // The whole model saved as a plain dict loads back by name (keys start with "backbone.").
    const auto whole = path("whole.pt");
    saveStateDictFile(*model, whole);
    spec.weights = whole;
    auto again = buildModel(spec);
    again->eval();
    QVERIFY(torch::equal(again->forward(find(ref_, "input")).logits, model->forward(find(ref_, "input")).logits));
  }

  void savedDictIsReadableByPyTorch() {
    auto net = resnet18();
    loadStateDictFile(*net, plain_);
    const auto saved = path("saved_from_cpp.pt");
    saveStateDictFile(*net, saved);
    QString out;
    const QString check = QString(
        "import torch\n"
        "a = torch.load('%1'); b = torch.load('%2')\n"
        "assert set(a) == set(b), set(a) ^ set(b)\n"
        "assert all(torch.equal(a[k], b[k]) for k in a)\n"
        "print(len(a))\n").arg(QString::fromStdString(saved), QString::fromStdString(plain_));
    QVERIFY2(runPython({"-c", check}, &out), qPrintable(out));
    QCOMPARE(out.trimmed(), QString("122"));
  }

  void orderedDictGivesClearError() {
    auto net = resnet18();
    expectError([&] { loadStateDictFile(*net, path("ordered.pt")); },
                {"OrderedDict", "export_torchvision_resnet.py", "plain dict"});
  }

  void legacyFormatGivesClearError() {
    expectError([&] { readStateDictFile(path("legacy.pt")); }, {"legacy", "export_torchvision_resnet.py"});
  }

  void unreadableFilesThrow() {
    expectError([&] { readStateDictFile(path("does_not_exist.pt")); }, {"cannot open"});
    const auto garbage = path("garbage.pt");
    std::ofstream(garbage) << "this is not a weights file";
    expectError([&] { readStateDictFile(garbage); }, {"not a PyTorch zip archive"});
    const auto truncated = path("truncated.pt");
    {
      std::ifstream in(plain_, std::ios::binary);
      std::vector<char> head(4096);
      in.read(head.data(), head.size());
      std::ofstream(truncated, std::ios::binary).write(head.data(), head.size());
    }
    expectError([&] { readStateDictFile(truncated); }, {"cannot read weights file"});
  }

  void shapeMismatchThrowsAndLeavesModelUnchanged() {
    ResNetOptions o;
    o.depth = 50;
    ResNet r50(o);
    const auto conv1_before = r50.named_parameters()["conv1.weight"].clone();
    expectError([&] { loadStateDictFile(r50, plain_); }, {"shape mismatch", "layer1.0.conv1.weight"});
    // conv1 has the same shape in both, but nothing is copied when any shape is wrong.
    QVERIFY(torch::equal(r50.named_parameters()["conv1.weight"], conv1_before));

    ModelSpec spec;
    spec.method = Method::Q2L;
    spec.backbone = "tiny";
    spec.num_classes = 3;
    spec.image_size = 64;
    spec.weights = plain_;  // torchvision names mean nothing to the tiny CNN
    expectError([&] { buildModel(spec); }, {"no tensor", "matches"});
  }
};

QTEST_APPLESS_MAIN(TestWeights)
#include "test_weights.moc"
