#include "dialogs/single_positive_dialog.h"

#include <QApplication>
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "data/labels/single_positive_generator.h"
#include "data/store/project_store.h"

namespace mls {

SinglePositiveDialog::SinglePositiveDialog(ProjectStore* store, QWidget* parent) : QDialog(parent), store_(store) {
  setWindowTitle(tr("Generate single positives"));
  const auto counts = store_->counts();
  ImageFilter by_user;
  by_user.split = Split::Train;
  by_user.annotated = true;
  const int64_t annotated = store_->countImages(by_user);

  auto* intro = new QLabel(
      tr("For each training image with ground-truth labels, keep <b>one</b> of them, drawn at random — the "
         "single-positive protocol of Cole et al. (2021). The draw depends only on the seed and the image, so "
         "the same seed always gives the same labels.<p>%1 training images, %2 of them already have a single "
         "positive.")
          .arg(counts.train)
          .arg(annotated),
      this);
  intro->setWordWrap(true);
  seed_ = new QSpinBox(this);
  seed_->setRange(0, 999999999);
  seed_->setValue(1200);  // the MLSPL code's default seed
  overwrite_ = new QCheckBox(tr("Also replace labels set by hand (yours and accepted suggestions)"), this);
  error_ = new QLabel(this);
  error_->setWordWrap(true);
  error_->setStyleSheet(QStringLiteral("color: #d9534f"));
  error_->hide();

  auto* form = new QFormLayout;
  form->addRow(tr("Seed"), seed_);
  form->addRow(overwrite_);
  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
  buttons->button(QDialogButtonBox::Ok)->setText(tr("Generate"));
  connect(buttons, &QDialogButtonBox::accepted, this, &SinglePositiveDialog::accept);
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(intro);
  layout->addLayout(form);
  layout->addWidget(error_);
  layout->addWidget(buttons);
  if (counts.labels == 0) {
    error_->setText(tr("This project has no ground-truth labels to draw from."));
    error_->show();
    buttons->button(QDialogButtonBox::Ok)->setEnabled(false);
  }
}

void SinglePositiveDialog::accept() {
  try {
    QApplication::setOverrideCursor(Qt::WaitCursor);
    const auto report = generateSinglePositives(*store_, static_cast<uint64_t>(seed_->value()), overwrite_->isChecked());
    QApplication::restoreOverrideCursor();
    summary_ = tr("Generated %1 single positives (seed %2); %3 set by hand were kept.")
                   .arg(report.written)
                   .arg(seed_->value())
                   .arg(report.kept_user);
    QDialog::accept();
  } catch (const std::exception& e) {
    QApplication::restoreOverrideCursor();
    error_->setText(tr("Nothing was changed: %1").arg(QString::fromUtf8(e.what())));
    error_->show();
  }
}

}  // namespace mls
