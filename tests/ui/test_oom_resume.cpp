// The out-of-memory offer of the Train tab ("Resume with a configuration that fits") on a real run: a run
// trained one epoch and then recorded as failed with the trainer's out-of-memory message (a real OOM cannot be
// provoked on the CPU), the offer appears, the planner's fitted request keeps the effective batch and fits a
// budget the stored configuration exceeds, and resuming with it continues the run to its end.
#include <QPushButton>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "data/store/project_store.h"
#include "data/training/run_plan.h"
#include "data/training/training_session.h"
#include "demo_generator.h"
#include "ml/planning/resource_planner.h"
#include "train/oom_resume.h"

using namespace mls;

namespace {

// What the trainer says when CUDA runs out of memory (Trainer::Impl::translate).
const QString kOutOfMemory = QStringLiteral(
    "out of memory at epoch 2 step 1. Try a smaller batch size (keep the effective batch with --grad-accum N), "
    "mixed precision (--amp), activation checkpointing of the backbone (--checkpoint-backbone) or a smaller image size.");

int64_t plannedPeak(TrainRequest request, const PlanDataset& data) {
  request.resolveDefaults();
  ResourcePlanner planner(planningModel(request, data.num_classes));
  return planner.plan(planSettingsFor(request, data)).peak_bytes;
}

}  // namespace

class TestOomResume : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string project_;

 private Q_SLOTS:
  void initTestCase() {
    DemoOptions d;
    d.train = 48;
    d.val = 16;
    d.size = 32;
    project_ = createDemoProject((dir_.path() + "/demo").toStdString(), d).project;
  }

  void offerOnlyForOutOfMemory() {
    OomResume offer;
    QVERIFY(offer.button()->isHidden());
    offer.noteFailure(3, QStringLiteral("no training image could be read"));
    QCOMPARE(offer.run(), 0);
    QVERIFY(offer.button()->isHidden());
    offer.noteFailure(3, kOutOfMemory);
    QCOMPARE(offer.run(), 3);
    QVERIFY(!offer.button()->isHidden());
    offer.clear();
    QCOMPARE(offer.run(), 0);
    QVERIFY(offer.button()->isHidden());
  }

  void resumesAFailedRunWithAConfigurationThatFits() {
    TrainRequest r;
    r.project = project_;
    r.method = Method::Q2L;
    r.backbone = "tiny";
    r.image_size = 32;
    r.batch = 16;
    r.epochs = 1;
    r.device = "cpu";
    r.workers = 1;
    const auto first = TrainingSession(r).run();
    QVERIFY(first.run_id > 0);
    {
      ProjectStore store(project_, ProjectStore::Open::Existing);
      QVERIFY(!store.existingCheckpoints(first.run_id).empty());
      store.finishRun(first.run_id, RunStatus::Failed, kOutOfMemory.toStdString(), std::nullopt);
    }

    OomResume offer;
    offer.noteFailure(first.run_id, kOutOfMemory);
    QVERIFY(!offer.button()->isHidden());

    // A budget the stored configuration (batch 16, nothing saved) exceeds, but batch 8 x 2 fits.
    PlanDataset data;
    data.num_classes = 12;
    data.train_images = 48;
    TrainRequest halves = r;
    halves.batch = 8;
    halves.grad_accum = 2;
    const int64_t budget = plannedPeak(halves, data) + 1024;
    QVERIFY(plannedPeak(r, data) > budget);
    ProjectStore store(project_, ProjectStore::Open::Existing);
    QString error;
    auto fitted = offer.fittedRequest(store, "cpu", budget, &error);
    QVERIFY2(fitted.has_value(), qPrintable(error));
    QCOMPARE(fitted->resume, std::to_string(first.run_id));
    QCOMPARE(fitted->batch * fitted->grad_accum, 16);
    QVERIFY(fitted->batch < 16 || fitted->checkpoint_backbone);
    QVERIFY2(plannedPeak(*fitted, data) <= budget, qPrintable(offer.describe(*fitted)));
    QVERIFY(offer.describe(*fitted).contains(QStringLiteral("--grad-accum")));

    // Nothing fits a budget below the weights: a clear reason, no request.
    QVERIFY(!offer.fittedRequest(store, "cpu", 1024, &error).has_value());
    QVERIFY(!error.isEmpty());

    // The resumed run (one more epoch) continues from the checkpoint and ends finished.
    fitted->epochs = 2;
    fitted->project = project_;  // as the panel's start does: the stored config does not name the file
    const auto resumed = TrainingSession(*fitted).run();
    QCOMPARE(resumed.run_id, first.run_id);
    QVERIFY(!resumed.cancelled);
    const auto record = store.run(first.run_id);
    QVERIFY(record.has_value());
    QCOMPARE(record->status, RunStatus::Finished);
    const auto stored = TrainRequest::fromJson(record->config);
    QCOMPARE(stored.batch * stored.grad_accum, 16);
  }
};

QTEST_MAIN(TestOomResume)
#include "test_oom_resume.moc"
