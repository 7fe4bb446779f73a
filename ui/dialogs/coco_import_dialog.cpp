#include "dialogs/coco_import_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMetaObject>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include "data/coco/coco_import.h"
#include "data/store/project_store.h"

namespace mls {

namespace {
QWidget* withBrowse(QWidget* parent, QLineEdit* edit, std::function<QString()> browse) {
  auto* row = new QWidget(parent);
  auto* layout = new QHBoxLayout(row);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->addWidget(edit, 1);
  auto* button = new QToolButton(row);
  button->setText(QStringLiteral("…"));
  QObject::connect(button, &QToolButton::clicked, row, [edit, browse] {
    const QString path = browse();
    if (!path.isEmpty()) edit->setText(path);
  });
  layout->addWidget(button);
  return row;
}
}  // namespace

CocoImportDialog::CocoImportDialog(QWidget* parent) : QDialog(parent) {
  setWindowTitle(tr("New project from COCO"));
  setMinimumWidth(560);
  project_ = new QLineEdit(this);
  annotations_ = new QLineEdit(this);
  images_ = new QLineEdit(this);
  split_ = new QComboBox(this);
  split_->addItems({QStringLiteral("train"), QStringLiteral("val"), QStringLiteral("test")});
  val_fraction_ = new QDoubleSpinBox(this);
  val_fraction_->setRange(0.0, 0.9);
  val_fraction_->setSingleStep(0.05);
  val_fraction_->setToolTip(tr("Seeded fraction of the imported train images that becomes the val split "
                               "(single-positive protocol: 0.2)"));
  // Browsing starts next to a file already chosen (a COCO layout keeps annotations/ and images side by side),
  // else in the home folder — never in whatever folder the app was started from.
  const auto startDir = [this] {
    for (const QLineEdit* e : {annotations_, images_, project_})
      if (!e->text().isEmpty()) return QFileInfo(e->text()).absolutePath();
    return QDir::homePath();
  };
  auto* form = new QFormLayout;
  form->addRow(tr("Project file:"), withBrowse(this, project_, [this, startDir] {
                 return QFileDialog::getSaveFileName(this, tr("Project file"), startDir(), tr("Projects (*.mlsproj)"),
                                                     nullptr, QFileDialog::DontConfirmOverwrite);
               }));
  form->addRow(tr("Annotations (instances_*.json):"), withBrowse(this, annotations_, [this, startDir] {
                 return QFileDialog::getOpenFileName(this, tr("COCO annotations"), startDir(), tr("JSON (*.json)"));
               }));
  form->addRow(tr("Image folder:"), withBrowse(this, images_, [this, startDir] {
                 return QFileDialog::getExistingDirectory(this, tr("Image folder"), startDir());
               }));
  form->addRow(tr("Split:"), split_);
  form->addRow(tr("Val fraction:"), val_fraction_);
  connect(split_, &QComboBox::currentTextChanged, this,
          [this](const QString& s) { val_fraction_->setEnabled(s == QLatin1String("train")); });

  progress_ = new QProgressBar(this);
  progress_->setRange(0, 1);
  progress_->setValue(0);
  progress_->setTextVisible(false);
  status_ = new QLabel(this);
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  auto* buttons = new QDialogButtonBox(this);
  import_button_ = buttons->addButton(tr("Import"), QDialogButtonBox::AcceptRole);
  cancel_button_ = buttons->addButton(QDialogButtonBox::Cancel);
  connect(import_button_, &QPushButton::clicked, this, &CocoImportDialog::startImport);
  connect(cancel_button_, &QPushButton::clicked, this, [this] {
    if (isRunning())
      cancelImport();
    else
      reject();
  });
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(form);
  layout->addWidget(progress_);
  layout->addWidget(status_);
  layout->addWidget(buttons);
  connect(&watcher_, &QFutureWatcher<Outcome>::finished, this, &CocoImportDialog::finished);
}

CocoImportDialog::~CocoImportDialog() {
  if (isRunning()) {
    cancelImport();
    watcher_.waitForFinished();
  }
}

void CocoImportDialog::setFields(const QString& project, const QString& annotations, const QString& images,
                                 const QString& split, double val_fraction) {
  project_->setText(project);
  annotations_->setText(annotations);
  images_->setText(images);
  split_->setCurrentText(split);
  val_fraction_->setValue(val_fraction);
}

QString CocoImportDialog::projectPath() const { return project_->text(); }
QString CocoImportDialog::errorText() const { return error_; }
bool CocoImportDialog::isRunning() const { return watcher_.isRunning(); }

void CocoImportDialog::setBusy(bool busy) {
  import_button_->setEnabled(!busy);
  for (auto* w : std::initializer_list<QWidget*>{project_, annotations_, images_, split_, val_fraction_}) w->setEnabled(!busy);
  progress_->setRange(0, busy ? 0 : 1);  // busy: indeterminate
  progress_->setValue(0);
}

void CocoImportDialog::showError(const QString& text) {
  error_ = text;
  status_->setText(QStringLiteral("<span style='color:#d9534f'>%1</span>").arg(text.toHtmlEscaped()));
}

void CocoImportDialog::startImport() {
  error_.clear();
  QString project = project_->text().trimmed();
  if (project.isEmpty() || annotations_->text().trimmed().isEmpty() || images_->text().trimmed().isEmpty()) {
    showError(tr("Choose a project file, an annotation file and an image folder."));
    return;
  }
  if (!project.endsWith(QLatin1String(".mlsproj"))) project += QStringLiteral(".mlsproj");
  project_->setText(project);
  CocoImportOptions opt;
  opt.annotations = annotations_->text().trimmed().toStdString();
  opt.images = images_->text().trimmed().toStdString();
  opt.split = parseSplit(split_->currentText().toStdString());
  opt.val_fraction = opt.split == Split::Train ? val_fraction_->value() : 0.0;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  auto cancel = cancel_;
  QPointer<QLabel> status = status_;
  opt.progress = [status](const std::string& phase) {
    QMetaObject::invokeMethod(status, [status, text = QString::fromStdString(phase)] {
      if (status) status->setText(text + QStringLiteral("…"));
    }, Qt::QueuedConnection);
  };
  setBusy(true);
  status_->setText(tr("Starting…"));
  watcher_.setFuture(QtConcurrent::run([opt, cancel, project]() mutable {
    Outcome out;
    opt.cancel = cancel.get();
    try {
      // The worker thread opens its own connection; the import is one transaction, and a project it
      // created is removed again when it fails or is cancelled.
      const auto r = importCocoIntoProject(project.toStdString(), opt);
      out.ok = true;
      out.message = QObject::tr("Imported %1 images and %2 labels (%3 annotations)%4 in %5 s.")
                        .arg(r.images)
                        .arg(r.labels)
                        .arg(r.annotations)
                        .arg(r.missing_files.empty() ? QString()
                                                     : QObject::tr("; %1 image files are missing").arg(r.missing_files.size()))
                        .arg(r.seconds, 0, 'f', 1);
    } catch (const std::exception& e) {
      out.message = QString::fromUtf8(e.what());
    }
    return out;
  }));
}

void CocoImportDialog::cancelImport() {
  if (cancel_) cancel_->store(true);
  status_->setText(tr("Cancelling…"));
}

void CocoImportDialog::finished() {
  const Outcome out = watcher_.result();
  setBusy(false);
  if (!out.ok) {
    showError(out.message);
    return;
  }
  status_->setText(out.message);
  Q_EMIT imported(project_->text(), out.message);
  accept();
}

}  // namespace mls
