#include "dialogs/relink_dialog.h"

#include <QDialogButtonBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "data/store/project_store.h"

namespace mls {

RelinkDialog::RelinkDialog(ProjectStore* store, const QString& start_dir, QWidget* parent)
    : QDialog(parent), store_(store), start_dir_(start_dir) {
  setWindowTitle(tr("Relink images folder"));
  auto* intro = new QLabel(tr("Images are read from these folders. If one has moved, choose where its files are "
                              "now; the project keeps every label and run."),
                           this);
  intro->setWordWrap(true);
  table_ = new QTableWidget(0, 3, this);
  table_->setHorizontalHeaderLabels({tr("Folder"), tr("Images"), tr("Files found")});
  table_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  table_->verticalHeader()->hide();
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  auto* browse = new QPushButton(tr("Choose the new folder…"), this);
  candidate_label_ = new QLabel(this);
  candidate_label_->setWordWrap(true);
  result_ = new QLabel(this);
  result_->setWordWrap(true);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  relink_ = buttons->addButton(tr("Relink"), QDialogButtonBox::AcceptRole);
  relink_->setEnabled(false);
  connect(buttons, &QDialogButtonBox::accepted, this, &RelinkDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(browse, &QPushButton::clicked, this, &RelinkDialog::chooseCandidate);
  connect(table_, &QTableWidget::currentCellChanged, this, [this] {
    if (!candidate_.isEmpty()) setCandidate(candidate_);
  });

  auto* layout = new QVBoxLayout(this);
  layout->addWidget(intro);
  layout->addWidget(table_, 1);
  auto* row = new QHBoxLayout;
  row->addWidget(browse);
  row->addWidget(candidate_label_, 1);
  layout->addLayout(row);
  layout->addWidget(result_);
  layout->addWidget(buttons);
  resize(620, 320);
  reloadFolders();
}

void RelinkDialog::reloadFolders() {
  folders_ = store_->imageFolders();
  table_->setRowCount(static_cast<int>(folders_.size()));
  int first_broken = -1;
  for (int r = 0; r < static_cast<int>(folders_.size()); ++r) {
    const auto& f = folders_[static_cast<size_t>(r)];
    table_->setItem(r, 0, new QTableWidgetItem(QString::fromStdString(f.path)));
    table_->setItem(r, 1, new QTableWidgetItem(QString::number(f.images)));
    table_->setItem(r, 2, new QTableWidgetItem(QString::number(f.present)));
    if (f.present < f.images && first_broken < 0) first_broken = r;
  }
  selectFolder(first_broken >= 0 ? first_broken : 0);
}

void RelinkDialog::selectFolder(int row) {
  if (row >= 0 && row < table_->rowCount()) table_->selectRow(row);
}

void RelinkDialog::chooseCandidate() {
  const QString dir = QFileDialog::getExistingDirectory(this, tr("Where are the images now?"),
                                                        candidate_.isEmpty() ? start_dir_ : candidate_);
  if (!dir.isEmpty()) setCandidate(dir);
}

void RelinkDialog::setCandidate(const QString& dir) {
  candidate_ = dir;
  candidate_label_->setText(dir);
  const int row = table_->currentRow();
  found_ = -1;
  relink_->setEnabled(false);
  if (row < 0 || row >= static_cast<int>(folders_.size())) return;
  const auto& folder = folders_[static_cast<size_t>(row)];
  try {
    found_ = store_->countFilesUnder(folder.id, dir.toStdString());
  } catch (const std::exception& e) {
    result_->setText(QString::fromUtf8(e.what()));
    return;
  }
  if (found_ == 0) {
    result_->setText(tr("None of this folder's %1 files are in %2: choose the folder that holds them.")
                         .arg(folder.images)
                         .arg(dir));
    return;
  }
  result_->setText(found_ == folder.images
                       ? tr("All %1 files found.").arg(found_)
                       : tr("%1 of %2 files found; the others will show as missing.").arg(found_).arg(folder.images));
  relink_->setEnabled(true);
}

void RelinkDialog::accept() {
  const int row = table_->currentRow();
  if (row < 0 || row >= static_cast<int>(folders_.size()) || found_ <= 0) return;
  try {
    const auto& folder = folders_[static_cast<size_t>(row)];
    const int64_t found = store_->relinkFolder(folder.id, candidate_.toStdString());
    summary_ = tr("Images folder relinked to %1: %2 of %3 files found.").arg(candidate_).arg(found).arg(folder.images);
    QDialog::accept();
  } catch (const std::exception& e) {
    result_->setText(tr("Nothing was changed: %1").arg(QString::fromUtf8(e.what())));
  }
}

}  // namespace mls
