// The report of images a run could not read: count plus the first few by name and reason, the same from
// every loader (issue 11 §4.6).
#include "data/pipeline/image_batch_source.h"
#include "data/training/skipped_images.h"

#include <QtTest/QtTest>

using namespace mls;

namespace {

std::vector<ImageSample> missingSamples(const std::vector<std::string>& paths) {
  std::vector<ImageSample> out;
  for (size_t i = 0; i < paths.size(); ++i) out.push_back({paths[i], {1.0f}, static_cast<int64_t>(i)});
  return out;
}

void drain(ImageBatchSource& source) {
  source.startEpoch(0);
  while (source.next()) {
  }
}

}  // namespace

class TestSkippedImages : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void describesByFileNameAndReason() {
    QCOMPARE(describeSkip("/data/img: x/a.jpg: image file not found: /data/img: x/a.jpg"),
             std::string("a.jpg (image file not found)"));
    QCOMPARE(describeSkip("/d/b.jpg: image too large to decode (30000x30000 pixels, limit 100 megapixels): /d/b.jpg"),
             std::string("b.jpg (image too large to decode (30000x30000 pixels, limit 100 megapixels))"));
    QCOMPARE(describeSkip("something else"), std::string("something else"));
  }

  void countsEachImageOnceAcrossLoaders() {
    ImageBatchSource train(missingSamples({"/nowhere/t1.jpg", "/nowhere/t2.jpg", "/nowhere/t3.jpg", "/nowhere/t4.jpg"}),
                           16, 2, false, {}, 0, 0);
    ImageBatchSource val(missingSamples({"/nowhere/v1.jpg"}), 16, 8, false, {}, 0, 0);
    drain(train);
    drain(val);
    SkippedImages none;
    QCOMPARE(none.count(), int64_t(0));
    QVERIFY(none.summary().empty());

    SkippedImages skipped;
    skipped.addDisjoint(train);
    skipped.addDisjoint(val);
    QCOMPARE(skipped.count(), int64_t(5));
    // The pass over every image meets the same files again: still five.
    ImageBatchSource all(missingSamples({"/nowhere/t1.jpg", "/nowhere/t2.jpg", "/nowhere/t3.jpg", "/nowhere/t4.jpg",
                                         "/nowhere/v1.jpg"}),
                         16, 64, false, {}, 0, 0);
    drain(all);
    skipped.addCovering(all);
    QCOMPARE(skipped.count(), int64_t(5));
    const QString summary = QString::fromStdString(skipped.summary());
    QVERIFY2(summary.startsWith("5 images could not be read and were skipped: t1.jpg (image file not found), "),
             qPrintable(summary));
    QVERIFY2(summary.endsWith(", …"), qPrintable(summary));
    QVERIFY(!summary.contains('\n'));
  }
};

QTEST_GUILESS_MAIN(TestSkippedImages)
#include "test_skipped_images.moc"
