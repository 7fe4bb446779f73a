// COCO import: the demo json, a hand-made file, val-fraction split, and every bad-input case.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest/QtTest>

#include "data/coco/coco_import.h"
#include "data/coco/coco_reader.h"
#include "data/coco/project_export.h"
#include "data/store/project_identity.h"
#include "data/store/project_store.h"
#include "data/store/sqlite_db.h"
#include "demo_generator.h"

using namespace mls;

namespace {
const char* kSmall = R"({
 "images": [{"id": 1, "file_name": "a.jpg", "width": 10, "height": 8},
            {"id": 2, "file_name": "b.jpg", "width": 10, "height": 8},
            {"id": 3, "file_name": "c.jpg"}],
 "categories": [{"id": 5, "name": "person", "supercategory": "human"}, {"id": 7, "name": "dog"}],
 "annotations": [{"id": 100, "image_id": 1, "category_id": 5, "bbox": [0,0,1,1], "iscrowd": 0},
                 {"id": 101, "image_id": 1, "category_id": 5, "iscrowd": 1},
                 {"id": 102, "image_id": 1, "category_id": 7},
                 {"id": 103, "image_id": 2, "category_id": 7, "segmentation": [[1,2,3,4,5,6]]}]
})";
}  // namespace

class TestCocoImport : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString images_;

  std::string write(const char* name, const std::string& text) {
    const QString p = dir_.path() + "/" + name;
    QFile f(p);
    f.open(QIODevice::WriteOnly);
    f.write(text.data(), static_cast<qint64>(text.size()));
    return p.toStdString();
  }
  std::string project(const char* name) { return (dir_.path() + "/" + name).toStdString(); }

  // Expects import of `json` to fail with a message containing `needle`, leaving the project unchanged.
  void expectFailure(const std::string& json, const std::string& needle) {
    ProjectStore store(project("fail.mlsproj"));
    const auto before = store.counts();
    CocoImportOptions opt;
    opt.annotations = write("bad.json", json);
    opt.images = images_.toStdString();
    try {
      importCoco(store, opt);
      QFAIL(("import should have failed: " + needle).c_str());
    } catch (const std::exception& e) {
      const std::string msg = e.what();
      QVERIFY2(msg.find(needle) != std::string::npos, msg.c_str());
      QVERIFY2(msg.find('\n') == std::string::npos, "error message must be one line");
    }
    const auto after = store.counts();
    QCOMPARE(after.train, before.train);
    QCOMPARE(after.labels, before.labels);
    QCOMPARE(after.categories, before.categories);
  }

 private Q_SLOTS:
  void initTestCase() {
    images_ = dir_.path() + "/imgs";
    QDir().mkpath(images_);
    for (const char* n : {"a.jpg", "b.jpg"}) QFile(images_ + "/" + n).open(QIODevice::WriteOnly);
  }

  void handMadeFile() {
    ProjectStore store(project("small.mlsproj"));
    CocoImportOptions opt;
    opt.annotations = write("small.json", kSmall);
    opt.images = images_.toStdString();
    const auto r = importCoco(store, opt);
    QCOMPARE(r.images, 3);
    QCOMPARE(r.annotations, 4);
    QCOMPARE(r.labels, 3);  // (1,5) crowd duplicate collapses, (1,7), (2,7)
    QCOMPARE(r.missing_files.size(), size_t(1));
    QCOMPARE(r.missing_files[0], std::string("c.jpg"));
    const auto c = store.counts();
    QCOMPARE(c.labels, 3);
    QCOMPARE(c.missing_files, 1);
    QCOMPARE(store.labelsOf(3).size(), size_t(0));  // kept, no labels
    QCOMPARE(store.category(5)->supercategory, std::string("human"));
    QCOMPARE(store.category(7)->idx, 1);
    // Re-importing the same images is a duplicate -> error, nothing changes.
    QVERIFY_THROWS_EXCEPTION(DatabaseError, importCoco(store, opt));
    QCOMPARE(store.counts().train, 3);
  }

  void demoJsonAndExport() {
    DemoOptions d;
    d.train = 40;
    d.val = 10;
    d.size = 64;
    const auto ds = generateDemoDataset((dir_.path() + "/demo").toStdString(), d);
    ProjectStore store(project("demo.mlsproj"));
    CocoImportOptions opt;
    opt.annotations = ds.train_json;
    opt.images = ds.images_dir;
    opt.val_fraction = 0.25;
    const auto r = importCoco(store, opt);
    QCOMPARE(r.images, 40);
    QCOMPARE(r.moved_to_val, 10);
    QVERIFY(r.missing_files.empty());
    QCOMPARE(store.counts().val, 10);
    QCOMPARE(store.counts().categories, 12);
    // Every image has 1-4 objects, so at least one label.
    QCOMPARE(static_cast<int>(store.labelsBySplit(Split::Train).size()), 30);
    const auto csv = (dir_.path() + "/out.csv").toStdString();
    QCOMPARE(exportCsv(store, csv), 40);
    QFile f(QString::fromStdString(csv));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readLine().trimmed(), QByteArray("image_id,file_name,split,single_positive,labels"));
  }

  // file_name is joined to the images folder: names that climb out of it or are absolute are not imported
  // (nor their labels), and the report names them; even an existing file outside is not taken as present.
  void namesLeavingTheImagesFolderAreRefused() {
    QDir(dir_.path()).mkpath("outside");
    QFile(dir_.path() + "/outside/x.jpg").open(QIODevice::WriteOnly);
    ProjectStore store(project("contain.mlsproj"));
    CocoImportOptions opt;
    opt.annotations = write("escape.json", R"({
      "images": [{"id": 1, "file_name": "a.jpg"}, {"id": 2, "file_name": "../outside/x.jpg"},
                 {"id": 3, "file_name": "/etc/passwd"}, {"id": 4, "file_name": "sub/../../outside/x.jpg"}],
      "categories": [{"id": 1, "name": "x"}],
      "annotations": [{"id": 10, "image_id": 1, "category_id": 1}, {"id": 11, "image_id": 2, "category_id": 1},
                      {"id": 12, "image_id": 3, "category_id": 1}]})");
    opt.images = images_.toStdString();
    const auto r = importCoco(store, opt);
    QCOMPARE(r.images, 1);
    QCOMPARE(r.labels, 1);
    QCOMPARE(r.refused_files,
             (std::vector<std::string>{"../outside/x.jpg", "/etc/passwd", "sub/../../outside/x.jpg"}));
    QVERIFY(r.missing_files.empty());
    QCOMPARE(store.counts().train, 1);
    QVERIFY(!store.image(2) && !store.image(3) && !store.image(4));
  }

  // The New-from-COCO / import-coco path onto an existing file that is not a project: refused, unchanged.
  void importIntoAForeignFileIsRefused() {
    const auto p = project("foreign.db");
    { Database db(p); db.exec("CREATE TABLE t(x)"); }
    QFile f(QString::fromStdString(p));
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray before = f.readAll();
    f.close();
    CocoImportOptions opt;
    opt.annotations = write("small2.json", kSmall);
    opt.images = images_.toStdString();
    QVERIFY_THROWS_EXCEPTION(NotAProjectError, importCocoIntoProject(p, opt));
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll(), before);
  }

  void valFractionIsSeeded() {
    QCOMPARE(chooseFraction(100, 0.2, 1200), chooseFraction(100, 0.2, 1200));
    QVERIFY(chooseFraction(100, 0.2, 1200) != chooseFraction(100, 0.2, 7));
    const auto m = chooseFraction(101, 0.2, 3);
    QCOMPARE(std::count(m.begin(), m.end(), true), 20);
  }

  // Numbers out of range (tests/fuzz/fuzz_coco_import under UBSan: a width of 1e300 was converted to int
  // unchecked, which is undefined behaviour): a width or height outside [0, INT_MAX] is unknown (0), never
  // wrapped or negative; an id written as a decimal must be whole and within 2^53, where doubles still hold
  // every integer. Floats of more than 19 digits read as 0 through simdjson's number type (its issue #2099):
  // 12345678901234567890.0 is refused, not imported as image 0.
  void outOfRangeNumbers() {
    const auto coco = readCocoFile(write("numbers.json", R"({"images":[
      {"id":1,"file_name":"a.jpg","width":1e300,"height":-1e300},
      {"id":2,"file_name":"b.jpg","width":4294967297,"height":-5},
      {"id":-9007199254740992.0,"file_name":"c.jpg","width":18446744073709551615,"height":2147483647},
      {"id":3,"file_name":"d.jpg","width":12.7,"height":8},
      {"id":4,"file_name":"e.jpg","width":640.00000000000000000001,"height":1e2}], "categories":[]})"));
    QCOMPARE(coco.images.size(), size_t(5));
    QCOMPARE(coco.images[0].width, 0);
    QCOMPARE(coco.images[0].height, 0);
    QCOMPARE(coco.images[1].width, 0);
    QCOMPARE(coco.images[1].height, 0);
    QCOMPARE(coco.images[2].id, int64_t(-9007199254740992));
    QCOMPARE(coco.images[2].width, 0);
    QCOMPARE(coco.images[2].height, 2147483647);
    QCOMPARE(coco.images[3].width, 12);
    QCOMPARE(coco.images[4].width, 640);
    QCOMPARE(coco.images[4].height, 100);
    const char* not_whole = "'id' must be an integer (written with a fraction or exponent: whole and at most 2^53)";
    expectFailure(R"({"images":[{"id":1e300,"file_name":"a.jpg"}],"categories":[]})", not_whole);
    expectFailure(R"({"images":[{"id":-9223372036854775808.0,"file_name":"a.jpg"}],"categories":[]})", not_whole);
    expectFailure(R"({"images":[{"id":12345678901234567.0,"file_name":"a.jpg"}],"categories":[]})", not_whole);
    expectFailure(R"({"images":[{"id":12345678901234567890.0,"file_name":"a.jpg"}],"categories":[]})", not_whole);
    expectFailure(R"({"images":[{"id":1.5,"file_name":"a.jpg"}],"categories":[]})", not_whole);
    expectFailure(R"({"images":[{"id":9223372036854775808,"file_name":"a.jpg"}],"categories":[]})",
                  "'id' must be a 64-bit integer");
  }

  void malformedJsonReportsOffset() { expectFailure(R"({"images": [ {"id": 1,, }]})", "malformed JSON at byte 23"); }
  void truncatedJson() { expectFailure(std::string(kSmall).substr(0, 120), "malformed JSON at byte"); }
  void notAnObject() { expectFailure("[1,2]", "top level must be a JSON object"); }
  void missingTopLevelKey() { expectFailure(R"({"images": []})", "missing top-level key 'categories'"); }
  void missingImageKey() {
    expectFailure(R"({"images":[{"id":1}],"categories":[]})", "images[0]: missing key 'file_name'");
  }
  void missingAnnotationKey() {
    expectFailure(R"({"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"x"}],
                     "annotations":[{"id":1,"image_id":1}]})",
                  "annotations[0]: missing key 'category_id'");
  }
  void unknownImage() {
    expectFailure(R"({"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"x"}],
                     "annotations":[{"id":1,"image_id":2,"category_id":1}]})",
                  "unknown image id 2");
  }
  void unknownCategory() {
    expectFailure(R"({"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"x"}],
                     "annotations":[{"id":1,"image_id":1,"category_id":9}]})",
                  "unknown category id 9");
  }
  void duplicateImageId() {
    expectFailure(R"({"images":[{"id":1,"file_name":"a.jpg"},{"id":1,"file_name":"b.jpg"}],"categories":[]})",
                  "duplicate image id 1");
  }
  void duplicateCategoryId() {
    expectFailure(R"({"images":[],"categories":[{"id":1,"name":"x"},{"id":1,"name":"y"}]})",
                  "duplicate category id 1");
  }
  void duplicateAnnotationId() {
    expectFailure(R"({"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"x"}],
                     "annotations":[{"id":4,"image_id":1,"category_id":1},{"id":4,"image_id":1,"category_id":1}]})",
                  "duplicate annotation id 4");
  }
  // Ids are checked by sorting them: the message still names the first annotation, in file order, whose id an
  // earlier one has, and an earlier error of another kind still comes first.
  void duplicateAnnotationIdOutOfOrder() {
    const std::string head = R"({"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"x"}],
                                 "annotations":[)";
    auto ann = [](int id, int image) {
      return "{\"id\":" + std::to_string(id) + ",\"image_id\":" + std::to_string(image) + ",\"category_id\":1}";
    };
    expectFailure(head + ann(7, 1) + "," + ann(3, 1) + "," + ann(9, 1) + "," + ann(3, 1) + "," + ann(7, 1) + "]}",
                  "annotations[3]: duplicate annotation id 3");
    expectFailure(head + ann(7, 1) + "," + ann(3, 2) + "," + ann(7, 1) + "]}", "annotations[1]: refers to unknown image id 2");
    expectFailure(head + ann(7, 1) + "," + ann(7, 1) + "," + ann(3, 2) + "]}", "annotations[1]: duplicate annotation id 7");
  }

  // Keys are compared where they stand in the file; one written with escapes still means the same key.
  void escapedKeys() {
    ProjectStore store(project("escaped.mlsproj"));
    CocoImportOptions opt;
    opt.annotations = write("escaped.json", R"({"images":[{"id":1,"file_n\u0061me":"a.jpg"},{"id":2,"file_name":"b.jpg"}],
        "categories":[{"id":1,"n\u0061me":"x"}],
        "annotations":[{"id":1,"image\u005fid":2,"category_id":1}]})");
    opt.images = images_.toStdString();
    const auto r = importCoco(store, opt);
    QCOMPARE(r.images, 2);
    QCOMPARE(r.labels, 1);
    QVERIFY(r.missing_files.empty());
    QCOMPARE(store.image(1)->file_name, std::string("a.jpg"));
    QCOMPARE(store.category(1)->name, std::string("x"));
    QCOMPARE(store.labelsOf(2).size(), size_t(1));
  }

  void wrongType() {
    expectFailure(R"({"images":[{"id":"one","file_name":"a.jpg"}],"categories":[]})", "'id' must be an integer");
  }
  void missingFolderAndFile() {
    ProjectStore store(project("folder.mlsproj"));
    CocoImportOptions opt;
    opt.annotations = write("ok.json", kSmall);
    opt.images = (dir_.path() + "/does-not-exist").toStdString();
    QVERIFY_THROWS_EXCEPTION(std::invalid_argument, importCoco(store, opt));
    opt.images = images_.toStdString();
    opt.annotations = (dir_.path() + "/nope.json").toStdString();
    QVERIFY_THROWS_EXCEPTION(CocoFormatError, importCoco(store, opt));
    QCOMPARE(store.counts().train, 0);
  }
};

QTEST_GUILESS_MAIN(TestCocoImport)
#include "test_coco_import.moc"
