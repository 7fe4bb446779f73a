#include "main_window.h"

#include <QApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QListView>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

#include "browser/thumbnail_model.h"
#include "demo_project.h"

namespace mls {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent) {
  setWindowTitle(tr("Multi-Label Studio"));
  setWindowIcon(QIcon(QStringLiteral(":/app.svg")));
  model_ = new ThumbnailModel(this);
  browser_ = new QListView(this);
  browser_->setViewMode(QListView::IconMode);
  browser_->setResizeMode(QListView::Adjust);
  browser_->setMovement(QListView::Static);
  browser_->setUniformItemSizes(true);
  browser_->setIconSize(QSize(96, 96));
  browser_->setGridSize(QSize(120, 124));
  browser_->setSpacing(4);
  browser_->setWordWrap(true);
  browser_->setLayoutMode(QListView::Batched);
  browser_->setModel(model_);
  setCentralWidget(browser_);
  count_label_ = new QLabel(this);
  statusBar()->addPermanentWidget(count_label_);
  buildMenus();
  connect(model_, &QAbstractItemModel::modelReset, this, &MainWindow::updateStatus);
  connect(model_, &QAbstractItemModel::rowsInserted, this, &MainWindow::updateStatus);
  resize(1400, 900);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu(tr("&Project"));
  file->addAction(tr("&Open…"), QKeySequence::Open, this, &MainWindow::openWithDialog);
  file->addAction(tr("Open &demo project"), this, &MainWindow::openDemo);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, qApp, &QApplication::quit);
}

bool MainWindow::openProject(const QString& path) {
  try {
    if (!QFileInfo::exists(path)) throw std::runtime_error("the file does not exist");
    model_->setProject(path);
    project_path_ = path;
    setWindowTitle(tr("%1 — Multi-Label Studio").arg(QFileInfo(path).fileName()));
    updateStatus();
    return true;
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot open project"), tr("%1\n\n%2").arg(path, QString::fromUtf8(e.what())));
    return false;
  }
}

void MainWindow::openDemo() {
  try {
    statusBar()->showMessage(tr("Preparing the demo project…"));
    openProject(ensureDemoProject());
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Cannot create demo project"), QString::fromUtf8(e.what()));
  }
}

void MainWindow::openWithDialog() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open project"), {}, tr("Projects (*.mlsproj)"));
  if (!path.isEmpty()) openProject(path);
}

void MainWindow::updateStatus() {
  count_label_->setText(tr("%n image(s)", nullptr, model_->totalCount()));
}

}  // namespace mls
