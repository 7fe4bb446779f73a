// The Inspect panel on a demo project with a tiny Q2L run and a tiny MLSPL run trained here: sorted per-class
// scores with ground truth and single positive, the threshold, attention overlays per head and opacity,
// export, the MLSPL "no decoder" message, "Train a model first", and the run chooser following the session.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QComboBox>
#include <QFile>
#include <QHeaderView>
#include <QPushButton>
#include <QSignalSpy>
#include <QSlider>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest/QtTest>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <unordered_set>

#include "data/store/project_store.h"
#include "data/training/run_model.h"
#include "data/training/training_session.h"
#include "demo_generator.h"
#include "inspect/class_scores_model.h"
#include "inspect/inspect_panel.h"
#include "inspect/run_model_cache.h"
#include "project_session.h"

namespace {

// Mean absolute difference per channel between two images of one size (RGB).
double meanAbsDiff(const QImage& a, const QImage& b) {
  const QImage x = a.convertToFormat(QImage::Format_RGB888), y = b.convertToFormat(QImage::Format_RGB888);
  double sum = 0;
  for (int r = 0; r < x.height(); ++r) {
    const uchar* p = x.constScanLine(r);
    const uchar* q = y.constScanLine(r);
    for (int i = 0; i < x.width() * 3; ++i) sum += std::abs(int(p[i]) - int(q[i]));
  }
  return sum / (3.0 * x.width() * x.height());
}

double grayVariance(const QImage& image) {
  const QImage g = image.convertToFormat(QImage::Format_Grayscale8);
  double sum = 0, sq = 0;
  const double n = double(g.width()) * g.height();
  for (int r = 0; r < g.height(); ++r)
    for (int c = 0; c < g.width(); ++c) {
      const double v = g.constScanLine(r)[c];
      sum += v;
      sq += v * v;
    }
  return sq / n - (sum / n) * (sum / n);
}

}  // namespace

class TestInspect : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString project_;
  qint64 q2l_run_ = 0, mlspl_run_ = 0;
  qint64 train_image_ = 0, val_image_ = 0, val_image2_ = 0;

  qint64 train(const std::string& method, const std::string& loss, const std::string& labels, const std::string& name) {
    mls::TrainRequest r;
    r.project = project_.toStdString();
    r.method = mls::parseMethod(method);
    r.loss = loss;
    r.labels = labels;
    r.backbone = "tiny";
    r.image_size = 48;
    r.epochs = 1;
    r.batch = 32;
    r.device = "cpu";
    r.workers = 1;
    r.run_name = name;
    mls::TrainingSession session(r);
    return session.run().run_id;
  }

  // Opens the project, shows the panel and waits for the scores of (run, image).
  static bool waitForScores(mls::InspectPanel& panel, QSignalSpy& ready) {
    if (!panel.isComputing()) return false;
    return ready.wait(60000) && !panel.isComputing();
  }

 private Q_SLOTS:
  void initTestCase() {
    mls::DemoOptions d;
    d.train = 120;
    d.val = 40;
    d.size = 64;
    project_ = QString::fromStdString(mls::createDemoProject(dir_.path().toStdString(), d).project);
    const auto t0 = std::chrono::steady_clock::now();
    q2l_run_ = train("q2l", "asl", "full", "q2l-tiny");
    mlspl_run_ = train("mlspl", "an", "single", "mlspl-tiny");
    qInfo() << "trained two runs in"
            << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << "s";
    QVERIFY(q2l_run_ > 0 && mlspl_run_ > q2l_run_);
    mls::ProjectStore store(project_.toStdString());
    mls::ImageFilter train_filter;
    train_filter.split = mls::Split::Train;
    train_filter.annotated = true;
    train_image_ = store.images(train_filter, 0, 1).at(0).id;
    mls::ImageFilter val_filter;
    val_filter.split = mls::Split::Val;
    const auto vals = store.images(val_filter, 0, 2);
    val_image_ = vals.at(0).id;
    val_image2_ = vals.at(1).id;
  }

  void classScoresModelAlone() {
    mls::ClassScoresModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    std::vector<mls::ClassScoreRow> rows;
    const float scores[] = {0.2f, 0.9f, 0.5f, 0.7f, 0.5f};
    for (int i = 0; i < 5; ++i) rows.push_back({i, QStringLiteral("c%1").arg(i), scores[i], i == 1 || i == 4, i == 1});
    model.setRows(rows, true);
    QCOMPARE(model.rowCount(), 5);
    QCOMPARE(model.columnCount(), int(mls::ClassScoresModel::ColumnCount));
    // Descending by score, ties by class idx.
    const int order[] = {1, 3, 2, 4, 0};
    for (int r = 0; r < 5; ++r) QCOMPARE(model.classIdxAt(r), order[r]);
    QCOMPARE(model.data(model.index(0, mls::ClassScoresModel::ScoreColumn), Qt::DisplayRole).toString(), QString("0.900"));
    QCOMPARE(model.data(model.index(0, mls::ClassScoresModel::GroundTruthColumn), Qt::DisplayRole).toString(), QString("\u2713"));
    QCOMPARE(model.data(model.index(0, mls::ClassScoresModel::SinglePositiveColumn), Qt::DisplayRole).toString(), QString("\u25CF"));
    QCOMPARE(model.predictedCount(), 4);  // >= 0.5: 0.9, 0.7, 0.5, 0.5
    QVERIFY(model.data(model.index(3, 0), Qt::BackgroundRole).isValid());   // c4: predicted
    QVERIFY(!model.data(model.index(4, 0), Qt::BackgroundRole).isValid());  // c0: not
    // c3 is predicted but not in the ground truth: a different highlight than the true positive c1.
    QVERIFY(model.data(model.index(1, 0), Qt::BackgroundRole) != model.data(model.index(0, 0), Qt::BackgroundRole));
    QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
    model.setThreshold(0.6);
    QCOMPARE(changed.count(), 1);
    QCOMPARE(model.predictedCount(), 2);
    QCOMPARE(model.data(model.index(2, mls::ClassScoresModel::PredictedColumn), Qt::DisplayRole).toString(), QString());
    QCOMPARE(model.data(model.index(1, mls::ClassScoresModel::PredictedColumn), Qt::DisplayRole).toString(), QString("\u2713"));
    model.setSinglePositive(0);
    QCOMPARE(model.data(model.index(4, mls::ClassScoresModel::SinglePositiveColumn), Qt::DisplayRole).toString(), QString("\u25CF"));
    QCOMPARE(model.data(model.index(0, mls::ClassScoresModel::SinglePositiveColumn), Qt::DisplayRole).toString(), QString());
    QCOMPARE(model.rowOfClass(2), 2);
    QCOMPARE(model.rowOfClass(7), -1);
    model.clear();
    QCOMPARE(model.rowCount(), 0);
    QCOMPARE(model.classIdxAt(0), -1);
  }

  void noRunSaysTrainFirst() {
    QTemporaryDir other;
    mls::DemoOptions d;
    d.train = 20;
    d.val = 10;
    d.size = 32;
    const auto path = QString::fromStdString(mls::createDemoProject(other.path().toStdString(), d).project);
    mls::ProjectSession session;
    QVERIFY(session.open(path));
    mls::InspectPanel panel(&session);
    panel.resize(420, 640);
    panel.show();
    QCOMPARE(panel.runCombo()->count(), 0);
    QVERIFY2(panel.statusText().contains("Train a model first"), qPrintable(panel.statusText()));
    mls::ProjectStore store(path.toStdString());
    session.setCurrentImage(store.images({}, 0, 1).at(0).id);
    QVERIFY(!panel.isComputing());
    QVERIFY(panel.statusText().contains("Train a model first"));
    QCOMPARE(panel.scoresModel()->rowCount(), 0);
    QVERIFY(panel.currentOverlay().isNull());
  }

  void scoresSortedWithTruthAndThreshold() {
    mls::ProjectSession session;
    QVERIFY(session.open(project_));
    mls::InspectPanel panel(&session);
    QAbstractItemModelTester tester(panel.scoresModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    panel.resize(420, 640);
    panel.show();
    session.setCurrentRun(q2l_run_);
    QSignalSpy ready(&panel, &mls::InspectPanel::predictionReady);
    session.setCurrentImage(train_image_);
    QVERIFY(waitForScores(panel, ready));
    QCOMPARE(ready.last().at(0).toLongLong(), train_image_);
    QCOMPARE(ready.last().at(1).toLongLong(), q2l_run_);
    auto* model = panel.scoresModel();
    const int k = int(session.categories().size());
    QCOMPARE(k, 12);
    QCOMPARE(model->rowCount(), k);
    std::vector<double> scores;
    std::unordered_set<int> seen;
    for (int r = 0; r < k; ++r) {
      scores.push_back(model->data(model->index(r, 1), mls::ClassScoresModel::ScoreRole).toDouble());
      QVERIFY(scores.back() > 0.0 && scores.back() < 1.0);
      if (r > 0) QVERIFY(scores[r - 1] >= scores[r]);
      seen.insert(model->classIdxAt(r));
    }
    QCOMPARE(int(seen.size()), k);  // every class once

    // Ground truth and single positive columns match the store.
    mls::ProjectStore store(project_.toStdString());
    std::unordered_set<int> truth;
    for (auto id : store.labelsOf(train_image_)) truth.insert(session.categoryById(id)->idx);
    const int sp = session.categoryById(store.singlePositive(train_image_)->category_id)->idx;
    QVERIFY(!truth.empty());
    int gt_marks = 0, sp_marks = 0;
    for (int r = 0; r < k; ++r) {
      const bool gt = !model->data(model->index(r, mls::ClassScoresModel::GroundTruthColumn), Qt::DisplayRole).toString().isEmpty();
      const bool spm = !model->data(model->index(r, mls::ClassScoresModel::SinglePositiveColumn), Qt::DisplayRole).toString().isEmpty();
      QCOMPARE(gt, truth.count(model->classIdxAt(r)) > 0);
      QCOMPARE(spm, model->classIdxAt(r) == sp);
      gt_marks += gt;
      sp_marks += spm;
    }
    QCOMPARE(gt_marks, int(truth.size()));
    QCOMPARE(sp_marks, 1);

    // The threshold slider (default 0.5) decides the predicted count.
    QCOMPARE(panel.thresholdSlider()->value(), 50);
    QCOMPARE(panel.threshold(), 0.5);
    auto expected = [&](double t) { return int(std::count_if(scores.begin(), scores.end(), [t](double s) { return s >= t; })); };
    QCOMPARE(model->predictedCount(), expected(0.5));
    panel.thresholdSlider()->setValue(0);
    QCOMPARE(model->predictedCount(), k);
    panel.thresholdSlider()->setValue(100);
    QCOMPARE(model->predictedCount(), expected(1.0));
    QVERIFY(model->predictedCount() < k);
    // Halfway between the 3rd and 4th score (rounded to the slider's 0.01 steps) when they are apart.
    const double mid = std::round((scores[2] + scores[3]) / 2 * 100) / 100;
    panel.setThreshold(mid);
    QCOMPARE(model->predictedCount(), expected(mid));
    for (int r = 0; r < k; ++r)
      QCOMPARE(model->data(model->index(r, 0), Qt::BackgroundRole).isValid(), scores[r] >= mid);

    // A new single positive shows without recomputing.
    const int other = (sp + 1) % k;
    store.setSinglePositive(train_image_, session.categoryByIdx(other)->id, mls::AnnotationSource::User);
    session.notifyAnnotationChanged(train_image_);
    QVERIFY(!panel.isComputing());
    QCOMPARE(model->data(model->index(model->rowOfClass(other), mls::ClassScoresModel::SinglePositiveColumn), Qt::DisplayRole).toString(),
             QString("\u25CF"));
    QVERIFY(model->data(model->index(model->rowOfClass(sp), mls::ClassScoresModel::SinglePositiveColumn), Qt::DisplayRole).toString().isEmpty());
    store.setSinglePositive(train_image_, session.categoryByIdx(sp)->id, mls::AnnotationSource::User);
  }

  void attentionOverlayPerHeadAndOpacity() {
    mls::ProjectSession session;
    QVERIFY(session.open(project_));
    mls::InspectPanel panel(&session);
    panel.resize(420, 700);
    panel.show();
    session.setCurrentRun(q2l_run_);
    QSignalSpy ready(&panel, &mls::InspectPanel::predictionReady);
    QSignalSpy overlays(&panel, &mls::InspectPanel::overlayChanged);
    session.setCurrentImage(val_image_);
    QVERIFY(waitForScores(panel, ready));
    // With no label chosen yet, the top-scoring label's attention is shown.
    QVERIFY(!panel.currentOverlay().isNull());
    QCOMPARE(panel.selectedLabel(), panel.scoresModel()->classIdxAt(0));
    QCOMPARE(panel.headCount(), 4);            // Q2LConfig::smallCpu
    QCOMPARE(panel.headCombo()->count(), 5);   // mean + 4 heads

    // Clicking a row draws that label's attention.
    QTableView* view = panel.scoresView();
    const QRect cell = view->visualRect(panel.scoresModel()->index(1, 0));
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, cell.center());
    const int label = panel.scoresModel()->classIdxAt(1);
    QCOMPARE(panel.selectedLabel(), label);
    QImage mean = panel.currentOverlay();
    QVERIFY(!mean.isNull());
    QCOMPARE(mean.size(), QSize(64, 64));  // the image's size, not the model's 48 px input
    QVERIFY(overlays.count() >= 1);
    QCOMPARE(overlays.last().at(0).value<QImage>(), mean);
    QVERIFY(grayVariance(mean) > 0);
    QVERIFY(panel.attentionMessage().isEmpty());

    mls::ProjectStore store(project_.toStdString());
    const QImage plain(QString::fromStdString(store.imagePath(*store.image(val_image_))));
    QCOMPARE(plain.size(), mean.size());
    QVERIFY2(meanAbsDiff(mean, plain) > 10, qPrintable(QString::number(meanAbsDiff(mean, plain))));
    // Opacity 0 leaves the image itself (up to JPEG decoder rounding between OpenCV and Qt).
    panel.setOpacity(0.0);
    QVERIFY(meanAbsDiff(panel.currentOverlay(), plain) < 3);
    panel.opacitySlider()->setValue(80);
    const QImage strong = panel.currentOverlay();
    QVERIFY(meanAbsDiff(strong, plain) > meanAbsDiff(mean, plain));
    panel.setOpacity(0.5);
    QCOMPARE(panel.currentOverlay(), mean);

    // Heads: each head's map is its own; the mean is none of them.
    QCOMPARE(panel.attentionHead(), -1);
    std::vector<QImage> per_head;
    for (int h = 0; h < 4; ++h) {
      panel.headCombo()->setCurrentIndex(h + 1);
      QCOMPARE(panel.attentionHead(), h);
      per_head.push_back(panel.currentOverlay());
      QCOMPARE(per_head.back().size(), mean.size());
    }
    int distinct_from_mean = 0;
    for (const auto& img : per_head) distinct_from_mean += img != mean;
    QVERIFY(distinct_from_mean >= 3);
    QVERIFY(per_head[0] != per_head[1] || per_head[1] != per_head[2]);
    panel.setAttentionHead(-1);
    QCOMPARE(panel.currentOverlay(), mean);

    // Another label, another map.
    panel.selectLabel(panel.scoresModel()->classIdxAt(5));
    QVERIFY(panel.currentOverlay() != mean);

    // Stepping to another image keeps the label, clears the overlay while computing, then draws the new one.
    const int chosen = panel.selectedLabel();
    overlays.clear();
    session.setCurrentImage(val_image2_);
    QCOMPARE(overlays.count(), 1);
    QVERIFY(overlays.last().at(0).value<QImage>().isNull());
    QVERIFY(waitForScores(panel, ready));
    QCOMPARE(panel.selectedLabel(), chosen);
    QCOMPARE(overlays.count(), 2);
    QVERIFY(!panel.currentOverlay().isNull());
    QCOMPARE(view->selectionModel()->currentIndex().row(), panel.scoresModel()->rowOfClass(chosen));

    // Export writes the full-size overlay.
    const QString png = dir_.path() + "/overlay.png";
    QVERIFY(panel.exportButton()->isEnabled());
    QVERIFY(panel.exportOverlay(png));
    const QImage saved(png);
    QCOMPARE(saved.size(), QSize(64, 64));
    QCOMPARE(saved.convertToFormat(QImage::Format_RGB888), panel.currentOverlay().convertToFormat(QImage::Format_RGB888));
    QVERIFY(!panel.exportOverlay(QString()));

    // A look at the panel (offscreen) for the record, once the layout has settled.
    QApplication::processEvents();
    panel.grab().save(dir_.path() + "/inspect_panel.png");
    if (qEnvironmentVariableIsSet("MLS_INSPECT_SCREENSHOT"))
      panel.grab().save(qEnvironmentVariable("MLS_INSPECT_SCREENSHOT"));
  }

  void mlsplRunSaysNoDecoder() {
    mls::ProjectSession session;
    QVERIFY(session.open(project_));
    mls::InspectPanel panel(&session);
    panel.resize(420, 640);
    panel.show();
    QSignalSpy ready(&panel, &mls::InspectPanel::predictionReady);
    session.setCurrentImage(val_image_);
    // The session opened on the newest finished run: the MLSPL one.
    QCOMPARE(session.currentRun(), mlspl_run_);
    QVERIFY(waitForScores(panel, ready));
    QCOMPARE(panel.scoresModel()->rowCount(), 12);
    QVERIFY2(panel.attentionMessage().contains("no transformer decoder"), qPrintable(panel.attentionMessage()));
    panel.selectLabel(panel.scoresModel()->classIdxAt(0));
    QVERIFY(panel.currentOverlay().isNull());
    QVERIFY(panel.attentionMessage().contains("MLSPL"));
    QVERIFY(!panel.headCombo()->isEnabled());
    QVERIFY(!panel.exportButton()->isEnabled());
    QVERIFY(!panel.exportOverlay(dir_.path() + "/none.png"));
    QApplication::processEvents();
    if (qEnvironmentVariableIsSet("MLS_INSPECT_SCREENSHOT"))
      panel.grab().save(qEnvironmentVariable("MLS_INSPECT_SCREENSHOT") + ".mlspl.png");
  }

  void runChooserFollowsSession() {
    mls::ProjectSession session;
    QVERIFY(session.open(project_));
    mls::InspectPanel panel(&session);
    panel.resize(420, 640);
    panel.show();
    QComboBox* combo = panel.runCombo();
    QCOMPARE(combo->count(), 2);
    QCOMPARE(combo->itemData(0).toLongLong(), mlspl_run_);  // newest first
    QVERIFY(combo->itemText(1).contains("q2l-tiny"));
    QCOMPARE(combo->currentIndex(), 0);
    // Choosing in the combo sets the session's run...
    QSignalSpy run_changed(&session, &mls::ProjectSession::currentRunChanged);
    combo->setCurrentIndex(1);
    QCOMPARE(session.currentRun(), q2l_run_);
    QCOMPARE(run_changed.count(), 1);
    // ...and the session's run moves the combo.
    session.setCurrentRun(mlspl_run_);
    QCOMPARE(combo->currentIndex(), 0);
    // A run that is not finished (here: unknown) cannot be inspected.
    session.setCurrentRun(9999);
    QCOMPARE(combo->currentIndex(), -1);
    QVERIFY2(panel.statusText().contains("not finished"), qPrintable(panel.statusText()));
    // A new run appears after runsChanged.
    {
      mls::ProjectStore store(project_.toStdString());
      const auto id = store.createRun("later", "q2l", store.run(q2l_run_)->config, "");
      store.finishRun(id, mls::RunStatus::Finished, "", 50.0);
    }
    session.notifyRunsChanged();
    QCOMPARE(combo->count(), 3);
  }

  void rapidStepsEndOnTheLastImage() {
    mls::ProjectSession session;
    QVERIFY(session.open(project_));
    mls::InspectPanel panel(&session);
    panel.resize(420, 640);
    panel.show();
    session.setCurrentRun(q2l_run_);
    panel.selectLabel(3);
    QSignalSpy ready(&panel, &mls::InspectPanel::predictionReady);
    const qint64 ids[] = {val_image_, train_image_, val_image2_, val_image_, train_image_, val_image2_};
    for (qint64 id : ids) session.setCurrentImage(id);  // faster than the worker: older requests are skipped
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isComputing(), 60000);
    QVERIFY(ready.count() >= 1);
    for (const auto& args : ready) QCOMPARE(args.at(0).toLongLong(), val_image2_);  // only the last one is shown
    QCOMPARE(panel.scoresModel()->rowCount(), 12);
    QCOMPARE(panel.currentOverlay().size(), QSize(64, 64));
  }

  void hiddenPanelWaitsUntilShown() {
    mls::ProjectSession session;
    QVERIFY(session.open(project_));
    mls::InspectPanel panel(&session);
    session.setCurrentRun(q2l_run_);
    QSignalSpy ready(&panel, &mls::InspectPanel::predictionReady);
    session.setCurrentImage(val_image_);
    QVERIFY(!panel.isComputing());  // a hidden tab does no inference
    QCOMPARE(panel.scoresModel()->rowCount(), 0);
    panel.show();
    QVERIFY(waitForScores(panel, ready));
    QCOMPARE(panel.scoresModel()->rowCount(), 12);
  }

  // Issue 9.1: after opening a project, the previous one's scores and attention stayed in the Inspect tab.
  void openingAProjectClearsThePanel() {
    mls::ProjectSession session;
    // Like the image browser, which is built before the panel: it picks an image as soon as a project opens.
    QObject::connect(&session, &mls::ProjectSession::projectOpened, [&session, this] { session.setCurrentImage(val_image2_); });
    QVERIFY(session.open(project_));
    mls::InspectPanel panel(&session);
    panel.resize(420, 700);
    panel.show();
    QSignalSpy ready(&panel, &mls::InspectPanel::predictionReady);
    session.setCurrentRun(q2l_run_);
    QVERIFY(waitForScores(panel, ready));
    QCOMPARE(panel.scoresModel()->rowCount(), 12);
    QVERIFY(!panel.currentOverlay().isNull());
    QSignalSpy overlays(&panel, &mls::InspectPanel::overlayChanged);
    panel.hide();  // another tab is in front while the project changes
    QVERIFY(session.open(project_));
    QCOMPARE(panel.scoresModel()->rowCount(), 0);
    QVERIFY(panel.currentOverlay().isNull());
    QVERIFY(!overlays.isEmpty() && overlays.last().at(0).value<QImage>().isNull());  // the main view drops it too
    QCOMPARE(panel.selectedLabel(), -1);
    // A project without runs: nothing to choose, nothing shown.
    QTemporaryDir other;
    mls::DemoOptions d;
    d.train = 20;
    d.val = 10;
    d.size = 32;
    QVERIFY(session.open(QString::fromStdString(mls::createDemoProject(other.path().toStdString(), d).project)));
    QCOMPARE(panel.runCombo()->count(), 0);
    QCOMPARE(panel.scoresModel()->rowCount(), 0);
    // Back on the first project, shown again: its scores are computed afresh.
    QVERIFY(session.open(project_));
    session.setCurrentRun(q2l_run_);
    panel.show();
    QTRY_COMPARE_WITH_TIMEOUT(panel.scoresModel()->rowCount(), 12, 60000);
  }

  void runModelCacheLoadsOncePerCheckpoint() {
    mls::RunModelCache cache(2);
    const auto a = cache.get(project_.toStdString(), q2l_run_, "cpu");
    const auto b = cache.get(project_.toStdString(), q2l_run_, "cpu");
    QCOMPARE(a.get(), b.get());
    QCOMPARE(cache.loads(), 1);
    cache.get(project_.toStdString(), mlspl_run_, "cpu");
    QCOMPARE(cache.loads(), 2);
    QCOMPARE(int(cache.size()), 2);
    // A retrained run (its checkpoint file rewritten) loads again.
    namespace fs = std::filesystem;
    fs::last_write_time(a->checkpoint(), fs::last_write_time(a->checkpoint()) + std::chrono::seconds(5));
    const auto c = cache.get(project_.toStdString(), q2l_run_, "cpu");
    QVERIFY(c.get() != a.get());
    QCOMPARE(cache.loads(), 3);
    QVERIFY_THROWS_EXCEPTION(std::exception, cache.get(project_.toStdString(), 424242, "cpu"));
    cache.clear();
    QCOMPARE(int(cache.size()), 0);
  }
};

QTEST_MAIN(TestInspect)
#include "test_inspect.moc"
