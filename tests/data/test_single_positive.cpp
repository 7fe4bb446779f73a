// Single-positive generation: one of the image's labels, reproducible for a seed, respects user annotations.
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "data/labels/single_positive_generator.h"
#include "data/store/project_store.h"

using namespace mls;

class TestSinglePositive : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  int n_ = 0;

  std::unique_ptr<ProjectStore> makeProject() {
    auto s = std::make_unique<ProjectStore>((dir_.path() + QString("/p%1.mlsproj").arg(n_++)).toStdString());
    std::vector<Category> cats;
    for (int c = 1; c <= 6; ++c) cats.push_back({c, "c" + std::to_string(c), "", 0});
    std::vector<NewImage> images;
    std::vector<std::pair<int64_t, int64_t>> labels;
    for (int i = 1; i <= 300; ++i) {
      images.push_back({i, "f" + std::to_string(i), 1, 1, i <= 250 ? Split::Train : Split::Val, false});
      if (i % 50 == 0) continue;  // some train images without labels
      for (int c = 1; c <= 6; ++c)
        if ((i * 7 + c * 3) % 4 == 0 || c == 1 + i % 6) labels.emplace_back(i, c);
    }
    s->importCollection(".", cats, images, labels);
    return s;
  }

 private Q_SLOTS:
  void eachIsOneOfTheLabels() {
    auto s = makeProject();
    const auto r = generateSinglePositives(*s, 1200);
    QCOMPARE(r.candidates, 245);
    QCOMPARE(r.written, 245);
    for (const auto& [id, sp] : s->singlePositives()) {
      const auto labels = s->labelsOf(id);
      QVERIFY(std::find(labels.begin(), labels.end(), sp.category_id) != labels.end());
      QVERIFY(id <= 250);  // train only
      QVERIFY(sp.source == AnnotationSource::Generated);
    }
    QVERIFY(!s->singlePositive(50));  // no labels -> none
  }

  void reproducibleAndSeedDependent() {
    auto a = makeProject();
    auto b = makeProject();
    generateSinglePositives(*a, 1200);
    generateSinglePositives(*b, 1200);
    int differ_seed = 0;
    for (const auto& [id, sp] : a->singlePositives()) QCOMPARE(b->singlePositive(id)->category_id, sp.category_id);
    generateSinglePositives(*b, 99);
    for (const auto& [id, sp] : a->singlePositives()) differ_seed += b->singlePositive(id)->category_id != sp.category_id;
    QVERIFY(differ_seed > 20);
  }

  void choiceIsRoughlyUniform() {
    auto s = makeProject();
    // Count how often the first (smallest) label is picked for images with exactly 2 labels.
    int two = 0, first = 0;
    for (uint64_t seed = 0; seed < 8; ++seed) {
      generateSinglePositives(*s, seed);
      for (const auto& [id, sp] : s->singlePositives()) {
        const auto l = s->labelsOf(id);
        if (l.size() != 2) continue;
        ++two;
        first += sp.category_id == std::min(l[0], l[1]);
      }
    }
    QVERIFY(two > 100);
    const double frac = double(first) / two;
    QVERIFY2(frac > 0.4 && frac < 0.6, qPrintable(QString::number(frac)));
  }

  void keepsUserAnnotationsUnlessOverwrite() {
    auto s = makeProject();
    const auto l = s->labelsOf(7);
    s->setSinglePositive(7, l.back(), AnnotationSource::User);
    s->setSinglePositive(8, 6, AnnotationSource::AcceptedSuggestion);
    auto r = generateSinglePositives(*s, 5);
    QCOMPARE(r.kept_user, 2);
    QCOMPARE(s->singlePositive(7)->source, AnnotationSource::User);
    QCOMPARE(s->singlePositive(7)->category_id, l.back());
    QCOMPARE(s->singlePositive(8)->category_id, 6);
    r = generateSinglePositives(*s, 5, true);
    QCOMPARE(r.kept_user, 0);
    QCOMPARE(s->singlePositive(7)->source, AnnotationSource::Generated);
  }
};

QTEST_GUILESS_MAIN(TestSinglePositive)
#include "test_single_positive.moc"
