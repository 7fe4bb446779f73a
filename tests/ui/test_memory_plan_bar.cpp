// The Train form's memory plan (offscreen): the bar and the epoch time follow the settings, the tooltip lists
// every item, and "Fit to this device" writes a configuration that fits back into the form.
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QtTest/QtTest>

#include "ml/planning/plan_types.h"
#include "train/memory_plan_bar.h"
#include "train/train_form.h"
#include "train/train_presets.h"

using namespace mls;

namespace {

// Waits until the bar shows a plan for the form's current settings.
bool waitForPlan(MemoryPlanBar* bar) {
  QSignalSpy spy(bar, &MemoryPlanBar::planned);
  for (int i = 0; i < 600 && (bar->isPlanning() || !bar->plan()); ++i) spy.wait(100);
  return !bar->isPlanning() && bar->plan().has_value();
}

}  // namespace

class TestMemoryPlanBar : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void followsTheSettingsAndFits() {
    TrainForm form;
    auto* bar = form.memoryPlanBar();
    QVERIFY(bar);
    bar->setDataset(12, 2000);
    form.applyPreset(trainPresetIndex(QStringLiteral("CPU demo")));
    QVERIFY(waitForPlan(bar));
    const auto first = *bar->plan();
    QVERIFY(first.peak_bytes > 0);
    QVERIFY(bar->budget() > 0);  // the machine's memory on the CPU
    QVERIFY2(bar->bar()->text().contains(QStringLiteral(" of ")), qPrintable(bar->bar()->text()));
    for (const char* item : {"Weights", "Gradients", "Optimizer state", "Activations for backward", "Largest transient"})
      QVERIFY2(bar->bar()->toolTip().contains(QLatin1String(item)), qPrintable(bar->bar()->toolTip()));
    QVERIFY2(bar->timeLabel()->text().contains(QStringLiteral("per epoch")), qPrintable(bar->timeLabel()->text()));

    // A larger batch: a larger predicted peak, a fuller bar.
    const TrainRequest before = form.request();
    TrainRequest bigger = before;
    bigger.batch = before.batch * 4;
    form.setRequest(bigger);
    QVERIFY(waitForPlan(bar));
    QVERIFY(bar->plan()->peak_bytes > first.peak_bytes);
    QCOMPARE(bar->plan()->settings.batch, int64_t(bigger.batch));

    // A budget the current settings exceed: the bar says so, and Fit applies a configuration that fits.
    const qint64 budget = bar->plan()->peak_bytes * 85 / 100;
    bar->setBudgetOverride(budget);
    QVERIFY(waitForPlan(bar));
    QVERIFY2(bar->bar()->text().contains(QStringLiteral("does not fit")), qPrintable(bar->bar()->text()));
    QVERIFY(bar->fitButton()->isEnabled());
    QTest::mouseClick(bar->fitButton(), Qt::LeftButton);
    const TrainRequest fitted = form.request();
    QCOMPARE(fitted.batch * fitted.grad_accum, bigger.batch * bigger.grad_accum);
    QVERIFY(fitted.batch != bigger.batch || fitted.checkpoint_backbone != bigger.checkpoint_backbone ||
            fitted.channels_last != bigger.channels_last);
    QVERIFY(waitForPlan(bar));
    QVERIFY(bar->plan()->peak_bytes <= budget);
    QVERIFY(!bar->bar()->text().contains(QStringLiteral("does not fit")));
  }

  // Several processes: the bar plans one of them (its share of the global batch), and a fit gives the global
  // batch back.
  void plansOneOfSeveralProcesses() {
    TrainForm form;
    auto* bar = form.memoryPlanBar();
    bar->setDataset(12, 2000);
    form.applyPreset(trainPresetIndex(QStringLiteral("CPU demo")));
    form.setProcesses(2);
    if (form.processes() < 2) QSKIP("this machine offers one process only (one core)");
    TrainRequest r = form.request();
    r.batch = 32;
    r.grad_accum = 1;
    form.setRequest(r);
    QVERIFY(waitForPlan(bar));
    QCOMPARE(bar->plan()->settings.batch, int64_t(16));
    bar->setBudgetOverride(bar->plan()->peak_bytes * 85 / 100);
    QVERIFY(waitForPlan(bar));
    QVERIFY(bar->fitButton()->isEnabled());
    QTest::mouseClick(bar->fitButton(), Qt::LeftButton);
    const TrainRequest fitted = form.request();
    QCOMPARE(fitted.batch * fitted.grad_accum, 32);
    QCOMPARE(fitted.batch % 2, 0);
    QVERIFY(waitForPlan(bar));
    QCOMPARE(bar->plan()->settings.batch, int64_t(fitted.batch / 2));
  }

  void unknownBackboneSaysWhy() {
    TrainForm form;
    auto* bar = form.memoryPlanBar();
    form.applyPreset(trainPresetIndex(QStringLiteral("CPU demo")));
    QVERIFY(waitForPlan(bar));
    form.setTorchScriptBackbone(QStringLiteral("/nonexistent/backbone.pt"));
    QSignalSpy spy(bar, &MemoryPlanBar::planned);
    for (int i = 0; i < 300 && (bar->isPlanning() || bar->plan()); ++i) spy.wait(100);
    QVERIFY(!bar->plan());
    QVERIFY(bar->timeLabel()->text().startsWith(QStringLiteral("No plan: ")));
    QVERIFY(!bar->fitButton()->isEnabled());
  }
};

QTEST_MAIN(TestMemoryPlanBar)
#include "test_memory_plan_bar.moc"
