// "Getting started": a short guide above the image that teaches the loop — label a few images, train ROLE
// from those labels, see the model's suggestions, inspect its attention — and ticks each step off from what
// the project and the window really show (labels stored, a finished run, the tabs visited).
#pragma once
#include <QFrame>

class QLabel;
class QToolButton;

namespace mls {
class ProjectSession;

class FirstStepsGuide : public QFrame {
  Q_OBJECT
 public:
  static constexpr int kLabelsToStart = 20;  // enough single positives for a first ROLE run on the demo

  explicit FirstStepsGuide(ProjectSession* session, QWidget* parent = nullptr);

  // Index of the first step not done yet (0..3), or 4 when all are done.
  int currentStep() const;
  bool stepDone(int step) const;
  QString stepsText() const;  // what the guide shows under its header (tests read it)
  void setExpanded(bool expanded);

 public Q_SLOTS:
  void refresh();
  // The main window reports which tab the user looks at: "see suggestions" and "inspect" are steps of looking.
  void tabShown(int tab);

 Q_SIGNALS:
  void showTabRequested(int tab);  // 0 Annotate, 1 Train, 2 Inspect
  void dismissed();

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void render();

  ProjectSession* session_;
  QLabel* header_;
  QLabel* steps_;
  QToolButton* go_;
  QToolButton* toggle_;
  QToolButton* close_;
  bool expanded_ = false;  // collapsed: only the current step's instructions
  int64_t labelled_ = 0;
  bool run_finished_ = false;
  bool saw_suggestions_ = false;
  bool inspected_ = false;
};

}  // namespace mls
