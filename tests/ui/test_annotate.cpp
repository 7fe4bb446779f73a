// The Annotate panel, offscreen: palette clicks store single positives durably and advance, undo/redo
// restore the store, number keys, type-ahead search, the counter, hidden ground truth, suggestions and the
// most-uncertain order. Every store check goes through a second connection, as another process would see it.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QCheckBox>
#include <QFile>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>
#include <QTemporaryDir>
#include <QToolButton>
#include <QUndoStack>
#include <QtTest/QtTest>

#include "annotate/annotate_panel.h"
#include "annotate/label_palette_model.h"
#include "annotate/quick_label_slots.h"
#include "annotate/uncertainty_ranking.h"
#include "data/store/project_store.h"
#include "demo_generator.h"
#include "project_session.h"

using mls::AnnotatePanel;
using mls::AnnotationSource;

namespace {
// Demo classes: ids 1..12 = red {circle, square, triangle, star, cross, ring}, blue {same}.
constexpr int64_t kRedCircle = 1, kRedSquare = 2, kRedTriangle = 3, kRedStar = 4, kBlueCircle = 7, kBlueTriangle = 9,
                  kBlueStar = 10;
constexpr int kTrain = 120;  // train image ids 1..120, val 121..160
}  // namespace

class TestAnnotate : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  QString demo_;
  int copies_ = 0;

  // A copy of the demo project with no single positives except on `annotated` (stored as generated).
  QString freshProject(const std::vector<int64_t>& annotated = {}) {
    const QString path = dir_.path() + QStringLiteral("/copy%1.mlsproj").arg(++copies_);
    if (!QFile::copy(demo_, path)) qFatal("cannot copy the demo project");
    mls::ProjectStore store(path.toStdString());
    store.transaction([&] {
      for (int64_t id = 1; id <= kTrain; ++id) store.setSinglePositive(id, std::nullopt, AnnotationSource::User);
    });
    std::vector<std::pair<int64_t, int64_t>> gen;
    for (int64_t id : annotated) gen.emplace_back(id, kRedSquare);
    store.storeGeneratedSinglePositives(gen, true);
    return path;
  }

  static std::optional<mls::SinglePositive> storedPositive(const QString& project, int64_t image) {
    mls::ProjectStore other(project.toStdString());  // a second connection: the write must be committed
    return other.singlePositive(image);
  }

  static void activate(QWidget& w) {
    w.resize(380, 720);
    w.show();
    w.activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(&w));
  }

  static void clickPaletteEntry(AnnotatePanel& panel, int64_t category_id) {
    const int row = panel.paletteModel()->rowOfCategory(category_id);
    QVERIFY(row >= 0);
    QListView* view = panel.paletteView();
    const QRect rect = view->visualRect(panel.paletteModel()->index(row));
    QVERIFY(rect.isValid());
    QTest::mouseClick(view->viewport(), Qt::LeftButton, {}, rect.center());
  }

 private Q_SLOTS:
  void initTestCase() {
    mls::DemoOptions d;
    d.train = kTrain;
    d.val = 40;
    d.size = 64;
    d.seed = 7;
    demo_ = QString::fromStdString(mls::createDemoProject(dir_.path().toStdString(), d).project);
  }

  void clickStoresAndAdvancesToNextUnannotated() {
    const QString project = freshProject({2, 3});
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    AnnotatePanel panel(&session);
    activate(panel);
    session.setCurrentImage(1);
    QCOMPARE(panel.progressText(), QString("2 / 120 annotated"));

    clickPaletteEntry(panel, kBlueStar);
    const auto stored = storedPositive(project, 1);
    QVERIFY(stored.has_value());
    QCOMPARE(stored->category_id, kBlueStar);
    QCOMPARE(stored->source, AnnotationSource::User);
    QCOMPARE(session.currentImage(), qint64(4));  // 2 and 3 already have labels
    QCOMPARE(panel.progressText(), QString("3 / 120 annotated"));
    QCOMPARE(panel.undoStack()->count(), 1);
    QVERIFY(panel.currentLabelText().contains("not annotated"));

    // With advancing off the image stays, and its label is shown with its source.
    panel.setAdvanceAfterLabelling(false);
    clickPaletteEntry(panel, kRedCircle);
    QCOMPARE(session.currentImage(), qint64(4));
    QCOMPARE(storedPositive(project, 4)->category_id, kRedCircle);
    QCOMPARE(panel.currentLabelText(), QString("Label: red circle (by you)"));
    QCOMPARE(panel.paletteModel()->data(panel.paletteModel()->index(0), Qt::FontRole).value<QFont>().bold(), true);

    // Val images get no single positive.
    session.setCurrentImage(130);
    QVERIFY(!panel.assignCategory(kRedCircle));
    QVERIFY(!storedPositive(project, 130).has_value());
  }

  void undoRedoRestoreTheStore() {
    const QString project = freshProject({5});
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    AnnotatePanel panel(&session);
    session.setCurrentImage(1);
    QVERIFY(panel.assignCategory(kRedStar));
    QCOMPARE(session.currentImage(), qint64(2));
    session.setCurrentImage(5);  // relabel a generated positive
    QVERIFY(panel.assignCategory(kBlueCircle));
    QCOMPARE(storedPositive(project, 5)->category_id, kBlueCircle);
    QCOMPARE(panel.undoStack()->count(), 2);

    panel.undoStack()->undo();  // back to the generated red square, and the image comes back into view
    auto p5 = storedPositive(project, 5);
    QVERIFY(p5.has_value());
    QCOMPARE(p5->category_id, kRedSquare);
    QCOMPARE(p5->source, AnnotationSource::Generated);
    QCOMPARE(session.currentImage(), qint64(5));

    panel.undoStack()->undo();  // image 1 had no label: cleared again
    QVERIFY(!storedPositive(project, 1).has_value());
    QCOMPARE(session.currentImage(), qint64(1));
    QCOMPARE(panel.progressText(), QString("1 / 120 annotated"));

    panel.undoStack()->redo();
    QCOMPARE(storedPositive(project, 1)->category_id, kRedStar);
    QCOMPARE(panel.progressText(), QString("2 / 120 annotated"));
    panel.undoStack()->redo();
    QCOMPARE(storedPositive(project, 5)->category_id, kBlueCircle);
    QCOMPARE(storedPositive(project, 5)->source, AnnotationSource::User);

    // The store's history saw every step: 2 labels, 2 undos, 2 redos (plus the fixture's clears).
    mls::ProjectStore other(project.toStdString());
    const auto history = other.history(6);
    QCOMPARE(history.size(), size_t(6));
    QCOMPARE(history[0].image_id, int64_t(5));
    QCOMPARE(*history[0].new_category_id, kBlueCircle);

    // Clearing is undoable too.
    session.setCurrentImage(1);
    QVERIFY(panel.clearLabel());
    QVERIFY(!storedPositive(project, 1).has_value());
    panel.undoStack()->undo();
    QCOMPARE(storedPositive(project, 1)->category_id, kRedStar);
  }

  void numberKeysUsePinnedThenRecent() {
    const QString project = freshProject();
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    AnnotatePanel panel(&session);
    activate(panel);
    session.setCurrentImage(1);
    panel.setPinned(kBlueCircle, true);  // pinned first; the first classes fill the other keys
    QCOMPARE(panel.quickKeyCategories(), (std::vector<int64_t>{kBlueCircle, 1, 2, 3, 4, 5, 6, 8, 9}));
    QVERIFY(panel.quickKeyButton(1)->text().contains("blue circle"));
    QVERIFY(panel.quickKeyButton(2)->text().startsWith("2  red circle"));

    QTest::keyClick(&panel, Qt::Key_1);
    QCOMPARE(storedPositive(project, 1)->category_id, kBlueCircle);
    QCOMPARE(session.currentImage(), qint64(2));

    clickPaletteEntry(panel, kBlueStar);  // no key yet: takes the highest key of an unused class (9)
    QCOMPARE(panel.quickKeyCategories(), (std::vector<int64_t>{kBlueCircle, 1, 2, 3, 4, 5, 6, 8, kBlueStar}));
    QCOMPARE(session.currentImage(), qint64(3));
    QTest::keyClick(&panel, Qt::Key_9);
    QCOMPARE(storedPositive(project, 3)->category_id, kBlueStar);
    QCOMPARE(session.currentImage(), qint64(4));

    // A / D and the arrows walk the train split; S jumps to the next unannotated image.
    QTest::keyClick(&panel, Qt::Key_D);
    QCOMPARE(session.currentImage(), qint64(5));
    QTest::keyClick(&panel, Qt::Key_Left);
    QCOMPARE(session.currentImage(), qint64(4));
    QTest::keyClick(&panel, Qt::Key_A);
    QCOMPARE(session.currentImage(), qint64(3));
    QTest::keyClick(&panel, Qt::Key_S);
    QCOMPARE(session.currentImage(), qint64(4));
    session.setCurrentImage(kTrain);
    QTest::keyClick(&panel, Qt::Key_Right);  // wraps within train, never into val
    QCOMPARE(session.currentImage(), qint64(1));

    // While the search box has focus, keys type instead of labelling or moving.
    session.setCurrentImage(4);
    panel.searchBox()->setFocus();
    QTRY_VERIFY(panel.searchBox()->hasFocus());
    QTest::keyClick(panel.searchBox(), Qt::Key_1);
    QTest::keyClick(panel.searchBox(), Qt::Key_D);
    QCOMPARE(panel.searchBox()->text(), QString("1d"));
    QCOMPARE(session.currentImage(), qint64(4));
    QVERIFY(!storedPositive(project, 4).has_value());

    // Pins live in the project: a new panel on a reopened project has them on the same keys, and the
    // classes used most so far (blue star twice, blue circle pinned) on the others, in class order.
    session.store()->setSinglePositive(5, kBlueStar, AnnotationSource::User);
    mls::ProjectSession again;
    QVERIFY(again.open(project));
    AnnotatePanel second(&again);
    QCOMPARE(second.quickKeyCategories(), (std::vector<int64_t>{kBlueCircle, 1, 2, 3, 4, 5, 6, 8, kBlueStar}));
  }

  void quickSlotsKeepKeysStable() {
    std::vector<int64_t> classes;
    for (int64_t id = 1; id <= 12; ++id) classes.push_back(id);
    mls::QuickLabelSlots s;
    s.seed(classes, {});  // a fresh project: key k is class k
    QCOMPARE(s.slotCategories(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    s.seed(classes, {{12, 5}, {10, 2}});  // the most used get keys, which stay in class order
    QCOMPARE(s.slotCategories(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 10, 12}));
    s.use(1);
    s.use(1);
    s.use(11);  // replaces the least used in place: of the unused 2..7, the highest key (7)
    QCOMPARE(s.slotCategories(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 11, 10, 12}));
    s.use(8);
    QCOMPARE(s.keyOf(8), 6);
    QCOMPARE(s.keyOf(11), 7);  // keys already handed out do not move
    s.use(2);
    s.use(9);  // unused 3..5 left: 5 goes
    QCOMPARE(s.slotCategories(), (std::vector<int64_t>{1, 2, 3, 4, 9, 8, 11, 10, 12}));
    QVERIFY(s.setPinned(7, true));  // pinned classes come first; one key fewer for the rest: 4 drops out
    QCOMPARE(s.slotCategories(), (std::vector<int64_t>{7, 1, 2, 3, 9, 8, 11, 10, 12}));
    QCOMPARE(s.keyOf(4), 0);
    QVERIFY(s.setPinned(7, false));
    QCOMPARE(s.keyOf(7), 9);  // unpinned, it stays reachable on the key that came free
    QCOMPARE(s.categoryForKey(1), int64_t(1));
    QCOMPARE(s.categoryForKey(10), int64_t(-1));
    s.clear();
    s.seed({4, 5, 6}, {});  // fewer classes than keys
    QCOMPARE(s.slotCategories(), (std::vector<int64_t>{4, 5, 6}));
    QCOMPARE(s.categoryForKey(4), int64_t(-1));
    QCOMPARE(mls::QuickLabelSlots::decode(mls::QuickLabelSlots::encode({7, 12, 3})), (std::vector<int64_t>{7, 12, 3}));
    QCOMPARE(mls::QuickLabelSlots::decode("4,x,5"), (std::vector<int64_t>{4, 5}));
  }

  void numberKeysWorkOnAFreshProject() {
    // Issue 9: on a fresh project 1-9 did nothing until a first click, and nothing said so.
    const QString project = freshProject();
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    AnnotatePanel panel(&session);
    activate(panel);
    session.setCurrentImage(1);
    QCOMPARE(panel.quickKeyCategories(), (std::vector<int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    for (int k = 1; k <= 9; ++k) {
      QVERIFY(panel.quickKeyButton(k)->isEnabled());
      QVERIFY2(panel.quickKeyButton(k)->text().startsWith(QString::number(k) + "  "),
               qPrintable(panel.quickKeyButton(k)->text()));
    }
    auto* model = panel.paletteModel();
    QCOMPARE(model->data(model->index(model->rowOfCategory(kRedCircle)), Qt::DisplayRole).toString(),
             QString("red circle  [1]"));
    QTest::keyClick(&panel, Qt::Key_3);
    QCOMPARE(storedPositive(project, 1)->category_id, kRedTriangle);
    QCOMPARE(session.currentImage(), qint64(2));
    QTest::keyClick(&panel, Qt::Key_3);  // the key did not move after its use
    QCOMPARE(storedPositive(project, 2)->category_id, kRedTriangle);
  }

  void enterNeverReplacesYourLabelSilently() {
    // Issue 9: Enter turned a correct "red triangle (by you)" into the model's wrong "blue triangle".
    const QString project = freshProject();
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    const int64_t run = session.store()->createRun("suggest", "q2l", "{}", "");
    std::vector<float> s(12, 0.1f);
    s[8] = 0.9f;  // blue triangle
    session.store()->storePredictions(run, {{1, s}, {2, s}});
    QWidget window;  // the panel among other widgets of the window, as in the app
    auto* panel = new AnnotatePanel(&session);
    auto* spin = new QSpinBox;
    auto* button = new QPushButton("elsewhere");
    button->setAutoDefault(true);  // Return clicks it
    auto* layout = new QVBoxLayout(&window);
    layout->addWidget(panel);
    layout->addWidget(spin);
    layout->addWidget(button);
    activate(window);
    session.setCurrentRun(run);
    session.setCurrentImage(1);
    panel->setAdvanceAfterLabelling(false);
    QVERIFY(panel->assignCategory(kRedTriangle));
    int asked = 0;
    QString question;
    bool answer = false;
    panel->setConfirmFunction([&](const QString&, const QString& q) {
      ++asked;
      question = q;
      return answer;
    });
    panel->setFocus();
    QTRY_VERIFY(panel->hasFocus());

    auto buttonCaptions = [&] {
      QStringList texts;
      for (auto* b : panel->findChildren<QPushButton*>()) texts << b->text();
      return texts.join('|');
    };
    QVERIFY2(buttonCaptions().contains("Replace"), qPrintable(buttonCaptions()));  // says so before asking
    QTest::keyClick(panel, Qt::Key_Return);
    QCOMPARE(asked, 1);
    QVERIFY2(question.contains("red triangle") && question.contains("blue triangle") && question.contains("by you"),
             qPrintable(question));
    QCOMPARE(storedPositive(project, 1)->category_id, kRedTriangle);
    QCOMPARE(storedPositive(project, 1)->source, AnnotationSource::User);
    QVERIFY(!panel->acceptSuggestion());  // the Accept button takes the same path
    QCOMPARE(asked, 2);
    QCOMPARE(storedPositive(project, 1)->category_id, kRedTriangle);

    // A Return that belongs to another widget never reaches the accept action (image 2 has no label).
    session.setCurrentImage(2);
    for (QWidget* w : std::initializer_list<QWidget*>{panel->searchBox(), spin, button}) {
      w->setFocus();
      QTRY_VERIFY(w->hasFocus());
      QTest::keyClick(w, Qt::Key_Return);
      QVERIFY2(!storedPositive(project, 2).has_value(), w->metaObject()->className());
    }
    // On an image without a label Enter accepts, without asking. Esc in the empty search box hands the keys
    // back, and the Enter after it takes the suggestion, not the palette's first class.
    panel->searchBox()->setFocus();
    QTRY_VERIFY(panel->searchBox()->hasFocus());
    QTest::keyClick(panel->searchBox(), Qt::Key_Escape);
    QTRY_VERIFY(!panel->searchBox()->hasFocus());
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Return);
    QCOMPARE(storedPositive(project, 2)->category_id, kBlueTriangle);
    QCOMPARE(storedPositive(project, 2)->source, AnnotationSource::AcceptedSuggestion);
    QCOMPARE(asked, 2);
    QVERIFY2(!buttonCaptions().contains("Replace"), qPrintable(buttonCaptions()));
    // Agreeing with the stored label: nothing to ask, nothing written.
    QTest::keyClick(panel, Qt::Key_Return);
    QCOMPARE(asked, 2);
    QCOMPARE(panel->undoStack()->count(), 2);

    // Confirmed: replaced, and undo brings the user's label back with its source.
    session.setCurrentImage(1);
    answer = true;
    QTest::keyClick(panel, Qt::Key_Return);
    QCOMPARE(asked, 3);
    QCOMPARE(storedPositive(project, 1)->category_id, kBlueTriangle);
    QCOMPARE(storedPositive(project, 1)->source, AnnotationSource::AcceptedSuggestion);
    panel->undoStack()->undo();
    QCOMPARE(storedPositive(project, 1)->category_id, kRedTriangle);
    QCOMPARE(storedPositive(project, 1)->source, AnnotationSource::User);
  }

  void stepKeysFollowTheChosenOrder() {
    // Issue 9: "Next: most uncertain" changed only the jump after labelling; D and Next still went by id.
    const QString project = freshProject();
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    const int64_t run = session.store()->createRun("rank", "mlspl", "{}", "");
    auto row = [](float top) {
      std::vector<float> v(12, 0.01f);
      v[3] = top;
      return v;
    };
    session.store()->storePredictions(run, {{10, row(0.75f)}, {20, row(0.6f)}, {40, row(0.51f)}, {130, row(0.5f)}});
    AnnotatePanel panel(&session);
    activate(panel);
    session.setCurrentRun(run);
    session.setCurrentImage(40);
    panel.setNextOrder(AnnotatePanel::NextOrder::MostUncertain);
    QTRY_VERIFY(panel.uncertaintyRankingReady());

    QTest::keyClick(&panel, Qt::Key_D);
    QCOMPARE(session.currentImage(), qint64(20));
    QTest::keyClick(&panel, Qt::Key_Right);
    QCOMPARE(session.currentImage(), qint64(10));
    panel.goToNextImage();  // the Next button; after the scored images the others follow by id
    QCOMPARE(session.currentImage(), qint64(1));
    QTest::keyClick(&panel, Qt::Key_A);
    QCOMPARE(session.currentImage(), qint64(10));
    QTest::keyClick(&panel, Qt::Key_Left);
    QCOMPARE(session.currentImage(), qint64(20));
    session.setCurrentImage(9);
    QTest::keyClick(&panel, Qt::Key_D);
    QCOMPARE(session.currentImage(), qint64(11));  // 10 was visited among the scored ones
    session.setCurrentImage(40);
    QTest::keyClick(&panel, Qt::Key_A);  // wraps to the last unscored train image
    QCOMPARE(session.currentImage(), qint64(kTrain));
    QCOMPARE(panel.neighbourInOrder(130, true).value_or(-1), int64_t(40));  // from a val image: the top

    panel.setNextOrder(AnnotatePanel::NextOrder::InOrder);
    session.setCurrentImage(40);
    QTest::keyClick(&panel, Qt::Key_D);
    QCOMPARE(session.currentImage(), qint64(41));
  }

  void keyBindingsListEveryKey() {
    const QString project = freshProject();
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    AnnotatePanel panel(&session);
    QStringList keys;
    for (const auto& b : panel.keyBindings()) {
      QVERIFY(!b.action.isEmpty() && !b.context.isEmpty());
      keys << b.keys;
    }
    for (const char* k : {"D, Right", "A, Left", "S", "1 \u2013 9", "Return, Enter", "/", "Esc"})
      QVERIFY2(keys.contains(QString::fromUtf8(k)), qPrintable(keys.join(" | ")));
  }

  void matchRanking() {
    QCOMPARE(mls::paletteMatchRank("blue star", "star", ""), 0);
    QCOMPARE(mls::paletteMatchRank("blue star", "star", "BLUE"), 0);
    QCOMPARE(mls::paletteMatchRank("blue star", "star", "bl st"), 1);
    QCOMPARE(mls::paletteMatchRank("blue star", "star", "st"), 1);
    QCOMPARE(mls::paletteMatchRank("blue star", "star", "ue st"), 2);
    QCOMPARE(mls::paletteMatchRank("traffic light", "outdoor", "outd"), 3);
    QCOMPARE(mls::paletteMatchRank("blue star", "star", "st bl"), -1);
    QCOMPARE(mls::paletteMatchRank("blue star", "star", "cross"), -1);
  }

  void searchTypeAheadAndEnter() {
    const QString project = freshProject();
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    AnnotatePanel panel(&session);
    activate(panel);
    session.setCurrentImage(1);
    auto* model = panel.paletteModel();
    QCOMPARE(model->rowCount(), 12);

    panel.searchBox()->setFocus();
    QTRY_VERIFY(panel.searchBox()->hasFocus());
    QTest::keyClicks(panel.searchBox(), "bl st");
    QCOMPARE(model->rowCount(), 1);
    QCOMPARE(model->categoryIdAt(0), kBlueStar);
    QCOMPARE(panel.paletteView()->currentIndex().row(), 0);  // the top match is highlighted
    QTest::keyClick(panel.searchBox(), Qt::Key_Return);
    QCOMPARE(storedPositive(project, 1)->category_id, kBlueStar);
    QCOMPARE(session.currentImage(), qint64(2));
    QVERIFY(panel.searchBox()->text().isEmpty());
    QCOMPARE(model->rowCount(), 12);
    // Issue 9: focus leaves the box, so the next number key labels instead of typing into it.
    QTRY_VERIFY(!panel.searchBox()->hasFocus());
    QVERIFY(QApplication::focusWidget() != nullptr);
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_2);
    QCOMPARE(storedPositive(project, 2)->category_id, kRedSquare);
    QVERIFY(panel.searchBox()->text().isEmpty());
    QCOMPARE(session.currentImage(), qint64(3));
    QTest::keyClick(QApplication::focusWidget(), Qt::Key_Slash);  // "/" goes back to the search box
    QTRY_VERIFY(panel.searchBox()->hasFocus());

    // "st": the two stars, in class order; Down moves the highlight and Enter takes it.
    QTest::keyClicks(panel.searchBox(), "st");
    QCOMPARE(model->rowCount(), 2);
    QCOMPARE(model->categoryIdAt(0), kRedStar);
    QCOMPARE(model->categoryIdAt(1), kBlueStar);
    QTest::keyClick(panel.searchBox(), Qt::Key_Down);
    QTest::keyClick(panel.searchBox(), Qt::Key_Enter);
    QCOMPARE(storedPositive(project, 3)->category_id, kBlueStar);
    QCOMPARE(session.currentImage(), qint64(4));

    // No match: Enter stores nothing and the box keeps focus to fix the typo. Escape clears the query.
    panel.searchBox()->setFocus();
    QTRY_VERIFY(panel.searchBox()->hasFocus());
    QTest::keyClicks(panel.searchBox(), "zebra");
    QCOMPARE(model->rowCount(), 0);
    QTest::keyClick(panel.searchBox(), Qt::Key_Return);
    QVERIFY(!storedPositive(project, 4).has_value());
    QVERIFY(panel.searchBox()->hasFocus());
    QTest::keyClick(panel.searchBox(), Qt::Key_Escape);
    QVERIFY(panel.searchBox()->text().isEmpty());
    QCOMPARE(model->rowCount(), 12);
  }

  void counterAndGroundTruth() {
    const QString project = freshProject({10, 11, 12});
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    AnnotatePanel panel(&session);
    QCOMPARE(panel.progressText(), QString("3 / 120 annotated"));
    QCOMPARE(panel.trainImages(), kTrain);
    session.setCurrentImage(10);
    QCOMPARE(panel.currentLabelText(), QString("Label: red square (generated)"));
    QVERIFY(panel.clearLabel());
    QCOMPARE(panel.progressText(), QString("2 / 120 annotated"));
    // Another panel's change arrives through the session.
    session.store()->setSinglePositive(50, kRedCircle, AnnotationSource::User);
    session.notifyAnnotationChanged(50);
    QCOMPARE(panel.progressText(), QString("3 / 120 annotated"));

    // Ground truth is hidden until asked for, then lists the image's labels by name.
    mls::ProjectStore other(project.toStdString());
    const auto truth = other.labelsOf(10);
    QVERIFY(!truth.empty());
    QVERIFY(!panel.groundTruthToggle()->isChecked());
    QVERIFY(!panel.groundTruthVisible());
    panel.show();
    QVERIFY(!panel.groundTruthVisible());
    panel.groundTruthToggle()->setChecked(true);
    QVERIFY(panel.groundTruthVisible());
    for (int64_t c : truth)
      QVERIFY2(panel.groundTruthText().contains(QString::fromStdString(other.category(c)->name)),
               qPrintable(panel.groundTruthText()));
  }

  void suggestionAcceptedWithEnter() {
    const QString project = freshProject();
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    int64_t run = 0;
    {
      auto* store = session.store();
      run = store->createRun("suggest", "q2l", "{}", "");
      std::vector<float> s1(12, 0.1f), s2(12, 0.2f);
      s1[8] = 0.93f;  // idx 8 = blue triangle (id 9)
      s2[0] = 0.61f;
      std::vector<float> s4(12, 0.1f);
      s4[11] = 0.7f;  // blue ring (id 12)
      store->storePredictions(run, {{1, s1}, {2, s2}, {4, s4}});
      store->finishRun(run, mls::RunStatus::Finished, "", 0.5);
    }
    AnnotatePanel panel(&session);
    activate(panel);
    session.setCurrentImage(1);
    QVERIFY(!panel.suggestedCategory().has_value());  // no run chosen yet
    session.setCurrentRun(run);
    QCOMPARE(panel.suggestedCategory().value_or(-1), int64_t(9));
    QCOMPARE(panel.suggestedScore(), 0.93f);
    QVERIFY2(panel.suggestionText().contains("blue triangle") && panel.suggestionText().contains("0.93"),
             qPrintable(panel.suggestionText()));
    const int suggested_row = panel.paletteModel()->rowOfCategory(9);
    QVERIFY(panel.paletteModel()->data(panel.paletteModel()->index(suggested_row), Qt::BackgroundRole).isValid());

    QTest::keyClick(&panel, Qt::Key_Return);
    const auto p1 = storedPositive(project, 1);
    QVERIFY(p1.has_value());
    QCOMPARE(p1->category_id, int64_t(9));
    QCOMPARE(p1->source, AnnotationSource::AcceptedSuggestion);
    QCOMPARE(session.currentImage(), qint64(2));
    QCOMPARE(panel.suggestedCategory().value_or(-1), kRedCircle);
    QCOMPARE(panel.currentLabelText(), QString("Label: — (not annotated)"));

    // Image 3 has no scores: no suggestion, Enter stores nothing.
    session.setCurrentImage(3);
    QVERIFY(!panel.suggestedCategory().has_value());
    QTest::keyClick(&panel, Qt::Key_Enter);
    QVERIFY(!storedPositive(project, 3).has_value());
    panel.undoStack()->undo();
    QVERIFY(!storedPositive(project, 1).has_value());

    // After a palette click (focus in the palette), Enter still means "accept the suggestion".
    session.setCurrentImage(2);
    clickPaletteEntry(panel, kBlueStar);
    QCOMPARE(storedPositive(project, 2)->category_id, kBlueStar);
    QVERIFY(panel.paletteView()->hasFocus());
    session.setCurrentImage(4);
    QTest::keyClick(&panel, Qt::Key_Return);
    QCOMPARE(storedPositive(project, 4)->category_id, int64_t(12));
    QCOMPARE(storedPositive(project, 4)->source, AnnotationSource::AcceptedSuggestion);
  }

  void mostUncertainOrder() {
    // Pure ranking: |top - 0.5| ascending, ties by id, ineligible (val) images left out.
    std::unordered_map<int64_t, std::vector<float>> scores{
        {1, {0.9f, 0.1f}},  {2, {0.2f, 0.52f}},  {3, {0.3f, 0.0f}}, {4, {0.45f, 0.4f}}, {5, {0.47f, 0.1f}},
        {6, {0.54f, 0.3f}}, {7, {0.75f, 0.0f}}, {8, {0.25f}},       {200, {0.5f, 0.5f}}};
    const std::unordered_set<int64_t> train{1, 2, 3, 4, 5, 6, 7, 8};
    QCOMPARE(mls::rankByUncertainty(scores, train), (std::vector<int64_t>{2, 5, 6, 4, 3, 7, 8, 1}));
    // The walk for next / previous: ranked first, then the unscored by id, each image once.
    const auto order = mls::makeUncertaintyOrder({5, 2}, {1, 2, 3, 5});
    QCOMPARE(order.walk, (std::vector<int64_t>{5, 2, 1, 3}));
    QCOMPARE(order.position.at(1), size_t(2));

    const QString project = freshProject({30});
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    int64_t run = 0;
    {
      auto* store = session.store();
      run = store->createRun("rank", "mlspl", "{}", "");
      auto row = [](float top) {
        std::vector<float> v(12, 0.01f);
        v[3] = top;
        return v;
      };
      // Expected order: 40 (0.51), 30 (0.48, annotated: skipped), 20 (0.6), 10 (0.75), 50 (0.99); 130 is val.
      store->storePredictions(run, {{10, row(0.75f)}, {20, row(0.6f)}, {30, row(0.48f)}, {40, row(0.51f)},
                                    {50, row(0.99f)}, {130, row(0.5f)}});
      store->finishRun(run, mls::RunStatus::Finished, "", std::nullopt);
    }
    AnnotatePanel panel(&session);
    session.setCurrentRun(run);
    session.setCurrentImage(1);
    panel.setNextOrder(AnnotatePanel::NextOrder::MostUncertain);
    QTRY_VERIFY(panel.uncertaintyRankingReady());
    QCOMPARE(panel.uncertaintyRanking(), (std::vector<int64_t>{40, 30, 20, 10, 50}));

    std::vector<qint64> visited;
    for (int i = 0; i < 5; ++i) {
      QVERIFY(panel.assignCategory(kRedCircle));
      visited.push_back(session.currentImage());
    }
    // After the scored images, the unscored ones follow in id order from where the user is.
    QCOMPARE(visited, (std::vector<qint64>{40, 20, 10, 50, 51}));

    // Back to "in order": the next unannotated by id.
    panel.setNextOrder(AnnotatePanel::NextOrder::InOrder);
    session.setCurrentImage(9);
    QCOMPARE(panel.nextUnannotated(9).value_or(-1), int64_t(11));
  }

  void paletteModelPassesTester() {
    mls::LabelPaletteModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    mls::ProjectSession session;
    QVERIFY(session.open(demo_));
    model.setCategories(session.categories());
    QCOMPARE(model.rowCount(), 12);
    model.setFilterText("red");
    QCOMPARE(model.rowCount(), 6);
    model.setCurrentCategory(kRedSquare);
    model.setSuggestedCategory(kRedStar);
    model.setQuickKeys({kRedStar, kRedSquare}, {kRedStar});
    QCOMPARE(model.data(model.index(model.rowOfCategory(kRedStar)), Qt::DisplayRole).toString(),
             QString("\u2605 red star  [1]"));
    QCOMPARE(model.data(model.index(model.rowOfCategory(kRedSquare)), mls::LabelPaletteModel::QuickKeyRole).toInt(), 2);
    QCOMPARE(model.rowOfCategory(kBlueStar), -1);
    model.setFilterText("");
    model.setCategories({});
    QCOMPARE(model.rowCount(), 0);
  }

  void hundredAndTenClasses() {
    // 11 colours x 10 animals: the palette wraps, search narrows it, number keys still reach any class.
    const QStringList colours{"red", "green", "blue", "black", "white", "grey", "brown", "pink", "gold", "teal", "olive"};
    const QStringList animals{"zebra", "horse", "sheep", "cow", "bird", "cat", "dog", "bear", "elephant", "giraffe"};
    std::vector<mls::Category> cats;
    for (const auto& c : colours)
      for (const auto& a : animals) {
        mls::Category cat;
        cat.id = static_cast<int64_t>(cats.size()) * 3 + 5;  // sparse ids, as in COCO
        cat.name = (c + " " + a).toStdString();
        cat.supercategory = a.toStdString();
        cats.push_back(cat);
      }
    std::vector<mls::NewImage> images;
    for (int i = 1; i <= 6; ++i) images.push_back({i, QString("img%1.jpg").arg(i).toStdString(), 64, 64, mls::Split::Train, true});
    const QString project = dir_.path() + "/many.mlsproj";
    {
      mls::ProjectStore store(project.toStdString());
      store.importCollection(dir_.path().toStdString(), cats, images, {{1, cats[12].id}, {1, cats[57].id}});
    }
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    AnnotatePanel panel(&session);
    activate(panel);
    session.setCurrentImage(1);
    QCOMPARE(panel.paletteModel()->rowCount(), 110);
    QCOMPARE(panel.progressText(), QString("0 / 6 annotated"));
    panel.searchBox()->setFocus();
    QTRY_VERIFY(panel.searchBox()->hasFocus());
    QTest::keyClicks(panel.searchBox(), "gr ze");  // green zebra, grey zebra (word prefixes, class order)
    QCOMPARE(panel.paletteModel()->rowCount(), 2);
    QTest::keyClick(panel.searchBox(), Qt::Key_Return);
    QCOMPARE(storedPositive(project, 1)->category_id, cats[10].id);  // green zebra
    panel.searchBox()->setFocus();
    QTRY_VERIFY(panel.searchBox()->hasFocus());
    QTest::keyClicks(panel.searchBox(), "giraffe");  // by supercategory too: all 11 giraffes, names first
    QCOMPARE(panel.paletteModel()->rowCount(), 11);
    QTest::keyClick(panel.searchBox(), Qt::Key_Escape);
    panel.setPinned(cats[109].id, true);
    panel.paletteView()->setFocus();
    QTRY_VERIFY(!panel.searchBox()->hasFocus());
    QTest::keyClick(&panel, Qt::Key_1);
    QCOMPARE(storedPositive(project, 2)->category_id, cats[109].id);
    QCOMPARE(session.currentImage(), qint64(3));
    session.setCurrentImage(1);
    panel.groundTruthToggle()->setChecked(true);
    QVERIFY(panel.groundTruthText().contains("green sheep") && panel.groundTruthText().contains("grey bear"));
    QTest::keyClicks(panel.searchBox(), "b");
    // Issue 9: the panel must fit next to the image on a 1280x720 screen, with long class names pinned.
    panel.setPinned(cats[0].id, true);
    QVERIFY2(panel.minimumSizeHint().width() <= 380 && panel.minimumSizeHint().height() <= 500,
             qPrintable(QString("%1x%2").arg(panel.minimumSizeHint().width()).arg(panel.minimumSizeHint().height())));
    const QByteArray out = qgetenv("MLS_ANNOTATE_SCREENSHOT");
    if (!out.isEmpty()) QVERIFY(panel.grab().save(QString::fromLocal8Bit(out) + "_110.png"));
  }

  void rendersOffscreen() {
    const QString project = freshProject({3, 4});
    mls::ProjectSession session;
    QVERIFY(session.open(project));
    const int64_t run = session.store()->createRun("look", "q2l", "{}", "");
    std::vector<float> s(12, 0.05f);
    s[6] = 0.81f;
    session.store()->storePredictions(run, {{1, s}});
    AnnotatePanel panel(&session);
    session.setCurrentRun(run);
    session.setCurrentImage(1);
    panel.setPinned(kBlueStar, true);
    panel.setPinned(kRedCircle, true);
    panel.resize(380, 720);
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(&panel));
    const QImage shot = panel.grab().toImage();
    QVERIFY(!shot.isNull());
    QCOMPARE(panel.width(), 380);
    const QByteArray out = qgetenv("MLS_ANNOTATE_SCREENSHOT");
    if (!out.isEmpty()) QVERIFY(shot.save(QString::fromLocal8Bit(out)));
  }
};

QTEST_MAIN(TestAnnotate)
#include "test_annotate.moc"
