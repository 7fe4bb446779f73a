// Project ▸ New from COCO: pick an annotation json, an image folder, a split and a val fraction; the import
// runs on a worker thread with a progress bar and can be cancelled. Errors are shown in the dialog, and a
// failed or cancelled import leaves the target project exactly as it was.
#pragma once
#include <QDialog>
#include <QFutureWatcher>
#include <atomic>
#include <memory>

class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace mls {

class CocoImportDialog : public QDialog {
  Q_OBJECT
 public:
  explicit CocoImportDialog(QWidget* parent = nullptr);
  ~CocoImportDialog() override;

  // Pre-fills the fields (tests, and "import into this project").
  void setFields(const QString& project, const QString& annotations, const QString& images,
                 const QString& split = QStringLiteral("train"), double val_fraction = 0.0);
  QString projectPath() const;
  QString errorText() const;   // last error shown, empty if none
  bool isRunning() const;

 public Q_SLOTS:
  void startImport();
  void cancelImport();

 Q_SIGNALS:
  void imported(const QString& project_path, const QString& summary);

 private:
  struct Outcome {
    bool ok = false;
    QString message;
  };
  void finished();
  void setBusy(bool busy);
  void showError(const QString& text);

  QLineEdit* project_ = nullptr;
  QLineEdit* annotations_ = nullptr;
  QLineEdit* images_ = nullptr;
  QComboBox* split_ = nullptr;
  QDoubleSpinBox* val_fraction_ = nullptr;
  QProgressBar* progress_ = nullptr;
  QLabel* status_ = nullptr;
  QPushButton* import_button_ = nullptr;
  QPushButton* cancel_button_ = nullptr;
  QString error_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  QFutureWatcher<Outcome> watcher_;
};

}  // namespace mls
