// AP / mAP and the CP..OF1 family against hand-worked cases and against independent values from
// tests/testdata/make_metric_reference.py (numpy, threshold-by-threshold definition).
#include <QtTest/QtTest>

#include <cmath>
#include <limits>
#include <vector>

#include "../support/reference_json.h"
#include "ml/metrics.h"

using namespace mls;

namespace {

double ap(const std::vector<float>& s, const std::vector<uint8_t>& y) {
  return averagePrecision(s.data(), y.data(), s.size());
}

}  // namespace

class TestMetrics : public QObject {
  Q_OBJECT

 private:
  QJsonObject ref_ = test::loadTestJson("metric_reference.json");

 private Q_SLOTS:
  void handCheckedAveragePrecision() {
    // ranking + - + -: P = 1 at R = 1/2, P = 2/3 at R = 1  ->  (1 + 2/3) / 2
    QCOMPARE(ap({0.9f, 0.8f, 0.7f, 0.6f}, {1, 0, 1, 0}), 5.0 / 6.0);
    QCOMPARE(ap({0.1f, 0.9f, 0.3f}, {0, 1, 1}), 1.0);
    // positive last of 4: P = 1/4 at R = 1
    QCOMPARE(ap({0.4f, 0.3f, 0.2f, 0.1f}, {0, 0, 0, 1}), 0.25);
    // ties form one threshold: 3 items at 0.5 (1 positive) then the other positive at 0.2:
    // R 1/2 at P 1/3, R 1 at P 2/4 -> 1/6 + 1/4 (ties broken optimistically would give 3/4)
    QCOMPARE(ap({0.5f, 0.5f, 0.5f, 0.2f}, {0, 1, 0, 1}), 5.0 / 12.0);
    QCOMPARE(ap({0.5f, 0.5f, 0.5f, 0.2f}, {1, 0, 0, 1}), 5.0 / 12.0);
    QCOMPARE(ap({0.3f, 0.3f, 0.3f, 0.3f}, {1, 0, 0, 0}), 0.25);  // all tied: AP = prevalence
    QVERIFY(std::isnan(ap({0.3f, 0.7f}, {0, 0})));              // no positives: undefined
    QVERIFY(std::isnan(averagePrecision(nullptr, nullptr, 0)));
    // any label value != 0 is positive
    QCOMPARE(ap({0.9f, 0.8f}, {255, 0}), 1.0);
  }

  void averagePrecisionUsesStride() {
    // column 1 of a (3,2) row-major matrix: scores 0.2, 0.9, 0.5 with labels 0, 0, 1 -> 1/2
    const std::vector<float> s = {0.9f, 0.2f, 0.1f, 0.9f, 0.3f, 0.5f};
    const std::vector<uint8_t> y = {0, 0, 1, 0, 1, 1};
    QCOMPARE(averagePrecision(s.data() + 1, y.data() + 1, 3, 2), 0.5);
    // column 0: 0.9-, 0.3+, 0.1+ -> 1/2·1/2 + 1/2·2/3
    QCOMPARE(averagePrecision(s.data(), y.data(), 3, 2), 7.0 / 12.0);
  }

  void nanScoresRankLast() {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    QCOMPARE(ap({nan, 0.2f, 0.1f}, {0, 1, 0}), 1.0);
    QCOMPARE(ap({nan, 0.2f, 0.1f}, {1, 0, 0}), 1.0 / 3.0);
  }

  void referenceAveragePrecision() {
    const auto cases = ref_["ap_cases"].toArray();
    QVERIFY(cases.size() >= 10);
    for (const auto& c : cases) {
      const auto o = c.toObject();
      const auto s = test::flatJson<float>(o["scores"].toArray());
      const auto y = test::flatJson<uint8_t>(o["labels"].toArray());
      QCOMPARE(s.size(), y.size());
      const double actual = ap(s, y);
      QVERIFY2(test::sameAsJson(actual, o["ap"]),
               qPrintable(QString("%1: %2 vs %3").arg(o["name"].toString()).arg(actual).arg(o["ap"].toDouble())));
    }
  }

  void referenceMatrices() {
    const auto cases = ref_["matrix_cases"].toArray();
    QVERIFY(cases.size() >= 3);
    for (const auto& c : cases) {
      const auto o = c.toObject();
      const auto name = o["name"].toString();
      const size_t n = o["num_images"].toInt(), k = o["num_classes"].toInt();
      const auto m = evaluateMultiLabel(test::flatJson<float>(o["scores"].toArray()), test::flatJson<uint8_t>(o["labels"].toArray()),
                                        n, k, o["threshold"].toDouble());
      const auto e = o["expected"].toObject();
      QCOMPARE(m.ap.size(), k);
      const auto ap_ref = e["ap"].toArray();
      for (size_t i = 0; i < k; ++i)
        QVERIFY2(test::sameAsJson(m.ap[i], ap_ref[static_cast<int>(i)]), qPrintable(name + QString(" ap[%1]").arg(i)));
      QCOMPARE(m.classes_evaluated, e["classes_evaluated"].toInt());
      QCOMPARE(m.classes_skipped, e["classes_skipped"].toInt());
      const std::pair<const char*, double> fields[] = {
          {"map", m.map}, {"cp", m.cp},   {"cr", m.cr},   {"cf1", m.cf1},   {"op", m.op},   {"or", m.or_},
          {"of1", m.of1}, {"cp3", m.cp3}, {"cr3", m.cr3}, {"cf13", m.cf13}, {"op3", m.op3}, {"or3", m.or3},
          {"of13", m.of13}};
      for (const auto& [field, value] : fields)
        QVERIFY2(test::sameAsJson(value, e[field]), qPrintable(QString("%1 %2: %3 vs %4").arg(name, field).arg(value).arg(
                                                 e[field].toDouble())));
    }
  }

  void handCheckedThresholdMetrics() {
    // 3 images x 3 classes, threshold 0.5. Class 2 has no positives (skipped in means).
    //   image 0: scores .9 .6 .1  labels 1 0 0  -> predicted {0,1}
    //   image 1: scores .2 .7 .8  labels 0 1 0  -> predicted {1,2}
    //   image 2: scores .4 .3 .2  labels 1 1 0  -> predicted {}
    const std::vector<float> s = {0.9f, 0.6f, 0.1f, 0.2f, 0.7f, 0.8f, 0.4f, 0.3f, 0.2f};
    const std::vector<uint8_t> y = {1, 0, 0, 0, 1, 0, 1, 1, 0};
    const auto m = evaluateMultiLabel(s, y, 3, 3);
    QCOMPARE(m.classes_evaluated, 2);
    QCOMPARE(m.classes_skipped, 1);
    QVERIFY(std::isnan(m.ap[2]));
    QCOMPARE(m.ap[0], 100.0);                      // 0.9+, 0.4+, 0.2-
    QCOMPARE(m.ap[1], 100.0 * (0.5 + 0.5 * 2 / 3.0));  // 0.7+, 0.6-, 0.3+
    QCOMPARE(m.map, (m.ap[0] + m.ap[1]) / 2);
    // class 0: Nc 1 Np 1 Ng 2; class 1: Nc 1 Np 2 Ng 2; class 2: Nc 0 Np 1 Ng 0
    QCOMPARE(m.cp, 100 * (1.0 + 0.5) / 2);
    QCOMPARE(m.cr, 100 * (0.5 + 0.5) / 2);
    QCOMPARE(m.cf1, 2 * 75.0 * 50.0 / 125.0);
    QCOMPARE(m.op, 100 * 2 / 4.0);  // Σ Nc / Σ Np over all classes, false positive of class 2 included
    QCOMPARE(m.or_, 100 * 2 / 4.0);
    QCOMPARE(m.of1, 50.0);
  }

  void neverPredictedClassHasPrecisionZero() {
    // ML-GCN: Np = 0 -> precision 0 (not skipped, not 1)
    const std::vector<float> s = {0.9f, 0.1f, 0.8f, 0.2f};
    const std::vector<uint8_t> y = {1, 1, 1, 0};
    const auto m = evaluateMultiLabel(s, y, 2, 2);
    QCOMPARE(m.cp, 50.0);  // class 0: 2/2, class 1: never predicted -> 0
    QCOMPARE(m.cr, 50.0);  // class 0: 2/2, class 1: 0/1
    QCOMPARE(m.op, 100.0);
    QCOMPARE(m.or_, 100 * 2 / 3.0);
  }

  void topThreeNeedsRankAndThreshold() {
    // one image, 5 classes: top-3 = classes 0,1,2 but class 2 is below the threshold
    const std::vector<float> s = {0.9f, 0.8f, 0.4f, 0.3f, 0.7f};
    const std::vector<uint8_t> y = {1, 0, 0, 0, 1};
    auto m = evaluateMultiLabel(s, y, 1, 5);
    QCOMPARE(m.op, 100 * 2 / 3.0);  // threshold: {0,1,4}
    QCOMPARE(m.op3, 100 * 2 / 3.0);  // top-3 {0,1,4}, all above 0.5
    m = evaluateMultiLabel(s, y, 1, 5, 0.75);
    QCOMPARE(m.op3, 50.0);  // top-3 {0,1,4} ∩ {>= 0.75} = {0,1}
    QCOMPARE(m.or3, 50.0);
    // four labels above the threshold: top-3 keeps the best three, ties to the lower index
    const std::vector<float> t = {0.6f, 0.9f, 0.6f, 0.6f};
    const std::vector<uint8_t> z = {0, 1, 0, 1};
    m = evaluateMultiLabel(t, z, 1, 4);
    QCOMPARE(m.op, 50.0);
    QCOMPARE(m.op3, 100 / 3.0);   // {1, 0, 2}
    QCOMPARE(m.or3, 50.0);
    // fewer than 3 classes: top-k covers them all
    m = evaluateMultiLabel({0.9f, 0.6f}, {1, 1}, 1, 2);
    QCOMPARE(m.op3, 100.0);
    QCOMPARE(m.or3, 100.0);
  }

  void degenerateInputs() {
    const auto m = evaluateMultiLabel({0.9f, 0.1f}, {0, 0}, 1, 2);
    QCOMPARE(m.classes_evaluated, 0);
    QCOMPARE(m.classes_skipped, 2);
    QVERIFY(std::isnan(m.map));
    QCOMPARE(m.cp, 0.0);
    QCOMPARE(m.of1, 0.0);
    const auto empty = evaluateMultiLabel({}, {}, 0, 0);
    QVERIFY(empty.ap.empty());
    QVERIFY_EXCEPTION_THROWN(evaluateMultiLabel({0.5f}, {1, 0}, 1, 2), std::invalid_argument);
    QVERIFY_EXCEPTION_THROWN(evaluateMultiLabel({0.5f, 0.1f}, {1, 0}, 2, 2), std::invalid_argument);
  }

  void largeInputIsQuick() {
    // COCO-val-sized evaluation (40k x 80) must stay well under a second per epoch.
    const size_t n = 40000, k = 80;
    std::vector<float> s(n * k);
    std::vector<uint8_t> y(n * k);
    uint32_t state = 12345;
    for (size_t i = 0; i < n * k; ++i) {
      state = state * 1664525u + 1013904223u;
      y[i] = (state >> 28) < 1;  // ~1/16 positives
      s[i] = static_cast<float>((state >> 8) & 0xFFFF) / 65536.0f * 0.5f + (y[i] ? 0.4f : 0.0f);
    }
    QElapsedTimer timer;
    timer.start();
    const auto m = evaluateMultiLabel(s, y, n, k);
    QVERIFY(timer.elapsed() < 5000);
    QCOMPARE(m.classes_evaluated, 80);
    QVERIFY(m.map > 80 && m.map <= 100);
  }
};

QTEST_APPLESS_MAIN(TestMetrics)
#include "test_metrics.moc"
