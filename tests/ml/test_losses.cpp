// Losses and the ROLE label estimator against independent values from
// tests/testdata/make_loss_reference.py (float64 torch code written from the published formulas).
#include <torch/torch.h>

#include <QtTest/QtTest>

#include <cmath>
#include <sstream>

#include "../support/reference_json.h"
#include "ml/label_estimator.h"
#include "ml/losses.h"

using namespace mls;

namespace {

torch::Tensor matrixFromJson(const QJsonValue& value) {
  const auto rows = value.toArray();
  std::vector<double> data;
  int64_t cols = 0;
  for (const auto& row : rows) {
    const auto r = row.toArray();
    cols = r.size();
    for (const auto& v : r) data.push_back(v.toDouble());
  }
  return torch::tensor(data, torch::kDouble).reshape({static_cast<int64_t>(rows.size()), cols});
}

LossConfig configFromJson(const QString& loss, const QJsonObject& c) {
  LossConfig cfg;
  cfg.kind = parseLossKind(loss.toStdString());
  cfg.expected_positives = c["expected_positives"].toDouble();
  cfg.ls_epsilon = c["ls_epsilon"].toDouble();
  cfg.focal_gamma = c["focal_gamma"].toDouble();
  cfg.focal_alpha = c["focal_alpha"].toDouble();
  cfg.asl_gamma_pos = c["asl_gamma_pos"].toDouble();
  cfg.asl_gamma_neg = c["asl_gamma_neg"].toDouble();
  cfg.asl_clip = c["asl_clip"].toDouble();
  cfg.asl_detach_focus = c["asl_detach_focus"].toBool();
  cfg.asl_eps = c["asl_eps"].toDouble();
  cfg.asl_q2l_normalization = c["asl_q2l_normalization"].toBool();
  return cfg;
}

// Largest |a-b| / max(|b|, floor) over the elements. The floor, 1% of the tensor's largest entry,
// keeps entries that are near-cancellations (e.g. ROLE's f ≈ g, 3e-4 of the largest) from turning
// float32 rounding of the large terms into a large relative error.
double maxRelativeError(const torch::Tensor& actual, const torch::Tensor& expected) {
  auto a = actual.to(torch::kDouble), b = expected.to(torch::kDouble);
  const double floor = std::max(1e-2 * b.abs().max().item<double>(), 1e-12);
  return ((a - b).abs() / b.abs().clamp_min(floor)).max().item<double>();
}

bool allFinite(const torch::Tensor& t) { return torch::isfinite(t).all().item<bool>(); }

}  // namespace

class TestLosses : public QObject {
  Q_OBJECT

 private:
  QJsonObject ref_ = test::loadTestJson("loss_reference.json");

  // Runs one reference case in the given dtype; returns {value error, logit-grad error, estimator-grad error}.
  std::array<double, 3> runCase(int index, torch::ScalarType dtype) {
    const auto c = ref_["cases"].toArray()[index].toObject();
    const auto cfg = configFromJson(c["loss"].toString(), c["config"].toObject());
    auto logits = matrixFromJson(ref_["logits"]).to(dtype).requires_grad_(true);
    auto est = matrixFromJson(ref_["estimator_logits"]).to(dtype).requires_grad_(true);
    auto targets = matrixFromJson(ref_["targets"].toObject()[c["targets"].toString()]).to(torch::kFloat);
    auto loss = multiLabelLoss(cfg, logits, targets, est);
    loss.backward();
    const double expected = c["value"].toDouble();
    std::array<double, 3> err{};
    err[0] = std::abs(loss.item<double>() - expected) / std::abs(expected);
    err[1] = maxRelativeError(logits.grad(), matrixFromJson(c["grad_logits"]));
    if (c.contains("grad_estimator")) {
      err[2] = maxRelativeError(est.grad(), matrixFromJson(c["grad_estimator"]));
    } else if (est.grad().defined()) {
      err[2] = est.grad().abs().max().item<double>();  // other losses must ignore the estimator
    }
    return err;
  }

 private Q_SLOTS:
  void referenceCases_data() {
    QTest::addColumn<int>("index");
    const auto cases = ref_["cases"].toArray();
    QVERIFY(cases.size() >= 17);
    for (int i = 0; i < cases.size(); ++i)
      QTest::newRow(qPrintable(cases[i].toObject()["name"].toString())) << i;
  }

  // float32, as in training: value and gradients within 1e-5 relative.
  void referenceCases() {
    QFETCH(int, index);
    const auto err = runCase(index, torch::kFloat);
    QVERIFY2(err[0] < 1e-5, qPrintable(QString("value rel. error %1").arg(err[0])));
    QVERIFY2(err[1] < 1e-5, qPrintable(QString("logit grad rel. error %1").arg(err[1])));
    QVERIFY2(err[2] < 1e-5, qPrintable(QString("estimator grad rel. error %1").arg(err[2])));
  }

  void referenceCasesInDouble_data() { referenceCases_data(); }

  // float64 leaves only rounding: a much tighter check of the formulas.
  void referenceCasesInDouble() {
    QFETCH(int, index);
    const auto err = runCase(index, torch::kDouble);
    QVERIFY2(err[0] < 1e-10, qPrintable(QString("value rel. error %1").arg(err[0])));
    QVERIFY2(err[1] < 1e-9, qPrintable(QString("logit grad rel. error %1").arg(err[1])));
    QVERIFY2(err[2] < 1e-9, qPrintable(QString("estimator grad rel. error %1").arg(err[2])));
  }

  // Values that can be written down by hand at logits 0 (p = 0.5).
  void handCheckedValuesAtZeroLogits() {
    auto logits = torch::zeros({2, 5});
    auto targets = torch::zeros({2, 5});
    targets.index_put_({0, 1}, 1.0);
    targets.index_put_({1, 3}, 1.0);
    LossConfig cfg;
    const double nl_half = -std::log(0.5 + 1e-5);
    cfg.kind = LossKind::AN;
    QVERIFY(std::abs(multiLabelLoss(cfg, logits, targets).item<double>() - nl_half) < 1e-6);
    cfg.kind = LossKind::WAN;  // (2 positives + 8 unobserved / 4) / 10 entries
    QVERIFY(std::abs(multiLabelLoss(cfg, logits, targets).item<double>() - nl_half * (2 + 8 / 4.0) / 10) < 1e-6);
    cfg.kind = LossKind::EPR;  // 2 positive terms / 10 + (2.5 - 2.9)^2 / 25
    const double epr = 2 * nl_half / 10 + 0.16 / 25;
    QVERIFY(std::abs(multiLabelLoss(cfg, logits, targets).item<double>() - epr) < 1e-6);
    cfg.kind = LossKind::ASL;  // γ+ = 0: positives -log 0.5; negatives (p_m = 0.45)^4 · -log 0.55
    const double asl = 2 * std::log(2.0) + 8 * std::pow(0.45, 4) * -std::log(0.55);
    QVERIFY(std::abs(multiLabelLoss(cfg, logits, targets).item<double>() - asl) < 1e-5);
    cfg = LossConfig::q2lCoco();  // Q2L: -Σ/(B·K)·1000 with γ- = 2, no clip
    const double q2l = (2 * std::log(2.0) + 8 * 0.25 * std::log(2.0)) / 10 * 1000;
    QVERIFY(std::abs(multiLabelLoss(cfg, logits, targets).item<double>() - q2l) < 1e-3);
    cfg.kind = LossKind::Focal;  // every entry: α_t · 0.25 · log 2, α_t = 0.25 (2) or 0.75 (8)
    cfg.focal_gamma = 2.0;
    cfg.focal_alpha = 0.25;
    const double focal = (2 * 0.25 + 8 * 0.75) * 0.25 * std::log(2.0) / 10;
    QVERIFY(std::abs(multiLabelLoss(cfg, logits, targets).item<double>() - focal) < 1e-6);
  }

  void confidentPredictionsKeepFloatPrecision() {
    // A confidently wrong unobserved entry (x = 12): float32 loss must match float64.
    auto x32 = torch::tensor({{12.f, -3.f}});
    auto y = torch::tensor({{0.f, 1.f}});
    for (auto kind : {LossKind::AN, LossKind::WAN, LossKind::AN_LS, LossKind::Focal, LossKind::ASL}) {
      LossConfig cfg;
      cfg.kind = kind;
      const double v32 = multiLabelLoss(cfg, x32, y).item<double>();
      const double v64 = multiLabelLoss(cfg, x32.to(torch::kDouble), y).item<double>();
      QVERIFY2(std::abs(v32 - v64) <= 1e-6 * std::abs(v64), lossName(kind).c_str());
    }
  }

  void detachedAslFocusChangesOnlyTheGradient() {
    auto logits = torch::tensor({{1.5f, -0.5f, 0.2f}}).requires_grad_(true);
    auto targets = torch::tensor({{1.f, 0.f, 0.f}});
    LossConfig cfg;
    cfg.asl_gamma_pos = 1.0;
    auto detached = multiLabelLoss(cfg, logits, targets);
    auto g_detached = torch::autograd::grad({detached}, {logits})[0];
    cfg.asl_detach_focus = false;
    auto attached = multiLabelLoss(cfg, logits, targets);
    auto g_attached = torch::autograd::grad({attached}, {logits})[0];
    QCOMPARE(detached.item<float>(), attached.item<float>());
    QVERIFY((g_detached - g_attached).abs().max().item<float>() > 1e-3);
  }

  void q2lCocoConfig() {
    const auto cfg = LossConfig::q2lCoco();
    QCOMPARE(cfg.kind, LossKind::ASL);
    QCOMPARE(cfg.asl_gamma_pos, 0.0);
    QCOMPARE(cfg.asl_gamma_neg, 2.0);
    QCOMPARE(cfg.asl_clip, 0.0);
    QVERIFY(cfg.asl_detach_focus);
    QCOMPARE(cfg.asl_eps, 1e-5);
    QVERIFY(cfg.asl_q2l_normalization);
  }

  void extremeLogitsStayFinite() {
    // ±50 saturates float32 sigmoid to exactly 0 / 1 in every combination of target type.
    auto base = torch::tensor({{50.f, -50.f, 50.f, -50.f, 50.f, -50.f},
                               {-50.f, 50.f, -50.f, 50.f, -50.f, 50.f}});
    auto targets = torch::tensor({{1.f, 1.f, 0.f, 0.f, -1.f, -1.f}, {1.f, 1.f, 0.f, 0.f, -1.f, -1.f}});
    std::vector<LossConfig> configs;
    for (auto kind : {LossKind::BCE, LossKind::AN, LossKind::AN_LS, LossKind::WAN, LossKind::EPR,
                      LossKind::ROLE, LossKind::Focal, LossKind::ASL}) {
      LossConfig cfg;
      cfg.kind = kind;
      configs.push_back(cfg);
      cfg.asl_detach_focus = false;
      cfg.asl_gamma_pos = 1.0;
      configs.push_back(cfg);
    }
    configs.push_back(LossConfig::q2lCoco());
    for (const auto& cfg : configs) {
      for (double sign : {1.0, -1.0}) {
        auto logits = (base * sign).clone().requires_grad_(true);
        auto est = (base * -sign).clone().requires_grad_(true);
        auto loss = multiLabelLoss(cfg, logits, targets, est);
        loss.backward();
        const auto what = lossName(cfg.kind);
        QVERIFY2(std::isfinite(loss.item<double>()), what.c_str());
        QVERIFY2(allFinite(logits.grad()), what.c_str());
        if (cfg.kind == LossKind::ROLE) QVERIFY2(allFinite(est.grad()), what.c_str());
      }
    }
  }

  void halfPrecisionLogitsGiveFloatLoss() {
    auto logits = torch::tensor({{0.3f, -1.2f}}).to(torch::kHalf);
    auto loss = multiLabelLoss(LossConfig{}, logits, torch::tensor({{1.f, 0.f}}));
    QCOMPARE(loss.scalar_type(), torch::kFloat);
    QVERIFY(std::isfinite(loss.item<float>()));
  }

  void parseAndNameLossKinds() {
    const std::vector<std::pair<std::string, LossKind>> names = {
        {"bce", LossKind::BCE}, {"an", LossKind::AN},   {"an-ls", LossKind::AN_LS}, {"wan", LossKind::WAN},
        {"epr", LossKind::EPR}, {"role", LossKind::ROLE}, {"focal", LossKind::Focal}, {"asl", LossKind::ASL}};
    for (const auto& [name, kind] : names) {
      QCOMPARE(parseLossKind(name), kind);
      QCOMPARE(lossName(kind), name);
      QCOMPARE(lossNeedsEstimator(kind), kind == LossKind::ROLE);
    }
    QCOMPARE(parseLossKind("AN_LS"), LossKind::AN_LS);
    QCOMPARE(parseLossKind("ROLE"), LossKind::ROLE);
    try {
      parseLossKind("hinge");
      QFAIL("unknown loss accepted");
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      QVERIFY(msg.find("hinge") != std::string::npos);
      QVERIFY(msg.find("an-ls") != std::string::npos && msg.find("asl") != std::string::npos);
    }
    QVERIFY_EXCEPTION_THROWN(parseLossKind(""), std::invalid_argument);
  }

  void badShapesThrow() {
    LossConfig cfg;
    cfg.kind = LossKind::ROLE;
    auto logits = torch::zeros({2, 3});
    QVERIFY_EXCEPTION_THROWN(multiLabelLoss(cfg, logits, torch::zeros({2, 3})), std::invalid_argument);
    QVERIFY_EXCEPTION_THROWN(multiLabelLoss(cfg, logits, torch::zeros({2, 3}), torch::zeros({3, 3})),
                             std::invalid_argument);
    cfg.kind = LossKind::AN;
    QVERIFY_EXCEPTION_THROWN(multiLabelLoss(cfg, logits, torch::zeros({2, 4})), std::invalid_argument);
    QVERIFY_EXCEPTION_THROWN(multiLabelLoss(cfg, torch::zeros({6}), torch::zeros({6})), std::invalid_argument);
  }

  void estimatorInitialValues() {
    const int64_t n = 400, k = 6;
    auto observed = torch::zeros({n, k});
    for (int64_t i = 0; i < n; ++i) {
      observed.index_put_({i, i % k}, 1.0);
      if (i % 3 == 0) observed.index_put_({i, (i + 1) % k}, -1.0);
    }
    LabelEstimator g(observed, 42);
    const auto logits = g->logits.detach();
    QVERIFY(logits.sizes() == observed.sizes());
    QCOMPARE(logits.scalar_type(), torch::kFloat);
    QVERIFY(g->logits.requires_grad());
    const float pos = std::log(0.995f / 0.005f), q = std::log(0.6 / 0.4);
    auto at_pos = logits.masked_select(observed == 1), at_neg = logits.masked_select(observed == -1);
    auto unobs = logits.masked_select(observed == 0);
    QCOMPARE(at_pos.numel(), n);
    QVERIFY(((at_pos - pos).abs() < 1e-5).all().item<bool>());
    QVERIFY(((at_neg + pos).abs() < 1e-5).all().item<bool>());
    QVERIFY((unobs.abs() <= q + 1e-6).all().item<bool>());
    // uniform on [-q, q]: mean ≈ 0, std ≈ q/√3 (1600+ draws), both ends reached
    QVERIFY(std::abs(unobs.mean().item<double>()) < 0.03);
    QVERIFY(std::abs(unobs.std().item<double>() - q / std::sqrt(3.0)) < 0.02);
    QVERIFY(unobs.min().item<double>() < -0.95 * q && unobs.max().item<double>() > 0.95 * q);
    auto probs = g->estimates();
    QVERIFY(!probs.requires_grad());
    QVERIFY(torch::allclose(probs, torch::sigmoid(logits)));
    QVERIFY(std::abs(probs.masked_select(observed == 1).min().item<double>() - 0.995) < 1e-6);
  }

  void estimatorIsDeterministicPerSeed() {
    auto observed = torch::zeros({50, 4});
    observed.index_put_({torch::indexing::Slice(), 0}, 1.0);
    LabelEstimator a(observed, 7), b(observed, 7), c(observed, 8);
    QVERIFY(torch::equal(a->logits, b->logits));
    QVERIFY(!torch::equal(a->logits, c->logits));
  }

  void estimatorForwardSelectsRowsAndTrainsOnlyThem() {
    auto observed = torch::zeros({10, 3});
    observed.index_put_({torch::indexing::Slice(), 1}, 1.0);
    LabelEstimator g(observed, 1);
    auto idx = torch::tensor({7, 2, 7}, torch::kLong);
    auto rows = g->forward(idx);
    QVERIFY(rows.sizes() == torch::IntArrayRef({3, 3}));
    QVERIFY(torch::equal(rows[0], g->logits[7]) && torch::equal(rows[1], g->logits[2]));
    auto named = g->named_parameters();
    QCOMPARE(named.size(), size_t{1});
    QVERIFY(named.contains("logits"));
    // ROLE through the estimator: gradient lands in the selected rows only.
    LossConfig cfg;
    cfg.kind = LossKind::ROLE;
    auto f_logits = torch::zeros({3, 3}).requires_grad_(true);
    multiLabelLoss(cfg, f_logits, observed.index_select(0, idx), rows).backward();
    auto grad_rows = g->logits.grad().abs().sum(1);
    for (int64_t i = 0; i < 10; ++i) QCOMPARE(grad_rows[i].item<float>() > 0, i == 7 || i == 2);
  }

  void estimatorSurvivesSaveAndLoad() {
    auto observed = torch::zeros({20, 5});
    observed.index_put_({torch::indexing::Slice(), 2}, 1.0);
    LabelEstimator saved(observed, 3), loaded(observed, 99);
    std::stringstream buffer;
    torch::save(saved, buffer);
    torch::load(loaded, buffer);
    QVERIFY(torch::equal(saved->logits, loaded->logits));
  }
};

QTEST_APPLESS_MAIN(TestLosses)
#include "test_losses.moc"
