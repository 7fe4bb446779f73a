// The name tables of the typed names (methods, losses, splits, annotation sources, run statuses, metric keys):
// every name round-trips, the names are exactly what existing project files store, unknown names are refused
// with the valid ones listed, and the engine's own lists (a method's losses) come from the tables.
#include <QtTest/QtTest>

#include <algorithm>
#include <functional>
#include <stdexcept>

#include "data/store/project_types.h"
#include "data/training/train_request.h"
#include "ml/loss_kind.h"
#include "ml/method.h"

using namespace mls;

namespace {

using Names = std::vector<std::string>;

// name -> enum -> name for every name, and the refusal of an unknown one, whose message lists them all.
template <class E>
void checkTable(const Names& names, const std::function<E(const std::string&)>& parse,
                const std::function<std::string(E)>& name, const std::string& expected_refusal) {
  for (const auto& n : names) QCOMPARE(name(parse(n)), n);
  try {
    parse("bogus");
    QFAIL("an unknown name was accepted");
  } catch (const std::invalid_argument& e) {
    QCOMPARE(std::string(e.what()), expected_refusal);
  }
}

}  // namespace

class TestNameTables : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void methods() {
    // Stored in runs.method and run configs: these strings never change.
    QCOMPARE(methodNames(), (Names{"q2l", "mlspl", "hybrid"}));
    QCOMPARE(allMethods().size(), methodNames().size());
    for (const Method m : allMethods()) QCOMPARE(parseMethod(methodName(m)), m);
    checkTable<Method>(methodNames(), parseMethod, methodName, "unknown method 'bogus' (expected q2l, mlspl or hybrid)");
  }

  void losses() {
    QCOMPARE(lossNames(), (Names{"bce", "an", "an-ls", "wan", "epr", "role", "focal", "asl"}));
    checkTable<LossKind>(lossNames(), parseLossKind, lossName,
                         "unknown loss 'bogus' (expected bce, an, an-ls, wan, epr, role, focal or asl)");
    // Every method trains with losses of the table, and every loss has a method.
    const Names all = lossNames();
    Names used;
    for (const Method m : allMethods())
      for (const auto& loss : lossesForMethod(m)) {
        QVERIFY2(std::count(all.begin(), all.end(), loss) == 1, loss.c_str());
        used.push_back(loss);
      }
    for (const auto& loss : all) QVERIFY2(std::count(used.begin(), used.end(), loss) >= 1, loss.c_str());
  }

  void splitsAndSources() {
    QCOMPARE(splitNames(), (Names{"train", "val", "test"}));
    checkTable<Split>(splitNames(), parseSplit, splitName, "unknown split 'bogus' (expected train, val or test)");
    QCOMPARE(sourceNames(), (Names{"user", "generated", "accepted-suggestion"}));
    checkTable<AnnotationSource>(sourceNames(), parseSource, sourceName,
                                 "unknown annotation source 'bogus' (expected user, generated or accepted-suggestion)");
  }

  void runStatuses() {
    // The runs table's CHECK(status IN ('running','finished','failed','cancelled')).
    QCOMPARE(runStatusNames(), (Names{"running", "finished", "failed", "cancelled"}));
    checkTable<RunStatus>(runStatusNames(), parseRunStatus, runStatusName,
                          "unknown run status 'bogus' (expected running, finished, failed or cancelled)");
  }

  void metricKeys() {
    QCOMPARE(metricNames(), (Names{"loss", "lr", "train_loss", "val_map", "val_map_raw", "val_map_ema", "val_map_mlspl",
                                   "val_map_q2l_voc", "cf1", "of1", "epoch_seconds"}));
    checkTable<MetricKey>(metricNames(), parseMetricKey, metricName,
                          "unknown metric 'bogus' (expected loss, lr, train_loss, val_map, val_map_raw, val_map_ema, "
                          "val_map_mlspl, val_map_q2l_voc, cf1, of1 or epoch_seconds)");
  }

  void runConfigsStoreTheMethodName() {
    TrainRequest r;
    r.method = Method::Hybrid;
    QVERIFY(r.toJson().find("\"method\":\"hybrid\"") != std::string::npos);
    QCOMPARE(TrainRequest::fromJson(r.toJson()).method, Method::Hybrid);
    QCOMPARE(TrainRequest::fromJson(R"({"method":"mlspl"})").method, Method::MLSPL);
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, TrainRequest::fromJson(R"({"method":"svm"})"));
  }
};

QTEST_APPLESS_MAIN(TestNameTables)
#include "test_name_tables.moc"
