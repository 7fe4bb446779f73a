// The main window: thumbnail browser (left dock), large image view (centre), and the Annotate / Train /
// Inspect dock tabs (right). Menus with standard shortcuts, a status bar with the compute device, the
// annotation progress and background-task progress, recent projects, and window state kept in QSettings.
#pragma once
#include <QList>
#include <QMainWindow>
#include <functional>

class QAction;
class QLabel;
class QMenu;
class QProgressBar;
class QTabWidget;
class QDockWidget;

namespace mls {
class AnnotatePanel;
class BrowserPanel;
class FirstStepsGuide;
class ImageView;
class InspectPanel;
class ProjectSession;
class RunsPanel;
class ThumbnailModel;
class TrainPanel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  enum class Tab { Annotate = 0, Train = 1, Inspect = 2, Runs = 3 };
  // What to do with a run that trains when another project is opened.
  enum class LeaveChoice { Cancel, StopRun, KeepTraining };

  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens a project file; on failure shows the reason (dialog unless quiet) and keeps the current project.
  // While a run trains, asks first (askLeaveWhileTraining); every panel resets to the new project.
  bool openProject(const QString& path, bool quiet = false);
  // Tests answer the "training in progress" question without a modal dialog.
  void setLeavePrompt(std::function<LeaveChoice(const QString& next_path)> prompt) { leave_prompt_ = std::move(prompt); }
  // The open project's folder: where export dialogs start.
  QString projectFolder() const;
  FirstStepsGuide* guide() const { return guide_; }
  QString projectPath() const;
  void showTab(Tab tab);
  void setDarkPalette(bool dark);

  ProjectSession* session() const { return session_; }
  BrowserPanel* browserPanel() const { return browser_; }
  ThumbnailModel* thumbnailModel() const;
  ImageView* imageView() const { return view_; }

 protected:
  void closeEvent(QCloseEvent* e) override;

 private:
  void buildMenus();
  void buildStatusBar();
  void newFromCoco();
  void openWithDialog();
  void openDemo();
  void generateSinglePositives();
  void exportAnnotations();
  void relinkImages();
  bool idleForBulkChange(const QString& what);
  void reopenAfterBulkChange(const QString& summary);
  void warnAboutMovedFolders();
  void exportRunWeights();
  void switchTabLayout(int tab);
  LeaveChoice askLeaveWhileTraining(const QString& next_path);
  void rebuildRecentMenu();
  void addRecent(const QString& path);
  void showCurrentImage();
  void updateAnnotationStatus();
  void backgroundProgress(int percent, const QString& text);

  ProjectSession* session_;
  BrowserPanel* browser_;
  ImageView* view_;
  AnnotatePanel* annotate_;
  TrainPanel* train_;
  InspectPanel* inspect_;
  RunsPanel* runs_;
  QTabWidget* tabs_;
  FirstStepsGuide* guide_;
  QList<QAction*> project_actions_;  // need an open project
  std::function<LeaveChoice(const QString&)> leave_prompt_;
  int layout_tab_ = -1;
  QDockWidget* browser_dock_;
  QDockWidget* tools_dock_;
  QMenu* recent_menu_ = nullptr;
  QAction* dark_action_ = nullptr;
  QLabel* device_label_;
  QLabel* annotation_label_;
  QLabel* task_label_;
  QProgressBar* task_progress_;
  qint64 decoded_id_ = -1;  // the image in decoded_ (ids are per project: reset when one opens)
  QImage decoded_;
};

}  // namespace mls
