#include "main_window.h"

#include <QAction>
#include <climits>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QImageReader>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QUndoStack>
#include <QVBoxLayout>

#include "annotate/annotate_panel.h"
#include "contrast_style.h"
#include "browser/browser_panel.h"
#include "browser/thumbnail_model.h"
#include "data/store/project_store.h"
#include "demo_project.h"
#include "dialogs/coco_import_dialog.h"
#include "dialogs/relink_dialog.h"
#include "dialogs/single_positive_dialog.h"
#include "export_actions.h"
#include "guide/first_steps_guide.h"
#include "help/shortcuts_dialog.h"
#include "inspect/inspect_panel.h"
#include "ml/device.h"
#include "project_session.h"
#include "runs/runs_panel.h"
#include "train/train_form.h"
#include "train/train_panel.h"
#include "train/train_presets.h"
#include "view/image_file.h"
#include "view/image_view.h"

namespace mls {

namespace {
constexpr int kMaxRecent = 8;

QString deviceText() {
  try {
    const auto cuda = cudaDevices();
    if (!cuda.empty()) {
      QStringList parts;
      for (const auto& d : cuda)
        parts << QStringLiteral("%1 (%2 GiB)").arg(QString::fromStdString(d.name)).arg(d.total_memory_gib, 0, 'f', 1);
      return QObject::tr("Device: CUDA — %1").arg(parts.join(QStringLiteral(", ")));
    }
    return QObject::tr("Device: %1").arg(QString::fromStdString(describeDevice("cpu")));
  } catch (const std::exception& e) {
    return QObject::tr("Device: unknown (%1)").arg(QString::fromUtf8(e.what()));
  }
}
}  // namespace

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setObjectName(QStringLiteral("MainWindow"));
  setWindowTitle(tr("Multi-Label Studio"));
  setWindowIcon(QIcon(QStringLiteral(":/app.svg")));
  setDockNestingEnabled(true);
  session_ = new ProjectSession(this);

  // The guide sits above the image so it is read while labelling, and collapses to one line.
  auto* centre = new QWidget(this);
  view_ = new ImageView(centre);
  guide_ = new FirstStepsGuide(session_, centre);
  auto* centre_layout = new QVBoxLayout(centre);
  centre_layout->setContentsMargins(0, 0, 0, 0);
  centre_layout->setSpacing(0);
  centre_layout->addWidget(guide_);
  centre_layout->addWidget(view_, 1);
  setCentralWidget(centre);
  guide_->hide();

  browser_ = new BrowserPanel(session_, this);
  browser_dock_ = new QDockWidget(tr("Images"), this);
  browser_dock_->setObjectName(QStringLiteral("ImagesDock"));
  browser_dock_->setWidget(browser_);
  // Closable: otherwise Qt greys out the dock's View-menu toggle.
  browser_dock_->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                             QDockWidget::DockWidgetClosable);
  addDockWidget(Qt::LeftDockWidgetArea, browser_dock_);

  annotate_ = new AnnotatePanel(session_, this);
  train_ = new TrainPanel(session_, this);
  inspect_ = new InspectPanel(session_, this);
  tabs_ = new QTabWidget(this);
  tabs_->addTab(annotate_, tr("Annotate"));
  tabs_->addTab(train_, tr("Train"));
  tabs_->addTab(inspect_, tr("Inspect"));
  runs_ = new RunsPanel(session_, this);
  runs_->setTrainingRunQuery([this] { return train_->isTraining() ? train_->currentRunId() : qint64(-1); });
  tabs_->addTab(runs_, tr("Runs"));
  tools_dock_ = new QDockWidget(tr("Tools"), this);
  tools_dock_->setObjectName(QStringLiteral("ToolsDock"));
  tools_dock_->setWidget(tabs_);
  tools_dock_->setFeatures(QDockWidget::DockWidgetMovable | QDockWidget::DockWidgetFloatable |
                           QDockWidget::DockWidgetClosable);
  addDockWidget(Qt::RightDockWidgetArea, tools_dock_);

  buildMenus();
  buildStatusBar();
  showCurrentImage();

  connect(session_, &ProjectSession::currentImageChanged, this, &MainWindow::showCurrentImage);
  connect(session_, &ProjectSession::annotationChanged, this, &MainWindow::updateAnnotationStatus);
  connect(session_, &ProjectSession::projectOpened, this, &MainWindow::updateAnnotationStatus);
  connect(inspect_, &InspectPanel::overlayChanged, this, &MainWindow::showCurrentImage);
  connect(tabs_, &QTabWidget::currentChanged, this, &MainWindow::showCurrentImage);
  connect(tabs_, &QTabWidget::currentChanged, this, &MainWindow::switchTabLayout);
  connect(tabs_, &QTabWidget::currentChanged, guide_, &FirstStepsGuide::tabShown);
  connect(guide_, &FirstStepsGuide::showTabRequested, this, [this](int tab) {
    // The guide's "train" step means the demo's ROLE preset: fill the form with it unless a run is going.
    if (tab == static_cast<int>(Tab::Train) && !train_->isTraining())
      train_->form()->applyPreset(trainPresetIndex(QString::fromLatin1(kDemoRolePreset)));
    showTab(static_cast<Tab>(tab));
  });
  connect(guide_, &FirstStepsGuide::dismissed, this, [] { QSettings().setValue(QStringLiteral("guide/dismissed"), true); });
  connect(train_, &TrainPanel::backgroundProgress, this, &MainWindow::backgroundProgress);
  connect(train_, &TrainPanel::runFinished, this, [this](qint64 run_id, const QString& status) {
    // The Train panel has already told the session that the run list changed and said how the run ended
    // (statusMessage).
    if (status == QLatin1String(runStatusName(RunStatus::Finished))) session_->setCurrentRun(run_id);
  });
  connect(train_, &TrainPanel::statusMessage, this, [this](const QString& text) { statusBar()->showMessage(text, 10000); });
  connect(annotate_, &AnnotatePanel::errorOccurred, this,
          [this](const QString& message) { QMessageBox::warning(this, tr("Annotation not stored"), message); });
  connect(annotate_, &AnnotatePanel::statusMessage, this,
          [this](const QString& message) { statusBar()->showMessage(message, 5000); });

  QSettings settings;
  if (!restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray())) resize(1400, 900);
  // Never larger than the screen (a 1280x720 laptop, or geometry saved on a bigger monitor).
  if (const QScreen* s = screen()) {
    const QSize avail = s->availableGeometry().size();
    if (width() > avail.width() || height() > avail.height()) {
      resize(size().boundedTo(avail * 0.96));
      move(s->availableGeometry().topLeft());
    }
  }
  restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
  layout_tab_ = tabs_->currentIndex();
  // First start: the image gets the room (two thumbnail columns, a compact Annotate panel).
  if (settings.value(QStringLiteral("window/state")).isNull())
    resizeDocks({browser_dock_, tools_dock_}, {width() / 5, width() * 3 / 10}, Qt::Horizontal);
  setDarkPalette(settings.value(QStringLiteral("view/dark"), false).toBool());
}

MainWindow::~MainWindow() = default;

ThumbnailModel* MainWindow::thumbnailModel() const { return browser_->model(); }
QString MainWindow::projectPath() const { return session_->path(); }

void MainWindow::buildMenus() {
  auto* project = menuBar()->addMenu(tr("&Project"));
  project->addAction(tr("&New from COCO…"), QKeySequence::New, this, &MainWindow::newFromCoco);
  project->addAction(tr("&Open…"), QKeySequence::Open, this, &MainWindow::openWithDialog);
  recent_menu_ = project->addMenu(tr("Open &Recent"));
  project->addAction(tr("Open &demo project"), this, &MainWindow::openDemo);
  project->addSeparator();
  project_actions_ << project->addAction(tr("&Generate single positives…"), this, &MainWindow::generateSinglePositives);
  project_actions_ << project->addAction(tr("&Relink images folder…"), this, &MainWindow::relinkImages);
  project_actions_ << project->addAction(tr("E&xport annotations…"), this, &MainWindow::exportAnnotations);
  project_actions_ << project->addAction(tr("Export run &weights (PyTorch)…"), this, &MainWindow::exportRunWeights);
  project->addSeparator();
  project->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
  rebuildRecentMenu();
  for (QAction* a : project_actions_) a->setEnabled(false);  // until a project opens

  auto* edit = menuBar()->addMenu(tr("&Edit"));
  auto* undo = annotate_->undoStack()->createUndoAction(this, tr("&Undo"));
  undo->setShortcut(QKeySequence::Undo);
  auto* redo = annotate_->undoStack()->createRedoAction(this, tr("&Redo"));
  redo->setShortcut(QKeySequence::Redo);
  edit->addAction(undo);
  edit->addAction(redo);

  auto* view = menuBar()->addMenu(tr("&View"));
  view->addAction(tr("Zoom to &fit"), QKeySequence(Qt::CTRL | Qt::Key_0), view_, &ImageView::zoomToFit);
  view->addAction(tr("Zoom &in"), QKeySequence::ZoomIn, view_, &ImageView::zoomIn);
  view->addAction(tr("Zoom &out"), QKeySequence::ZoomOut, view_, &ImageView::zoomOut);
  view->addSeparator();
  view->addAction(tr("&Annotate"), QKeySequence(Qt::CTRL | Qt::Key_1), this, [this] { showTab(Tab::Annotate); });
  view->addAction(tr("&Train"), QKeySequence(Qt::CTRL | Qt::Key_2), this, [this] { showTab(Tab::Train); });
  view->addAction(tr("&Inspect"), QKeySequence(Qt::CTRL | Qt::Key_3), this, [this] { showTab(Tab::Inspect); });
  view->addAction(tr("&Runs"), QKeySequence(Qt::CTRL | Qt::Key_4), this, [this] { showTab(Tab::Runs); });
  view->addSeparator();
  view->addAction(browser_dock_->toggleViewAction());
  view->addAction(tools_dock_->toggleViewAction());
  dark_action_ = view->addAction(tr("&Dark palette"));
  dark_action_->setCheckable(true);
  connect(dark_action_, &QAction::toggled, this, &MainWindow::setDarkPalette);

  auto* help = menuBar()->addMenu(tr("&Help"));
  help->addAction(tr("&Getting started"), this, [this] {
    QSettings().setValue(QStringLiteral("guide/dismissed"), false);
    guide_->show();
  });
  help->addAction(tr("&Keyboard shortcuts"), QKeySequence(Qt::Key_F1), this,
                  [this] { ShortcutsDialog(this, annotate_->keyBindings()).exec(); });
  help->addAction(tr("&About"), this, [this] {
    QMessageBox::about(this, tr("About Multi-Label Studio"),
                       tr("<b>Multi-Label Studio</b><p>Annotate one positive label per image, train Query2Label "
                          "or single-positive models (AN, EPR, ROLE), and inspect predictions and attention maps."
                          "<p>Keys: 1–9 quick labels · A/D previous/next · Enter accept suggestion · "
                          "Ctrl+Z/Ctrl+Shift+Z undo/redo · Ctrl+1/2/3 tabs."));
  });
}

void MainWindow::buildStatusBar() {
  device_label_ = new QLabel(deviceText(), this);
  annotation_label_ = new QLabel(this);
  task_label_ = new QLabel(this);
  task_progress_ = new QProgressBar(this);
  task_progress_->setMaximumWidth(220);
  task_progress_->setRange(0, 100);
  task_progress_->hide();
  statusBar()->addPermanentWidget(task_label_);
  statusBar()->addPermanentWidget(task_progress_);
  statusBar()->addPermanentWidget(annotation_label_);
  statusBar()->addPermanentWidget(device_label_);
}

void MainWindow::backgroundProgress(int percent, const QString& text) {
  task_progress_->setVisible(percent >= 0);
  task_label_->setVisible(percent >= 0);
  if (percent >= 0) task_progress_->setValue(percent);
  task_label_->setText(text);
}

// The Annotate panel keeps these counts in memory and has already updated them (it connects first).
void MainWindow::updateAnnotationStatus() {
  if (!session_->isOpen()) return;
  annotation_label_->setText(annotate_->progressText());
}

MainWindow::LeaveChoice MainWindow::askLeaveWhileTraining(const QString& next_path) {
  if (leave_prompt_) return leave_prompt_(next_path);
  QMessageBox box(QMessageBox::Question, tr("Training in progress"),
                  tr("Run %1 is training on this project. Stop it before opening %2?\n\nStopping keeps its "
                     "last checkpoint (Train ▸ resume continues it).")
                      .arg(train_->currentRunId())
                      .arg(QFileInfo(next_path).fileName()),
                  QMessageBox::NoButton, this);
  auto* stop = box.addButton(tr("Stop the run and open"), QMessageBox::DestructiveRole);
  auto* keep = box.addButton(tr("Keep it training in the background"), QMessageBox::AcceptRole);
  box.addButton(QMessageBox::Cancel);
  box.setDefaultButton(qobject_cast<QPushButton*>(box.button(QMessageBox::Cancel)));
  box.exec();
  if (box.clickedButton() == stop) return LeaveChoice::StopRun;
  return box.clickedButton() == keep ? LeaveChoice::KeepTraining : LeaveChoice::Cancel;
}

bool MainWindow::openProject(const QString& path, bool quiet) {
  const bool same = session_->isOpen() && QFileInfo(path) == QFileInfo(session_->path());
  if (same && train_->isTraining()) return true;  // reopening would only interrupt the run's curves
  if (session_->isOpen() && train_->isTraining()) {
    const LeaveChoice choice = askLeaveWhileTraining(path);
    if (choice == LeaveChoice::Cancel) return false;
    // Kept runs go on with their own worker and connection; the panel detaches them when the project opens.
    if (choice == LeaveChoice::StopRun && !train_->stopAndWait()) {
      QMessageBox::warning(this, tr("Training in progress"), tr("The run did not stop in time; the project stays open."));
      return false;
    }
  }
  QString error;
  if (!session_->open(path, &error)) {
    if (!quiet) QMessageBox::warning(this, tr("Cannot open project"), tr("%1\n\n%2").arg(path, error));
    return false;
  }
  decoded_id_ = -1;
  statusBar()->clearMessage();
  backgroundProgress(-1, {});
  for (QAction* a : project_actions_) a->setEnabled(true);
  setWindowTitle(tr("%1 — Multi-Label Studio").arg(QFileInfo(path).fileName()));
  addRecent(QFileInfo(path).absoluteFilePath());
  // The guide opens by itself on the demo (a new user's first project) until dismissed.
  const bool demo = QFileInfo(path).absoluteDir() == QDir(demoProjectDir());
  guide_->setVisible(demo && !QSettings().value(QStringLiteral("guide/dismissed"), false).toBool());
  // Start on the first image so every panel has something to show.
  if (auto first = session_->store()->neighbourImage(INT64_MIN)) session_->setCurrentImage(*first);
  warnAboutMovedFolders();  // last: panels reacting to the new image post their own messages first
  return true;
}

void MainWindow::showTab(Tab tab) {
  tools_dock_->show();
  tabs_->setCurrentIndex(static_cast<int>(tab));
}

void MainWindow::showCurrentImage() {
  const qint64 id = session_->currentImage();
  if (!session_->isOpen()) {
    view_->showMessage(tr("No project open.\n\nProject ▸ Open demo project, Open… or New from COCO…"));
    return;
  }
  if (id < 0) {
    view_->setImage({});
    return;
  }
  const auto record = session_->store()->image(id);
  if (!record) {
    view_->showMessage(tr("Image %1 is not in this project.").arg(id));
    return;
  }
  const QString caption = QString::fromStdString(record->file_name);
  const QImage overlay = inspect_->currentOverlay();
  if (tabs_->currentIndex() == static_cast<int>(Tab::Inspect) && !overlay.isNull()) {
    view_->setImage(overlay, caption + tr("  (attention overlay)"));
    return;
  }
  // Decoded once per image: tab switches and overlay changes show the same picture again.
  if (id != decoded_id_) {
    ImageFile file = readImageFile(QString::fromStdString(session_->store()->imagePath(*record)));
    if (file.image.isNull()) {
      // Not cached: the next visit reads again, so a folder moved back shows up without reopening.
      decoded_ = QImage();
      decoded_id_ = -1;
      view_->showMessage(file.error);
      statusBar()->showMessage(file.error, 5000);
      return;
    }
    decoded_ = std::move(file.image);
    decoded_id_ = id;
  }
  view_->setImage(decoded_, caption);
}

void MainWindow::newFromCoco() {
  CocoImportDialog dialog(this);
  connect(&dialog, &CocoImportDialog::imported, this, [this](const QString& path, const QString& summary) {
    if (openProject(path)) statusBar()->showMessage(summary, 10000);
  });
  dialog.exec();
}

void MainWindow::openWithDialog() {
  const QString path = QFileDialog::getOpenFileName(
      this, tr("Open project"), session_->isOpen() ? projectFolder() : QDir::homePath(), tr("Projects (*.mlsproj)"));
  if (!path.isEmpty()) openProject(path);
}

void MainWindow::openDemo() {
  try {
    statusBar()->showMessage(tr("Preparing the demo project…"));
    QApplication::setOverrideCursor(Qt::WaitCursor);
    const QString path = ensureDemoProject();
    QApplication::restoreOverrideCursor();
    openProject(path);
  } catch (const std::exception& e) {
    QApplication::restoreOverrideCursor();
    QMessageBox::warning(this, tr("Cannot create demo project"), QString::fromUtf8(e.what()));
  }
}

void MainWindow::rebuildRecentMenu() {
  recent_menu_->clear();
  const QStringList recent = QSettings().value(QStringLiteral("recentProjects")).toStringList();
  for (const QString& path : recent) recent_menu_->addAction(path, this, [this, path] { openProject(path); });
  recent_menu_->setEnabled(!recent.isEmpty());
}

void MainWindow::addRecent(const QString& path) {
  QSettings settings;
  QStringList recent = settings.value(QStringLiteral("recentProjects")).toStringList();
  recent.removeAll(path);
  recent.prepend(path);
  while (recent.size() > kMaxRecent) recent.removeLast();
  settings.setValue(QStringLiteral("recentProjects"), recent);
  rebuildRecentMenu();
}

void MainWindow::setDarkPalette(bool dark) {
  if (dark_action_ && dark_action_->isChecked() != dark) {
    const QSignalBlocker block(dark_action_);
    dark_action_->setChecked(dark);
  }
  QSettings().setValue(QStringLiteral("view/dark"), dark);
  qApp->setStyle(new ContrastStyle);
  if (!dark) {
    qApp->setPalette(qApp->style()->standardPalette());
    return;
  }
  QPalette p;
  p.setColor(QPalette::Window, QColor(45, 45, 48));
  p.setColor(QPalette::WindowText, QColor(220, 220, 220));
  p.setColor(QPalette::Base, QColor(30, 30, 32));
  p.setColor(QPalette::AlternateBase, QColor(45, 45, 48));
  p.setColor(QPalette::ToolTipBase, QColor(60, 60, 64));
  p.setColor(QPalette::ToolTipText, QColor(230, 230, 230));
  p.setColor(QPalette::Text, QColor(220, 220, 220));
  p.setColor(QPalette::Button, QColor(55, 55, 58));
  p.setColor(QPalette::ButtonText, QColor(220, 220, 220));
  p.setColor(QPalette::BrightText, QColor(255, 255, 255));
  p.setColor(QPalette::Highlight, QColor(42, 130, 218));
  p.setColor(QPalette::HighlightedText, Qt::white);
  p.setColor(QPalette::Dark, QColor(25, 25, 27));
  p.setColor(QPalette::PlaceholderText, QColor(150, 150, 150));  // Qt's default is near-black: unreadable here
  p.setColor(QPalette::Disabled, QPalette::Text, QColor(120, 120, 120));
  p.setColor(QPalette::Disabled, QPalette::ButtonText, QColor(120, 120, 120));
  qApp->setPalette(p);
}

// A moved images folder shows as missing thumbnails; say why and where to fix it (a cheap check: the
// folders themselves, not every file).
void MainWindow::warnAboutMovedFolders() {
  QStringList gone;
  for (const auto& folder : session_->store()->imageFolderPaths())
    if (!QFileInfo(QString::fromStdString(folder)).isDir()) gone << QString::fromStdString(folder);
  if (!gone.isEmpty())
    statusBar()->showMessage(tr("Images folder not found: %1 — Project ▸ Relink images folder… points it to the new place.")
                                 .arg(gone.join(QStringLiteral(", "))));
}

QString MainWindow::projectFolder() const {
  return session_->isOpen() ? QFileInfo(session_->path()).absolutePath() : QString();
}

// Bulk changes (labels, image folders) change what a running training reads: only between runs.
bool MainWindow::idleForBulkChange(const QString& what) {
  if (!session_->isOpen()) return false;
  if (!train_->isTraining()) return true;
  QMessageBox::information(this, tr("Training in progress"),
                           tr("%1 changes the training data: wait for the run to end or stop it.").arg(what));
  return false;
}

// Every count, filter, thumbnail and panel depends on what changed: open the project again so all of them
// re-read it, staying on the same image.
void MainWindow::reopenAfterBulkChange(const QString& summary) {
  const qint64 image = session_->currentImage();
  if (openProject(session_->path()) && image >= 0) session_->setCurrentImage(image);
  statusBar()->showMessage(summary, 10000);
}

void MainWindow::generateSinglePositives() {
  if (!idleForBulkChange(tr("Generating labels"))) return;
  SinglePositiveDialog dialog(session_->store(), this);
  if (dialog.exec() == QDialog::Accepted) reopenAfterBulkChange(dialog.summary());
}

void MainWindow::relinkImages() {
  if (!idleForBulkChange(tr("Relinking the images folder"))) return;
  RelinkDialog dialog(session_->store(), projectFolder(), this);
  if (dialog.exec() == QDialog::Accepted) reopenAfterBulkChange(dialog.summary());
}

void MainWindow::exportAnnotations() {
  const QString summary = exportAnnotationsInteractive(this, session_);
  if (!summary.isEmpty()) statusBar()->showMessage(summary, 10000);
}

void MainWindow::exportRunWeights() {
  exportRunWeightsInteractive(this, session_, session_->currentRun(), [this](const QString& text, bool ok) {
    if (ok)
      statusBar()->showMessage(text, 15000);
    else
      QMessageBox::warning(this, tr("Export run weights"), text);
  });
}

namespace {
QString tabStateKey(int tab) { return QStringLiteral("window/tabState%1").arg(tab); }
}  // namespace

// Each tab keeps its own dock arrangement: the image gets the room while annotating, the curves while
// training. A tab seen for the first time gets a default split.
void MainWindow::switchTabLayout(int tab) {
  if (tab == layout_tab_) return;
  QSettings settings;
  if (layout_tab_ >= 0) settings.setValue(tabStateKey(layout_tab_), saveState());
  layout_tab_ = tab;
  const QByteArray state = settings.value(tabStateKey(tab)).toByteArray();
  if (!state.isEmpty() && restoreState(state)) return;
  const int w = width();
  if (tab == static_cast<int>(Tab::Train) || tab == static_cast<int>(Tab::Runs))
    resizeDocks({browser_dock_, tools_dock_}, {w / 6, w * 3 / 5}, Qt::Horizontal);
  else if (tab == static_cast<int>(Tab::Inspect))
    resizeDocks({browser_dock_, tools_dock_}, {w / 5, w * 2 / 5}, Qt::Horizontal);
  else
    resizeDocks({browser_dock_, tools_dock_}, {w / 5, w * 3 / 10}, Qt::Horizontal);
}

void MainWindow::closeEvent(QCloseEvent* e) {
  if (train_->isTraining() || train_->backgroundRuns() > 0) {
    const auto answer = QMessageBox::question(
        this, tr("Training in progress"),
        tr("%n run(s) still training. Stop them (their last checkpoints are kept; resume continues) and quit?", "",
           (train_->isTraining() ? 1 : 0) + train_->backgroundRuns()));
    if (answer != QMessageBox::Yes) {
      e->ignore();
      return;
    }
  }
  QSettings settings;
  settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
  settings.setValue(QStringLiteral("window/state"), saveState());
  if (layout_tab_ >= 0) settings.setValue(tabStateKey(layout_tab_), saveState());
  e->accept();
}

}  // namespace mls
