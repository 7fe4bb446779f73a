// The main window: thumbnail browser over the open project (the full workbench grows around it).
#pragma once
#include <QMainWindow>
#include <memory>

class QLabel;
class QListView;

namespace mls {
class ThumbnailModel;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens a project file; on failure shows the reason and keeps the current project. Returns success.
  bool openProject(const QString& path);
  QString projectPath() const { return project_path_; }
  ThumbnailModel* thumbnailModel() const { return model_; }
  QListView* browser() const { return browser_; }

 private:
  void buildMenus();
  void openDemo();
  void openWithDialog();
  void updateStatus();

  QString project_path_;
  ThumbnailModel* model_ = nullptr;
  QListView* browser_ = nullptr;
  QLabel* count_label_ = nullptr;
};

}  // namespace mls
