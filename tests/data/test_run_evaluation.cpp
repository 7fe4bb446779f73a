// Per-class evaluation of a run from its stored scores: precision-recall points and AP against values
// computed independently with numpy (a transcription of scikit-learn's _binary_clf_curve /
// precision_recall_curve / average_precision_score, /usr/bin/python3 + numpy 1.24), with tied scores, a
// class without positives, unlabelled val images, an image without scores and train images to ignore; and
// on a run trained here, the mAP from its stored scores equals the best val mAP training recorded.
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <cmath>

#include "data/eval/precision_recall.h"
#include "data/eval/run_evaluation.h"
#include "data/store/project_store.h"
#include "data/training/training_session.h"
#include "demo_generator.h"
#include "ml/metrics.h"

using namespace mls;

namespace {

// 8 images × 3 classes; class 2 has no positives. Rows 4 and 6 have no label at all.
const float kScores[8][3] = {{0.9f, 0.2f, 0.3f}, {0.8f, 0.4f, 0.1f}, {0.8f, 0.4f, 0.7f}, {0.7f, 0.4f, 0.2f},
                             {0.6f, 0.9f, 0.5f}, {0.6f, 0.1f, 0.6f}, {0.6f, 0.3f, 0.4f}, {0.1f, 0.5f, 0.8f}};
const uint8_t kLabels[8][3] = {{1, 0, 0}, {0, 1, 0}, {1, 0, 0}, {1, 1, 0}, {0, 0, 0}, {1, 0, 0}, {0, 0, 0}, {0, 1, 0}};

// numpy reference (see the file comment), sklearn's arrays reversed: decreasing thresholds.
const double kAp0 = 0.74702380952380953, kAp1 = 0.56666666666666665;
const std::vector<double> kPrecision0 = {1.0, 1.0, 0.6666666666666666, 0.75, 0.5714285714285714, 0.5};
const std::vector<double> kRecall0 = {0.0, 0.25, 0.5, 0.75, 1.0, 1.0};
const std::vector<double> kThresholds0 = {0.9f, 0.8f, 0.7f, 0.6f, 0.1f};
const std::vector<double> kPrecision1 = {1.0, 0.0, 0.5, 0.6, 0.5, 0.42857142857142855, 0.375};
const std::vector<double> kRecall1 = {0.0, 0.0, 0.3333333333333333, 1.0, 1.0, 1.0, 1.0};

void compareVectors(const std::vector<double>& got, const std::vector<double>& want) {
  QCOMPARE(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) QVERIFY2(std::abs(got[i] - want[i]) < 1e-12, qPrintable(QString::number(i)));
}

}  // namespace

class TestRunEvaluation : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private Q_SLOTS:
  void precisionRecallPointsMatchSklearn() {
    const auto c0 = precisionRecallCurve(&kScores[0][0], &kLabels[0][0], 8, 3);
    QCOMPARE(c0.positives, size_t(4));
    compareVectors(c0.precision, kPrecision0);
    compareVectors(c0.recall, kRecall0);
    compareVectors(c0.thresholds, kThresholds0);  // the three tied 0.6 scores form one point
    const auto c1 = precisionRecallCurve(&kScores[0][1], &kLabels[0][1], 8, 3);
    compareVectors(c1.precision, kPrecision1);
    compareVectors(c1.recall, kRecall1);
    QCOMPARE(c1.thresholds.size(), size_t(6));
  }

  void apIsTheSumOverTheCurve() {
    // The curve and ml/metrics' AP agree: AP = Σ (R_i − R_{i−1}) P_i over the curve's points.
    for (int k = 0; k < 2; ++k) {
      const auto c = precisionRecallCurve(&kScores[0][k], &kLabels[0][k], 8, 3);
      double ap = 0;
      for (size_t i = 1; i < c.recall.size(); ++i) ap += (c.recall[i] - c.recall[i - 1]) * c.precision[i];
      QVERIFY(std::abs(ap - averagePrecision(&kScores[0][k], &kLabels[0][k], 8, 3)) < 1e-12);
      QVERIFY(std::abs(ap - (k == 0 ? kAp0 : kAp1)) < 1e-12);
    }
  }

  void classWithoutPositivesHasNoCurve() {
    const auto c2 = precisionRecallCurve(&kScores[0][2], &kLabels[0][2], 8, 3);
    QCOMPARE(c2.positives, size_t(0));
    QVERIFY(c2.recall.empty() && c2.thresholds.empty());
  }

  void evaluatesARunFromStoredScores() {
    ProjectStore s((dir_.path() + "/eval.mlsproj").toStdString());
    // Category ids differ from their dense index on purpose.
    const std::vector<Category> cats = {{17, "cat", "", 0}, {3, "dog", "", 0}, {44, "kite", "", 0}};
    std::vector<NewImage> images;
    std::vector<std::pair<int64_t, int64_t>> labels;
    const int64_t ids[3] = {17, 3, 44};
    for (int i = 0; i < 8; ++i) {
      images.push_back({100 + i, "v" + std::to_string(i) + ".png", 8, 8, Split::Val, false});
      for (int k = 0; k < 3; ++k)
        if (kLabels[i][k]) labels.push_back({100 + i, ids[k]});
    }
    images.push_back({200, "no-scores.png", 8, 8, Split::Val, false});  // labelled, but the run has no scores for it
    labels.push_back({200, 44});
    images.push_back({300, "train.png", 8, 8, Split::Train, false});   // a train image's scores do not count
    labels.push_back({300, 44});
    s.importCollection(dir_.path().toStdString(), cats, images, labels);
    const int64_t run = s.createRun("r", "q2l", "{}", "");
    std::vector<std::pair<int64_t, std::vector<float>>> scores;
    for (int i = 0; i < 8; ++i) scores.push_back({100 + i, {kScores[i][0], kScores[i][1], kScores[i][2]}});
    scores.push_back({300, {0.f, 0.f, 1.f}});
    s.storePredictions(run, scores);

    const auto e = evaluateRun(s, run, Split::Val, 0.5);
    QCOMPARE(e.images, 8);
    QCOMPARE(e.images_without_scores, 1);
    QCOMPARE(e.classes.size(), size_t(3));
    QCOMPARE(e.classes[0].category_id, 17);
    QCOMPARE(e.classes[0].positives, 4);
    QCOMPARE(e.classes[1].positives, 3);
    QCOMPARE(e.classes[2].positives, 0);
    QCOMPARE(e.classes[0].predicted, 7);  // scores >= 0.5
    QCOMPARE(e.classes[1].predicted, 2);
    QCOMPARE(e.classes[2].predicted, 4);
    QVERIFY(std::abs(e.classes[0].ap - 100 * kAp0) < 1e-9);
    QVERIFY(std::abs(e.classes[1].ap - 100 * kAp1) < 1e-9);
    QVERIFY(std::isnan(e.classes[2].ap));  // undefined, and left out of the mean
    QCOMPARE(e.classes_evaluated, 2);
    QCOMPARE(e.classes_skipped, 1);
    QVERIFY(std::abs(e.map - 50 * (kAp0 + kAp1)) < 1e-9);
    // The papers' conventions: MLSPL counts the empty class 0 over all 3; Q2L's VOC AP (numpy,
    // tests/testdata/make_map_conventions_reference.py ap_voc) skips it.
    QVERIFY(std::abs(e.map_mlspl - 100 * (kAp0 + kAp1) / 3) < 1e-9);
    QVERIFY(std::abs(e.map_q2l_voc - 50 * (0.7916666666666666 + 0.6444444444444444)) < 1e-9);
    compareVectors(e.classes[0].curve.precision, kPrecision0);

    QVERIFY_THROWS_EXCEPTION(UnknownIdError, evaluateRun(s, run + 1));
    // Scores of another length than the project's classes are refused, not misread.
    s.storePredictions(run, {{100, {0.5f, 0.5f}}});
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, evaluateRun(s, run));
  }

  void storedScoresReproduceTheRecordedValMap() {
    DemoOptions d;
    d.train = 120;
    d.val = 40;
    d.size = 64;
    const auto project = createDemoProject((dir_.path() + "/demo").toStdString(), d).project;
    TrainRequest r;
    r.project = project;
    r.method = Method::Q2L;
    r.loss = "asl";
    r.backbone = "tiny";
    r.image_size = 48;
    r.epochs = 1;
    r.device = "cpu";
    r.workers = 1;
    const int64_t run = TrainingSession(r).run().run_id;
    ProjectStore s(project, ProjectStore::Open::Existing);
    const auto e = evaluateRun(s, run);
    QCOMPARE(e.images, 40);
    QCOMPARE(e.images_without_scores, 0);
    // Training validated the same weights on the same images; scores come from another batch size only.
    QVERIFY2(std::abs(e.map - s.run(run)->best_val_map.value()) < 1e-3,
             qPrintable(QString("%1 vs %2").arg(e.map).arg(s.run(run)->best_val_map.value())));
    // ... and the epoch's record in the papers' conventions matches them too (one epoch: it is the best).
    const auto mlspl = s.runMetrics(run, "val_map_mlspl"), q2l = s.runMetrics(run, "val_map_q2l_voc");
    QCOMPARE(mlspl.size(), size_t(1));
    QCOMPARE(q2l.size(), size_t(1));
    QVERIFY(std::abs(e.map_mlspl - mlspl[0].value) < 1e-3);
    QVERIFY(std::abs(e.map_q2l_voc - q2l[0].value) < 1e-3);
  }
};

QTEST_GUILESS_MAIN(TestRunEvaluation)
#include "test_run_evaluation.moc"
