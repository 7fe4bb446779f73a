// TrainRequest -> resource plan: the settings the planner sees (the session's optimizer choices, ROLE's
// estimator sized by the training set), the model with the run's frozen layout even without its weights file,
// and the resume that fits after running out of memory.
#include <QtTest/QtTest>

#include "data/training/run_plan.h"
#include "ml/models/multilabel_model.h"
#include "ml/planning/resource_planner.h"

using namespace mls;

class TestRunPlan : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void settingsFollowTheRequest() {
    TrainRequest r;
    r.method = Method::MLSPL;
    r.loss = "role";
    r.labels = "single";
    r.backbone = "resnet50";
    r.device = "cuda";
    r.amp_dtype = "bf16";
    r.amp = true;
    r.resolveDefaults();
    PlanDataset data;
    data.num_classes = 80;
    data.train_images = 1000;
    const auto s = planSettingsFor(r, data);
    QCOMPARE(s.optimizer, std::string("adam"));
    QCOMPARE(s.weight_decay, 0.0);
    QCOMPARE(s.label_estimator_elements, int64_t{80 * 1000});
    QVERIFY(s.halfPrecision());
    QCOMPARE(s.batch, int64_t(r.batch));
    QCOMPARE(s.image_size, int64_t(r.image_size));
  }

  // A weights file that is not on this machine still plans the pretrained layout (frozen BN, frozen stem).
  void pretrainedLayoutWithoutTheFile() {
    TrainRequest r;
    r.method = Method::Q2L;
    r.backbone = "resnet50";
    r.weights = "/not/here/r50.pt";
    r.resolveDefaults();
    auto with = planningModel(r, 20);
    r.weights.clear();
    auto without = planningModel(r, 20);
    auto trainable = [](MultiLabelModel& m) {
      int64_t n = 0;
      for (const auto& p : m.parameters()) n += p.requires_grad() ? p.numel() : 0;
      return n;
    };
    QVERIFY(trainable(*with) < trainable(*without));  // conv1 + layer1 frozen
  }

  void resumeThatFits() {
    TrainRequest r;
    r.method = Method::Q2L;
    r.backbone = "resnet50";
    r.weights = "r50.pt";
    r.device = "cuda";
    r.batch = 64;
    r.image_size = 448;
    r.resolveDefaults();
    PlanDataset data;
    data.num_classes = 80;
    data.train_images = 5000;
    const int64_t budget = int64_t{12} << 30;
    const auto fitted = fittedResume(r, 7, data, budget);
    QCOMPARE(fitted.resume, std::string("7"));
    QCOMPARE(fitted.batch * fitted.grad_accum, 64);
    QVERIFY(fitted.batch < 64 || fitted.amp || fitted.checkpoint_backbone);  // plain batch 64 does not fit 12 GiB
    ResourcePlanner planner(planningModel(fitted, 80));
    QVERIFY(planner.plan(planSettingsFor(fitted, data)).peak_bytes <= budget);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, fittedResume(r, 7, data, int64_t{100} << 20));
  }
};

QTEST_GUILESS_MAIN(TestRunPlan)
#include "test_run_plan.moc"
