#include "guide/first_steps_guide.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

#include "data/store/project_store.h"
#include "project_session.h"

namespace mls {

namespace {
struct Step {
  const char* title;
  const char* how;
  int tab;  // where the step happens
};
// The loop the app is built for (README "The app"): a few single positives are enough for ROLE to learn
// every class (Cole et al. 2021), and its suggestions then speed up the rest of the labelling.
const Step kSteps[] = {
    {QT_TRANSLATE_NOOP("FirstStepsGuide", "Label a few images"),
     QT_TRANSLATE_NOOP("FirstStepsGuide",
                       "Click the class of one object you see (or press its number key 1–9). Each click is saved "
                       "at once and moves on to the next unlabelled image."),
     0},
    {QT_TRANSLATE_NOOP("FirstStepsGuide", "Train from your labels"),
     QT_TRANSLATE_NOOP("FirstStepsGuide",
                       "In the Train tab choose the preset “Demo: ROLE from your labels” and press Start. ROLE "
                       "learns all classes from one positive per image; the curves fill in as it trains."),
     1},
    {QT_TRANSLATE_NOOP("FirstStepsGuide", "See the suggestions"),
     QT_TRANSLATE_NOOP("FirstStepsGuide",
                       "Back in Annotate the model suggests a class for each image: Enter accepts it on an "
                       "unlabelled image, and “Next: most uncertain” visits the images it is least sure about."),
     0},
    {QT_TRANSLATE_NOOP("FirstStepsGuide", "Inspect the model"),
     QT_TRANSLATE_NOOP("FirstStepsGuide",
                       "The Inspect tab shows the score of every class for the current image and where the model "
                       "looked for a label (its attention map)."),
     2},
};
constexpr int kStepCount = 4;
}  // namespace

FirstStepsGuide::FirstStepsGuide(ProjectSession* session, QWidget* parent) : QFrame(parent), session_(session) {
  setObjectName(QStringLiteral("FirstStepsGuide"));
  setFrameShape(QFrame::StyledPanel);
  header_ = new QLabel(this);
  header_->setTextFormat(Qt::RichText);
  header_->setWordWrap(true);  // the window must fit a 1024 px wide screen
  steps_ = new QLabel(this);
  steps_->setTextFormat(Qt::RichText);
  steps_->setWordWrap(true);
  go_ = new QToolButton(this);
  toggle_ = new QToolButton(this);
  close_ = new QToolButton(this);
  close_->setText(QStringLiteral("✕"));
  close_->setToolTip(tr("Hide the guide (Help ▸ Getting started shows it again)"));
  close_->setAutoRaise(true);
  toggle_->setAutoRaise(true);

  auto* top = new QHBoxLayout;
  top->setContentsMargins(0, 0, 0, 0);
  top->addWidget(header_, 1);
  top->addWidget(go_);
  top->addWidget(toggle_);
  top->addWidget(close_);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(8, 4, 8, 4);
  layout->setSpacing(2);
  layout->addLayout(top);
  layout->addWidget(steps_);

  connect(toggle_, &QToolButton::clicked, this, [this] { setExpanded(!expanded_); });
  connect(close_, &QToolButton::clicked, this, [this] {
    hide();
    Q_EMIT dismissed();
  });
  connect(go_, &QToolButton::clicked, this, [this] {
    const int step = currentStep();
    if (step < kStepCount) Q_EMIT showTabRequested(kSteps[step].tab);
  });
  connect(session_, &ProjectSession::projectOpened, this, [this] {
    saw_suggestions_ = false;
    inspected_ = false;
    refresh();
  });
  connect(session_, &ProjectSession::annotationChanged, this, &FirstStepsGuide::refresh);
  connect(session_, &ProjectSession::runsChanged, this, &FirstStepsGuide::refresh);
}

bool FirstStepsGuide::stepDone(int step) const {
  switch (step) {
    case 0: return labelled_ >= kLabelsToStart;
    case 1: return run_finished_;
    case 2: return run_finished_ && saw_suggestions_;
    case 3: return run_finished_ && inspected_;
    default: return false;
  }
}

int FirstStepsGuide::currentStep() const {
  for (int i = 0; i < kStepCount; ++i)
    if (!stepDone(i)) return i;
  return kStepCount;
}

void FirstStepsGuide::showEvent(QShowEvent* event) {
  QFrame::showEvent(event);
  refresh();
}

void FirstStepsGuide::refresh() {
  // Hidden (every project but the demo, or dismissed) it reads nothing: labelling is a hot path, and
  // showEvent catches up.
  if (!isVisible()) return;
  labelled_ = 0;
  run_finished_ = false;
  if (session_->isOpen()) {
    ImageFilter filter;
    filter.split = Split::Train;
    filter.annotated = true;
    labelled_ = session_->store()->countImages(filter);
    for (const auto& run : session_->store()->runs())
      if (run.status == RunStatus::Finished) run_finished_ = true;
  }
  render();
}

void FirstStepsGuide::tabShown(int tab) {
  // Looking at Annotate or Inspect only counts once a model exists to show something.
  if (!run_finished_) return;
  if (tab == 0) saw_suggestions_ = true;
  if (tab == 2) inspected_ = true;
  render();
}

void FirstStepsGuide::setExpanded(bool expanded) {
  expanded_ = expanded;
  render();
}

QString FirstStepsGuide::stepsText() const { return steps_->text(); }

void FirstStepsGuide::render() {
  const int step = currentStep();
  if (step >= kStepCount) {
    header_->setText(tr("<b>Getting started:</b> all four steps done — the loop is yours. Label more, train "
                        "again, compare runs."));
  } else {
    QString title = tr(kSteps[step].title);
    if (step == 0) title += tr(" (%1 of %2)").arg(labelled_).arg(kLabelsToStart);
    header_->setText(tr("<b>Getting started %1/%2:</b> %3").arg(step + 1).arg(kStepCount).arg(title));
  }
  const char* tab_names[] = {QT_TR_NOOP("Annotate"), QT_TR_NOOP("Train"), QT_TR_NOOP("Inspect")};
  go_->setVisible(step < kStepCount);
  if (step < kStepCount) go_->setText(tr("Go to %1").arg(tr(tab_names[kSteps[step].tab])));
  toggle_->setText(expanded_ ? tr("Current step") : tr("All steps"));
  // Collapsed, the guide shows only what to do now, so it stays a few lines high beside the image.
  QString html;
  if (!expanded_) {
    if (step < kStepCount) html = tr(kSteps[step].how);
  } else {
    for (int i = 0; i < kStepCount; ++i) {
      const QString mark = stepDone(i) ? QStringLiteral("✔") : (i == step ? QStringLiteral("➜") : QStringLiteral("○"));
      const QString title = i == step ? QStringLiteral("<b>%1</b>").arg(tr(kSteps[i].title)) : tr(kSteps[i].title);
      html += QStringLiteral("%1 %2. %3 — %4<br>").arg(mark).arg(i + 1).arg(title, tr(kSteps[i].how));
    }
  }
  steps_->setText(html);
  steps_->setVisible(!html.isEmpty());
}

}  // namespace mls
