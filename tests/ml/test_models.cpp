// Models: backbone shapes and torchvision names, frozen parts, the Query2Label pieces (sine encoding,
// per-head attention, decoder without query self-attention, GroupWiseLinear), the MLSPL classifier,
// TorchScript backbones and save/load round trips.
#include <torch/script.h>
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <cmath>
#include <set>

#include "../support/tensor_compare.h"
#include "ml/models/backbone.h"
#include "ml/models/group_wise_linear.h"
#include "ml/models/mlspl_classifier.h"
#include "ml/models/multi_head_attention.h"
#include "ml/models/multilabel_model.h"
#include "ml/models/positional_encoding.h"
#include "ml/models/query2label.h"
#include "ml/models/resnet.h"
#include "ml/models/tiny_cnn.h"

using namespace mls;
using test::maxAbsDiff;

namespace {

std::set<std::string> parameterNames(const torch::nn::Module& m) {
  std::set<std::string> out;
  for (const auto& p : m.named_parameters()) out.insert(p.key());
  return out;
}

std::set<std::string> bufferNames(const torch::nn::Module& m) {
  std::set<std::string> out;
  for (const auto& b : m.named_buffers()) out.insert(b.key());
  return out;
}

int64_t numel(const std::vector<torch::Tensor>& ts) {
  int64_t n = 0;
  for (const auto& t : ts) n += t.numel();
  return n;
}

ModelSpec tinySpec(const std::string& method, int classes = 5, int size = 64) {
  ModelSpec s;
  s.method = parseMethod(method);
  s.backbone = "tiny";
  s.num_classes = classes;
  s.image_size = size;
  return s;
}

// A scripted backbone built in C++: stem.weight/stem.bias, 4x4 stride-4 conv to 8 channels, then ReLU.
torch::jit::Module makeScriptedBackbone() {
  torch::jit::Module stem("StemConv");
  // Trainable like Python's nn.Parameter (requires_grad is stored in the archive).
  stem.register_parameter("weight", (torch::randn({8, 3, 4, 4}) * 0.2).requires_grad_(), /*is_buffer=*/false);
  stem.register_parameter("bias", (torch::randn({8}) * 0.1).requires_grad_(), /*is_buffer=*/false);
  torch::jit::Module root("ScriptedBackbone");
  root.register_module("stem", stem);
  root.define(R"JIT(
def forward(self, x):
    return torch.relu(torch.conv2d(x, self.stem.weight, self.stem.bias, [4, 4]))
)JIT");
  return root;
}

}  // namespace

class TestModels : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    torch::manual_seed(0);
    torch::set_num_threads(1);  // small ops: OpenMP threads only contend when ctest runs in parallel
  }

  void backboneOutputShapes() {
    torch::NoGradGuard no_grad;
    struct Case { const char* name; int64_t size, channels, cells; };
    const Case cases[] = {{"tiny", 64, 128, 4},       {"tiny", 128, 128, 8},      {"resnet18", 64, 512, 2},
                          {"resnet34", 64, 512, 2},   {"resnet50", 96, 2048, 3},  {"resnet101", 64, 2048, 2}};
    for (const auto& c : cases) {
      BackboneOptions o;
      o.name = c.name;
      auto backbone = makeBackbone(o);
      backbone->eval();
      const auto out = backbone->forward(torch::randn({2, 3, c.size, c.size}));
      QCOMPARE(out.sizes().vec(), (std::vector<int64_t>{2, c.channels, c.cells, c.cells}));
      QCOMPARE(backbone->outChannels(), c.channels);
      QCOMPARE(backbone->stride(), c.size / c.cells);
      QVERIFY(std::isfinite(out.sum().item<double>()));
    }
  }

  void resnetUsesTorchvisionNames() {
    ResNetOptions o;
    o.depth = 18;
    ResNet r18(o);
    // torchvision resnet18 without fc: 60 parameters and 120 state_dict entries, 11,176,512 weights.
    QCOMPARE(r18.named_parameters().size(), size_t(60));
    QCOMPARE(r18.named_parameters().size() + r18.named_buffers().size(), size_t(120));
    QCOMPARE(numel(r18.parameters()), int64_t(11176512));
    const auto p18 = parameterNames(r18);
    for (const char* name : {"conv1.weight", "bn1.weight", "layer1.0.conv1.weight", "layer1.1.bn2.bias",
                             "layer2.0.downsample.0.weight", "layer4.1.conv2.weight"})
      QVERIFY2(p18.count(name), name);
    QVERIFY(!p18.count("layer1.0.downsample.0.weight"));  // 64 -> 64, stride 1: no projection
    const auto b18 = bufferNames(r18);
    QVERIFY(b18.count("layer2.0.downsample.1.running_var"));
    QVERIFY(b18.count("bn1.num_batches_tracked"));

    o.depth = 50;
    o.with_fc = true;
    ResNet r50(o);
    QCOMPARE(r50.named_parameters().size(), size_t(161));
    QCOMPARE(r50.named_parameters().size() + r50.named_buffers().size(), size_t(320));
    QCOMPARE(numel(r50.parameters()), int64_t(25557032));
    const auto p50 = parameterNames(r50);
    for (const char* name : {"layer1.0.conv3.weight", "layer1.0.downsample.0.weight", "layer3.5.bn3.weight",
                             "fc.weight", "fc.bias"})
      QVERIFY2(p50.count(name), name);
    // Bottleneck v1.5: the stride sits on the 3x3 conv.
    QCOMPARE(r50.named_parameters()["layer2.0.conv2.weight"].sizes().vec(), (std::vector<int64_t>{128, 128, 3, 3}));

    o.depth = 101;
    o.with_fc = false;
    QCOMPARE(numel(ResNet(o).parameters()), int64_t(42500160));
  }

  void frozenBatchNormAndStem() {
    BackboneOptions o;
    o.name = "resnet50";
    o.frozen_bn = true;
    o.freeze_stem = true;
    auto backbone = makeBackbone(o);
    const auto params = parameterNames(*backbone);
    for (const auto& name : params) QVERIFY2(name.find("bn") == std::string::npos &&
                                                 name.find("downsample.1") == std::string::npos, name.c_str());
    const auto buffers = bufferNames(*backbone);
    for (const char* name : {"bn1.weight", "bn1.bias", "bn1.running_mean", "layer1.0.downsample.1.running_var"})
      QVERIFY2(buffers.count(name), name);
    QVERIFY(!buffers.count("bn1.num_batches_tracked"));

    auto named = backbone->named_parameters();
    QVERIFY(!named["conv1.weight"].requires_grad());
    QVERIFY(!named["layer1.2.conv3.weight"].requires_grad());
    QVERIFY(named["layer2.0.conv1.weight"].requires_grad());
    QVERIFY(named["layer4.2.conv3.weight"].requires_grad());
    int64_t trainable_expected = 0;
    for (const auto& p : named)
      if (p.key().rfind("layer2", 0) == 0 || p.key().rfind("layer3", 0) == 0 || p.key().rfind("layer4", 0) == 0)
        trainable_expected += p.value().numel();
    QCOMPARE(numel(backbone->trainableParameters()), trainable_expected);

    // Frozen BN is a fixed affine map: identical in train and eval mode, and nothing learns in conv1 + layer1.
    auto x = torch::randn({2, 3, 64, 64});
    backbone->train();
    const auto train_out = backbone->forward(x);
    train_out.sum().backward();
    QVERIFY(!named["conv1.weight"].grad().defined());
    QVERIFY(named["layer2.0.conv1.weight"].grad().defined());
    backbone->eval();
    torch::NoGradGuard no_grad;
    QVERIFY(maxAbsDiff(train_out, backbone->forward(x)) < 1e-5 * (1 + train_out.abs().max().item<double>()));

    // Through buildModel the frozen parameters stay out of the optimizer groups.
    ModelSpec spec = tinySpec("mlspl");
    spec.backbone = "resnet18";
    spec.freeze_stem = true;
    auto model = buildModel(spec);
    std::set<const void*> given;
    for (const auto& p : model->backboneParameters()) given.insert(p.unsafeGetTensorImpl());
    for (const auto& p : model->headParameters()) given.insert(p.unsafeGetTensorImpl());
    for (const auto& p : model->named_parameters()) {
      const bool frozen = p.key().rfind("backbone.conv1", 0) == 0 || p.key().rfind("backbone.bn1", 0) == 0 ||
                          p.key().rfind("backbone.layer1", 0) == 0;
      QCOMPARE(p.value().requires_grad(), !frozen);
      QCOMPARE(given.count(p.value().unsafeGetTensorImpl()) == 1, !frozen);
    }
  }

  void tinyBackboneTrains() {
    TinyCnn tiny;
    tiny.train();
    const auto out = tiny.forward(torch::randn({4, 3, 64, 64}));
    out.mean().backward();
    for (const auto& p : tiny.parameters()) QVERIFY(p.grad().defined());
    QVERIFY(numel(tiny.parameters()) < 1000000);  // small enough for 2 CPU cores
  }

  void sinePositionEncodingMatchesFormula() {
    const int64_t h = 3, w = 5, d = 16, n = d / 2;
    const auto pe = sinePositionEncoding2d(h, w, d);
    QCOMPARE(pe.sizes().vec(), (std::vector<int64_t>{1, d, h, w}));
    const auto acc = pe.accessor<float, 4>();
    const double two_pi = 2 * M_PI;
    auto expected = [&](int64_t c, int64_t y, int64_t x) {
      const bool is_y = c < n;
      const int64_t i = is_y ? c : c - n;
      const double p = is_y ? (y + 1) / (h + 1e-6) * two_pi : (x + 1) / (w + 1e-6) * two_pi;
      const double freq = std::pow(10000.0, 2.0 * (i / 2) / double(n));
      return i % 2 == 0 ? std::sin(p / freq) : std::cos(p / freq);
    };
    double worst = 0;
    for (int64_t c = 0; c < d; ++c)
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) worst = std::max(worst, std::abs(acc[0][c][y][x] - expected(c, y, x)));
    QVERIFY2(worst < 1e-5, qPrintable(QString::number(worst)));
    // Two hand-checked values: last row, channel 0 = sin(2*pi*3/3) ~ 0; first column x-channel 1 = cos(2*pi/5).
    QVERIFY(std::abs(acc[0][0][2][0]) < 1e-5);
    QVERIFY(std::abs(acc[0][n + 1][0][0] - std::cos(two_pi / 5)) < 1e-5);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, sinePositionEncoding2d(2, 2, 6));
  }

  void multiHeadAttentionMatchesTorch() {
    const int64_t d = 16, heads = 4, b = 2, lq = 3, lk = 5;
    MultiheadAttention mine(d, heads, 0.0);
    torch::nn::MultiheadAttention ref(torch::nn::MultiheadAttentionOptions(d, heads));
    {
      torch::NoGradGuard no_grad;
      auto p = mine->named_parameters();
      ref->in_proj_weight.copy_(p["in_proj_weight"]);
      ref->in_proj_bias.copy_(p["in_proj_bias"] + 0.1);
      p["in_proj_bias"].add_(0.1);
      ref->out_proj->weight.copy_(p["out_proj.weight"]);
      ref->out_proj->bias.copy_(p["out_proj.bias"]);
    }
    mine->eval();
    ref->eval();
    const auto q = torch::randn({b, lq, d}), k = torch::randn({b, lk, d}), v = torch::randn({b, lk, d});
    torch::NoGradGuard no_grad;
    const auto [out, weights] = mine->forward(q, k, v, true);
    // torch's module is sequence-first and averages the heads.
    const auto [ref_out, ref_weights] = ref->forward(q.transpose(0, 1), k.transpose(0, 1), v.transpose(0, 1));
    QCOMPARE(weights.sizes().vec(), (std::vector<int64_t>{b, heads, lq, lk}));
    QVERIFY(maxAbsDiff(out, ref_out.transpose(0, 1)) < 1e-5);
    QVERIFY(maxAbsDiff(weights.mean(1), ref_weights) < 1e-6);
    QVERIFY(maxAbsDiff(weights.sum(-1), torch::ones({b, heads, lq})) < 1e-5);
    QVERIFY(!mine->forward(q, k, v, false).second.defined());
  }

  void groupWiseLinearIsPerClassDotProduct() {
    const int64_t b = 3, k = 4, d = 8;
    GroupWiseLinear head(k, d);
    const auto W = head->weight(), bias = head->bias();
    QCOMPARE(W.sizes().vec(), (std::vector<int64_t>{1, k, d}));
    const double bound = 1.0 / std::sqrt(double(d));
    QVERIFY(W.abs().max().item<double>() <= bound && bias.abs().max().item<double>() <= bound);
    const auto x = torch::randn({b, k, d});
    torch::NoGradGuard no_grad;
    const auto logits = head->forward(x);
    QCOMPARE(logits.sizes().vec(), (std::vector<int64_t>{b, k}));
    for (int64_t n = 0; n < b; ++n)
      for (int64_t c = 0; c < k; ++c) {
        double dot = bias[0][c].item<double>();
        for (int64_t j = 0; j < d; ++j) dot += W[0][c][j].item<double>() * x[n][c][j].item<double>();
        QVERIFY(std::abs(logits[n][c].item<double>() - dot) < 1e-5);
      }
  }

  void query2LabelShapesAndAttention() {
    auto model = buildModel(tinySpec("q2l", 5, 64));
    QVERIFY(model->hasAttention());
    QCOMPARE(model->numClasses(), int64_t(5));
    // tiny gives 128 channels == smallCpu hidden size: the input projection is the identity.
    QVERIFY(!parameterNames(*model).count("input_proj.weight"));
    model->eval();
    torch::NoGradGuard no_grad;
    const auto out = model->forward(torch::randn({2, 3, 64, 64}), true);
    QCOMPARE(out.logits.sizes().vec(), (std::vector<int64_t>{2, 5}));
    QCOMPARE(out.attention.sizes().vec(), (std::vector<int64_t>{2, 4, 5, 4, 4}));
    QVERIFY(maxAbsDiff(out.attention.sum({3, 4}), torch::ones({2, 4, 5})) < 1e-5);
    QVERIFY(out.attention.min().item<double>() >= 0);
    QVERIFY(!model->forward(torch::randn({2, 3, 64, 64})).attention.defined());
    QVERIFY_THROWS_EXCEPTION(std::logic_error, model->headFromPooled(torch::zeros({2, 128})));
    QCOMPARE(model->pooledFeatures(torch::randn({2, 3, 64, 64})).sizes().vec(), (std::vector<int64_t>{2, 128}));

    // ResNet-18 (512 channels) gets a 1x1 projection to d = 128; 96 px -> 3x3 attention maps.
    ModelSpec spec = tinySpec("hybrid", 3, 96);
    spec.backbone = "resnet18";
    auto r18 = buildModel(spec);
    QCOMPARE(r18->named_parameters()["input_proj.weight"].sizes().vec(), (std::vector<int64_t>{128, 512, 1, 1}));
    r18->eval();
    const auto out18 = r18->forward(torch::randn({1, 3, 96, 96}), true);
    QCOMPARE(out18.logits.sizes().vec(), (std::vector<int64_t>{1, 3}));
    QCOMPARE(out18.attention.sizes().vec(), (std::vector<int64_t>{1, 4, 3, 3, 3}));

    // Official names for the head and transformer.
    const auto names = parameterNames(*model);
    for (const char* name : {"query_embed.weight", "fc.W", "fc.b", "transformer.encoder.layers.0.self_attn.in_proj_weight",
                             "transformer.decoder.layers.1.multihead_attn.out_proj.weight",
                             "transformer.decoder.layers.0.norm3.weight", "transformer.decoder.norm.weight"})
      QVERIFY2(names.count(name), name);
  }

  void presets() {
    // The paper preset is the transformer options' defaults: the official main_mlc.py COCO settings.
    const auto paper = Q2LConfig::paperR101_448(80);
    QCOMPARE(paper.num_classes, int64_t(80));
    QCOMPARE(paper.transformer.d_model, int64_t(2048));
    QCOMPARE(paper.transformer.num_heads, int64_t(4));
    QCOMPARE(paper.transformer.num_encoder_layers, int64_t(1));
    QCOMPARE(paper.transformer.num_decoder_layers, int64_t(2));
    QCOMPARE(paper.transformer.dim_feedforward, int64_t(8192));
    QCOMPARE(paper.transformer.dropout, 0.1);
    QVERIFY(!paper.transformer.query_self_attention);
    QCOMPARE(paper.position.temperature, 10000.0);
    QVERIFY(paper.position.normalize);
    QVERIFY(std::abs(paper.position.scale - 2 * M_PI) < 1e-12);
    // The CPU preset narrows the tokens and the feed-forward only.
    const auto small = Q2LConfig::smallCpu(20);
    QCOMPARE(small.num_classes, int64_t(20));
    QCOMPARE(small.transformer.d_model, int64_t(128));
    QCOMPARE(small.transformer.dim_feedforward, int64_t(256));
    QCOMPARE(small.transformer.num_heads, int64_t(4));
    QCOMPARE(small.transformer.num_encoder_layers, int64_t(1));
    QCOMPARE(small.transformer.num_decoder_layers, int64_t(2));
    QCOMPARE(small.transformer.dropout, 0.1);
    QVERIFY(!small.transformer.query_self_attention);

    // The model is built from exactly these options: sizes and layer counts show in its parameters.
    Q2LConfig config = Q2LConfig::smallCpu(5);
    config.transformer.num_encoder_layers = 2;
    config.transformer.num_decoder_layers = 3;
    config.transformer.num_heads = 8;
    Query2Label model(std::make_shared<TinyCnn>(), config);
    const auto params = model.named_parameters();
    QCOMPARE(params["query_embed.weight"].sizes().vec(), (std::vector<int64_t>{5, 128}));
    QCOMPARE(params["transformer.encoder.layers.1.linear1.weight"].sizes().vec(), (std::vector<int64_t>{256, 128}));
    QCOMPARE(params["transformer.decoder.layers.2.linear2.weight"].sizes().vec(), (std::vector<int64_t>{128, 256}));
    const auto names = parameterNames(model);
    QVERIFY(!names.count("transformer.encoder.layers.2.linear1.weight"));
    QVERIFY(!names.count("transformer.decoder.layers.3.linear1.weight"));
    model.eval();
    torch::NoGradGuard no_grad;
    const auto out = model.forward(torch::randn({1, 3, 64, 64}), /*want_attention=*/true);
    QCOMPARE(out.attention.size(1), int64_t(8));  // one attention map per head
  }

  void querySelfAttentionOffByDefault() {
    // Without self-attention among the queries each label's logit depends only on its own query:
    // changing query j must leave every other logit bit-identical. With it, the others move.
    for (const bool self_attention : {false, true}) {
      Q2LConfig config = Q2LConfig::smallCpu(4);
      config.transformer.query_self_attention = self_attention;
      Query2Label model(std::make_shared<TinyCnn>(), config);
      const auto names = parameterNames(model);
      QCOMPARE(names.count("transformer.decoder.layers.0.self_attn.in_proj_weight") == 1, self_attention);
      QCOMPARE(names.count("transformer.decoder.layers.1.norm1.weight") == 1, self_attention);
      model.eval();
      torch::NoGradGuard no_grad;
      const auto x = torch::randn({2, 3, 64, 64});
      const auto before = model.forward(x).logits.clone();
      model.queryEmbed()->weight[2].add_(1.0);
      const auto after = model.forward(x).logits;
      const auto others = torch::tensor({0, 1, 3});
      const double others_moved = maxAbsDiff(before.index_select(1, others), after.index_select(1, others));
      QVERIFY(maxAbsDiff(before.select(1, 2), after.select(1, 2)) > 1e-4);
      if (self_attention)
        QVERIFY(others_moved > 1e-5);
      else
        QCOMPARE(others_moved, 0.0);
    }
  }

  void mlsplHeadOnPooledFeatures() {
    auto model = buildModel(tinySpec("mlspl", 6, 64));
    QVERIFY(!model->hasAttention());
    QCOMPARE(model->pooledDim(), int64_t(128));
    model->eval();
    torch::NoGradGuard no_grad;
    const auto x = torch::randn({3, 3, 64, 64});
    const auto out = model->forward(x, true);
    QVERIFY(!out.attention.defined());
    QCOMPARE(out.logits.sizes().vec(), (std::vector<int64_t>{3, 6}));
    const auto pooled = model->pooledFeatures(x);
    QCOMPARE(pooled.sizes().vec(), (std::vector<int64_t>{3, 128}));
    QVERIFY(maxAbsDiff(pooled, model->backbone().forward(x).mean({2, 3})) < 1e-6);
    QVERIFY(maxAbsDiff(model->headFromPooled(pooled), out.logits) < 1e-6);
    // The head group is exactly the linear layer.
    const auto head = model->headParameters();
    QCOMPARE(head.size(), size_t(2));
    QCOMPARE(numel(head), int64_t(128 * 6 + 6));
  }

  void parameterGroupsPartitionTrainables() {
    auto model = buildModel(tinySpec("q2l", 5, 64));
    const auto backbone = model->backboneParameters(), head = model->headParameters();
    std::set<const void*> seen;
    for (const auto& p : backbone) seen.insert(p.unsafeGetTensorImpl());
    for (const auto& p : head) QVERIFY(seen.insert(p.unsafeGetTensorImpl()).second);  // no overlap
    QCOMPARE(seen.size(), model->parameters().size());
    QCOMPARE(numel(backbone), numel(model->backbone().parameters()));
  }

  void saveLoadRoundTrip() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    for (const char* method : {"q2l", "mlspl"}) {
      const auto path = dir.filePath(QString(method) + ".pt").toStdString();
      auto a = buildModel(tinySpec(method, 5, 64));
      // A training-mode pass changes the BatchNorm running statistics: they must travel too.
      a->train();
      a->forward(torch::randn({4, 3, 64, 64}) * 2 + 1);
      torch::save(a, path);

      auto b = buildModel(tinySpec(method, 5, 64));
      torch::load(b, path);
      a->eval();
      b->eval();
      torch::NoGradGuard no_grad;
      const auto x = torch::randn({2, 3, 64, 64});
      const auto out_a = a->forward(x, true), out_b = b->forward(x, true);
      QVERIFY(torch::equal(out_a.logits, out_b.logits));
      if (out_a.attention.defined()) QVERIFY(torch::equal(out_a.attention, out_b.attention));
      auto buffers_b = b->named_buffers();
      for (const auto& buf : a->named_buffers()) QVERIFY(torch::equal(buf.value(), buffers_b[buf.key()]));
    }
  }

  void torchScriptBackbone() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto path = dir.filePath("scripted.pt").toStdString();
    auto scripted = makeScriptedBackbone();
    scripted.save(path);

    BackboneOptions o;
    o.name = "torchscript:" + path;
    o.dry_run_size = 64;
    auto backbone = makeBackbone(o);
    QCOMPARE(backbone->outChannels(), int64_t(8));
    QCOMPARE(backbone->stride(), int64_t(4));
    QCOMPARE(parameterNames(*backbone), (std::set<std::string>{"stem.weight", "stem.bias"}));

    auto named = backbone->named_parameters();
    const auto x = torch::randn({2, 3, 32, 32});
    {
      torch::NoGradGuard no_grad;
      const auto expected = torch::relu(torch::conv2d(x, named["stem.weight"], named["stem.bias"], 4));
      QVERIFY(maxAbsDiff(backbone->forward(x), expected) < 1e-6);
    }
    // The mirrored tensors are the scripted module's own: gradients flow, and .to() reaches it.
    backbone->forward(x).sum().backward();
    QVERIFY(named["stem.weight"].grad().defined());
    backbone->to(torch::kDouble);
    {
      torch::NoGradGuard no_grad;
      QCOMPARE(backbone->forward(x.to(torch::kDouble)).scalar_type(), torch::kDouble);
    }

    // Inside a model: builds, runs, and round-trips through torch::save/torch::load.
    ModelSpec spec = tinySpec("q2l", 3, 64);
    spec.backbone = o.name;
    auto a = buildModel(spec);
    QCOMPARE(a->named_parameters()["input_proj.weight"].sizes().vec(), (std::vector<int64_t>{128, 8, 1, 1}));
    {
      torch::NoGradGuard no_grad;
      a->named_parameters()["backbone.stem.bias"].add_(0.5);
    }
    const auto saved = dir.filePath("model.pt").toStdString();
    torch::save(a, saved);
    auto b = buildModel(spec);
    torch::load(b, saved);
    a->eval();
    b->eval();
    torch::NoGradGuard no_grad;
    const auto out_a = a->forward(x, true), out_b = b->forward(x, true);
    QCOMPARE(out_a.attention.sizes().vec(), (std::vector<int64_t>{2, 4, 3, 8, 8}));
    QVERIFY(torch::equal(out_a.logits, out_b.logits));
    QVERIFY(torch::equal(b->named_parameters()["backbone.stem.bias"], a->named_parameters()["backbone.stem.bias"]));
  }

  void badSpecsThrow() {
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, buildModel(tinySpec("svm")));
    ModelSpec spec = tinySpec("q2l");
    spec.backbone = "vgg16";
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, buildModel(spec));
    spec.backbone = "torchscript:/nonexistent/backbone.pt";
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, buildModel(spec));
    spec = tinySpec("q2l", 0);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, buildModel(spec));
    Q2LConfig config = Q2LConfig::smallCpu(3);
    config.transformer.d_model = 130;  // not a multiple of 4: no sine encoding, not divisible by 4 heads
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, Query2Label(std::make_shared<TinyCnn>(), config));
  }
};

QTEST_APPLESS_MAIN(TestModels)
#include "test_models.moc"
