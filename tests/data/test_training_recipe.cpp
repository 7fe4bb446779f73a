// The training recipe: what each method's request turns into (optimizer, schedule, loss, augmentation, the
// model spec, LinearInit), as the Query2Label and MLSPL authors' code train.
#include <QtTest/QtTest>

#include <stdexcept>

#include "data/training/training_recipe.h"
#include "ml/losses.h"

using namespace mls;

namespace {

TrainRequest resolved(const std::string& method, const std::string& loss, const std::string& labels,
                      const std::string& backbone, const std::string& weights = {}) {
  TrainRequest r;
  r.method = parseMethod(method);
  r.loss = loss;
  r.labels = labels;
  r.backbone = backbone;
  r.weights = weights;
  r.resolveDefaults();
  return r;
}

ProjectFacts facts(int num_classes, std::optional<double> mean_positives = std::nullopt) {
  ProjectFacts f;
  f.num_classes = num_classes;
  f.mean_train_positives = mean_positives;
  return f;
}

}  // namespace

class TestTrainingRecipe : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void mlsplFollowsTheAuthorsCode() {
    const auto r = resolved("mlspl", "role", "single", "resnet50", "r50.pt");
    const auto recipe = trainingRecipe(r, facts(80, 2.5));
    QCOMPARE(recipe.trainer.optimizer, std::string("adam"));
    QCOMPARE(recipe.trainer.weight_decay, 0.0);
    QCOMPARE(recipe.trainer.schedule, std::string("constant"));
    QCOMPARE(recipe.trainer.lr, 1e-5);
    QCOMPARE(recipe.trainer.epochs, 10);
    QCOMPARE(recipe.trainer.ema_decay, 0.0);
    QCOMPARE(recipe.trainer.early_stop_patience, 0);
    QVERIFY(recipe.trainer.loss.kind == LossKind::ROLE);
    QCOMPARE(recipe.trainer.loss.expected_positives, 2.5);  // the project's labels
    // Horizontal flips only.
    QVERIFY(recipe.train_augmentation.horizontal_flip);
    QVERIFY(!recipe.train_augmentation.cutout && !recipe.train_augmentation.rand_augment);
    QVERIFY(!recipe.train_augmentation.dihedral);
    QCOMPARE(recipe.model.method, Method::MLSPL);
    QCOMPARE(recipe.model.num_classes, 80);
    QCOMPARE(recipe.model.image_size, 448);
    QVERIFY(!recipe.model.frozen_bn && !recipe.model.freeze_stem);  // trainable BatchNorm, nothing frozen
    QCOMPARE(recipe.linear_init.epochs, 0);
  }

  void query2labelFollowsTheAuthorsCode() {
    const auto r = resolved("q2l", "asl", "full", "resnet101", "r101.pt");
    const auto recipe = trainingRecipe(r, facts(80));
    QCOMPARE(recipe.trainer.optimizer, std::string("adamw"));
    QCOMPARE(recipe.trainer.weight_decay, 1e-2);
    QCOMPARE(recipe.trainer.schedule, std::string("onecycle"));
    QCOMPARE(recipe.trainer.lr, 1e-4);
    QCOMPARE(recipe.trainer.ema_decay, 0.9997);
    QCOMPARE(recipe.trainer.early_stop_patience, 8);
    // ASL as Q2L's COCO command.
    const auto coco = LossConfig::q2lCoco();
    QVERIFY(recipe.trainer.loss.kind == LossKind::ASL);
    QCOMPARE(recipe.trainer.loss.asl_gamma_neg, coco.asl_gamma_neg);
    QCOMPARE(recipe.trainer.loss.asl_gamma_pos, coco.asl_gamma_pos);
    QCOMPARE(recipe.trainer.loss.asl_clip, coco.asl_clip);
    QCOMPARE(recipe.trainer.loss.asl_eps, coco.asl_eps);
    QVERIFY(recipe.trainer.loss.asl_q2l_normalization);
    // Cutout + RandAugment, no flips.
    QVERIFY(recipe.train_augmentation.cutout && recipe.train_augmentation.rand_augment);
    QVERIFY(!recipe.train_augmentation.horizontal_flip);
    QVERIFY(!recipe.model.small_q2l);
    QVERIFY(recipe.model.frozen_bn && recipe.model.freeze_stem);  // the official R101 setup
    QCOMPARE(recipe.model.weights, std::string("r101.pt"));
  }

  void hybridTrainsWithTheQuery2LabelRecipe() {
    const auto r = resolved("hybrid", "epr", "single", "resnet50");
    const auto recipe = trainingRecipe(r, facts(20));
    QCOMPARE(recipe.trainer.optimizer, std::string("adamw"));
    QCOMPARE(recipe.trainer.schedule, std::string("onecycle"));
    QVERIFY(recipe.train_augmentation.cutout && recipe.train_augmentation.rand_augment);
    QVERIFY(recipe.trainer.loss.kind == LossKind::EPR);
    QCOMPARE(recipe.trainer.loss.expected_positives, 2.9);  // no full labels: COCO's value
  }

  void tinyBackboneGetsTheSyntheticShapesAugmentation() {
    for (const char* method : {"q2l", "mlspl"}) {
      const auto r = resolved(method, "bce", "full", "tiny");
      const auto recipe = trainingRecipe(r, facts(5));
      QVERIFY(recipe.train_augmentation.dihedral && recipe.train_augmentation.horizontal_flip);
      QVERIFY(!recipe.train_augmentation.cutout && !recipe.train_augmentation.rand_augment);
      QVERIFY(recipe.model.small_q2l);
      QCOMPARE(recipe.model.image_size, 64);
    }
  }

  void expectedPositivesComeFromTheRequestTheLabelsOrCoco() {
    auto r = resolved("mlspl", "epr", "single", "tiny");
    QCOMPARE(trainingRecipe(r, facts(5, 1.5)).trainer.loss.expected_positives, 1.5);
    QCOMPARE(trainingRecipe(r, facts(5)).trainer.loss.expected_positives, 2.9);
    r.expected_positives = 3.25;
    QCOMPARE(trainingRecipe(r, facts(5, 1.5)).trainer.loss.expected_positives, 3.25);
    // Losses without k ignore the labels.
    const auto an = resolved("mlspl", "an", "single", "tiny");
    QCOMPARE(expectedPositives(an, facts(5, 1.5)), 2.9);
  }

  void linearInitIsAnMlsplPhase() {
    auto r = resolved("mlspl", "role", "single", "resnet50");
    r.linear_init = 25;
    const auto recipe = trainingRecipe(r, facts(80));
    QCOMPARE(recipe.linear_init.epochs, 25);
    // The MLSPL code's linear_init_params for COCO: ROLE lr 1e-3 batch 16, AN-LS (and the others) 1e-4 batch 8,
    // whatever the fine-tuning lr.
    QCOMPARE(recipe.linear_init.lr, 1e-3);
    QCOMPARE(recipe.linear_init.batch, 16);
    auto an = resolved("mlspl", "an-ls", "single", "resnet50");
    an.linear_init = 25;
    an.lr = 1e-2;
    const auto an_recipe = trainingRecipe(an, facts(80));
    QCOMPARE(an_recipe.linear_init.lr, 1e-4);
    QCOMPARE(an_recipe.linear_init.batch, 8);

    auto q2l = resolved("q2l", "asl", "full", "resnet50");
    q2l.linear_init = 5;
    try {
      trainingRecipe(q2l, facts(80));
      QFAIL("expected std::invalid_argument");
    } catch (const std::invalid_argument& e) {
      QCOMPARE(std::string(e.what()), std::string("--linear-init applies to --method mlspl only"));
    }
  }

  void userSettingsReachTheTrainer() {
    TrainRequest r;
    r.method = Method::Q2L;
    r.backbone = "resnet18";
    r.grad_accum = 4;
    r.amp = true;
    r.amp_dtype = "bf16";
    r.checkpoint_backbone = true;
    r.channels_last = true;
    r.profile = true;
    r.device = "cpu";
    r.seed = 7;
    r.early_stop = 3;
    r.ema = 0.5;
    r.resolveDefaults();
    const auto opt = trainingRecipe(r, facts(3)).trainer;
    QCOMPARE(opt.grad_accum, 4);
    QVERIFY(opt.amp && opt.amp_dtype == "bf16");
    QVERIFY(opt.checkpoint_backbone && opt.channels_last && opt.profile_steps);
    QCOMPARE(opt.device, std::string("cpu"));
    QCOMPARE(opt.seed, uint64_t(7));
    QCOMPARE(opt.early_stop_patience, 3);
    QCOMPARE(opt.ema_decay, 0.5);
    QVERIFY(opt.checkpoint_dir.empty());  // the run record's, set by the session
  }
};

QTEST_APPLESS_MAIN(TestTrainingRecipe)
#include "test_training_recipe.moc"
