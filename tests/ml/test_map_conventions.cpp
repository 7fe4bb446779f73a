// mAP in the MLSPL and Q2L conventions (ml/metrics_conventions) against hand-worked cases and against
// independent values from tests/testdata/make_map_conventions_reference.py (numpy, textbook definitions):
// ties, a class without positives, an all-positive class, negative scores.
#include <QtTest/QtTest>

#include <cmath>
#include <limits>
#include <vector>

#include "../support/reference_json.h"
#include "ml/metrics.h"
#include "ml/metrics_conventions.h"

using namespace mls;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double voc(const std::vector<float>& s, const std::vector<uint8_t>& y) {
  return averagePrecisionVoc(s.data(), y.data(), s.size());
}
double sk(const std::vector<float>& s, const std::vector<uint8_t>& y) {
  return averagePrecision(s.data(), y.data(), s.size());
}

}  // namespace

class TestMapConventions : public QObject {
  Q_OBJECT

 private:
  QJsonObject ref_ = test::loadTestJson("map_conventions_reference.json");

 private Q_SLOTS:
  void handCheckedVocAveragePrecision() {
    // + - - + +: precisions at the positives 1, 2/4, 3/5. scikit-learn averages them (0.7); VOC lifts 2/4 to
    // the best precision further down the list, 3/5.
    const std::vector<float> s = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f};
    const std::vector<uint8_t> y = {1, 0, 0, 1, 1};
    QCOMPARE(sk(s, y), 0.7);
    QCOMPARE(voc(s, y), (1 + 0.6 + 0.6) / 3);
    QCOMPARE(voc({0.9f, 0.8f, 0.7f, 0.6f}, {1, 0, 1, 0}), 5.0 / 6.0);  // already monotone: same as scikit-learn
    QCOMPARE(voc({0.4f, 0.3f, 0.2f, 0.1f}, {0, 0, 0, 1}), 0.25);
    QCOMPARE(voc({0.1f, 0.7f, 0.4f}, {1, 1, 1}), 1.0);  // all positive
  }

  void vocTiesKeepInputOrder() {
    // Three items tied at 0.5, one positive among them, one more positive at 0.2. scikit-learn groups the
    // tie (5/12 either way); the Q2L code ranks tied items one by one, so their order matters.
    QCOMPARE(sk({0.5f, 0.5f, 0.5f, 0.2f}, {0, 1, 0, 1}), 5.0 / 12.0);
    QCOMPARE(voc({0.5f, 0.5f, 0.5f, 0.2f}, {0, 1, 0, 1}), 0.5);   // - + - +: 1/2 and 2/4
    QCOMPARE(voc({0.5f, 0.5f, 0.5f, 0.2f}, {1, 0, 0, 1}), 0.75);  // + - - +: 1 and 2/4
    QCOMPARE(voc({0.3f, 0.3f, 0.3f, 0.3f}, {0, 0, 0, 1}), 0.25);
  }

  void vocEdgeCases() {
    QVERIFY(std::isnan(voc({0.3f, 0.7f}, {0, 0})));  // no positives: the authors' 0/0
    QVERIFY(std::isnan(averagePrecisionVoc(nullptr, nullptr, 0)));
    // negative scores (logits): -0.1-, -0.7+, -1.2-, -2.5+, -3.0-  ->  1/2 and 2/4
    QCOMPARE(voc({-0.1f, -2.5f, -0.7f, -3.0f, -1.2f}, {0, 1, 1, 0, 0}), 0.5);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    QCOMPARE(voc({nan, 0.2f, 0.1f}, {0, 1, 0}), 1.0);  // NaN ranks last
    // column 1 of a (3,2) row-major matrix: 0.2-, 0.9-, 0.5+ -> 1/2
    const std::vector<float> s = {0.9f, 0.2f, 0.1f, 0.9f, 0.3f, 0.5f};
    const std::vector<uint8_t> y = {0, 0, 1, 0, 1, 1};
    QCOMPARE(averagePrecisionVoc(s.data() + 1, y.data() + 1, 3, 2), 0.5);
  }

  void vocIsAtLeastSklearnWithoutTies() {
    // Without ties both use the same points; VOC replaces each precision by a maximum that includes it.
    uint32_t state = 99;
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<float> s(40);
      std::vector<uint8_t> y(40);
      for (size_t i = 0; i < s.size(); ++i) {
        state = state * 1664525u + 1013904223u;
        y[i] = (state >> 29) < 2;
        // i + 40·m is unique for i < 40: no ties; positives are lifted by a random m in 0..7
        s[i] = static_cast<float>(i + (y[i] ? 40 * ((state >> 20) & 7) : 0));
      }
      if (std::isnan(sk(s, y))) continue;
      QVERIFY(voc(s, y) >= sk(s, y) - 1e-12);
    }
  }

  void mlsplCountsEmptyClassesAsZero() {
    QCOMPARE(mapMlspl({kNaN, 80.0, 60.0}), 140.0 / 3.0);
    QCOMPARE(mapMlspl({kNaN, kNaN}), 0.0);
    QVERIFY(std::isnan(mapMlspl({})));
  }

  void evaluateReportsAllThree() {
    // 3 images x 3 classes; class 2 has no positives.
    //   class 0: 0.9+, 0.4+, 0.2-  -> AP 1 in both
    //   class 1: 0.7+, 0.6-, 0.3+  -> (1 + 2/3) / 2 in both (already monotone)
    const std::vector<float> s = {0.9f, 0.6f, 0.1f, 0.2f, 0.7f, 0.8f, 0.4f, 0.3f, 0.2f};
    const std::vector<uint8_t> y = {1, 0, 0, 0, 1, 0, 1, 1, 0};
    const auto m = evaluateMultiLabel(s, y, 3, 3);
    const double ap1 = 100 * (1 + 2 / 3.0) / 2;
    QCOMPARE(m.map, (100 + ap1) / 2);
    QCOMPARE(m.map_q2l_voc, (100 + ap1) / 2);
    QCOMPARE(m.map_mlspl, (100 + ap1 + 0) / 3);
    // nothing to evaluate: MLSPL's zeros average to 0, the other two are undefined
    const auto none = evaluateMultiLabel({0.9f, 0.1f}, {0, 0}, 1, 2);
    QCOMPARE(none.map_mlspl, 0.0);
    QVERIFY(std::isnan(none.map_q2l_voc));
    QVERIFY(std::isnan(evaluateMultiLabel({}, {}, 0, 0).map_mlspl));
    QVERIFY_EXCEPTION_THROWN(mapQ2lVoc({0.5f}, {1, 0}, 1, 2), std::invalid_argument);
  }

  void referenceAveragePrecision() {
    const auto cases = ref_["ap_cases"].toArray();
    QVERIFY(cases.size() >= 10);
    for (const auto& c : cases) {
      const auto o = c.toObject();
      const auto s = test::flatJson<float>(o["scores"].toArray());
      const auto y = test::flatJson<uint8_t>(o["labels"].toArray());
      const auto name = o["name"].toString();
      QVERIFY2(test::sameAsJson(sk(s, y), o["ap_sklearn"]), qPrintable(name + " scikit-learn"));
      QVERIFY2(test::sameAsJson(voc(s, y), o["ap_voc"]),
               qPrintable(QString("%1 voc: %2 vs %3").arg(name).arg(voc(s, y)).arg(o["ap_voc"].toDouble())));
    }
  }

  void referenceMatrices() {
    const auto cases = ref_["matrix_cases"].toArray();
    QVERIFY(cases.size() >= 2);
    for (const auto& c : cases) {
      const auto o = c.toObject();
      const auto name = o["name"].toString();
      const size_t n = o["num_images"].toInt(), k = o["num_classes"].toInt();
      const auto s = test::flatJson<float>(o["scores"].toArray());
      const auto y = test::flatJson<uint8_t>(o["labels"].toArray());
      const auto m = evaluateMultiLabel(s, y, n, k);
      const auto e = o["expected"].toObject();
      const auto ap_voc = e["ap_voc"].toArray();
      for (size_t j = 0; j < k; ++j)
        QVERIFY2(test::sameAsJson(100 * averagePrecisionVoc(s.data() + j, y.data() + j, n, k), ap_voc[static_cast<int>(j)]),
                 qPrintable(name + QString(" ap_voc[%1]").arg(j)));
      const std::pair<const char*, double> fields[] = {
          {"map", m.map}, {"map_mlspl", m.map_mlspl}, {"map_q2l_voc", m.map_q2l_voc}};
      for (const auto& [field, value] : fields)
        QVERIFY2(test::sameAsJson(value, e[field]),
                 qPrintable(QString("%1 %2: %3 vs %4").arg(name, field).arg(value).arg(e[field].toDouble())));
      // the three really differ here, so a mix-up of keys would show
      QVERIFY(m.map_mlspl < m.map && m.map < m.map_q2l_voc);
    }
  }
};

QTEST_APPLESS_MAIN(TestMapConventions)
#include "test_map_conventions.moc"
