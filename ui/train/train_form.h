// The Train tab's settings: every TrainRequest field a user chooses, plus presets. Knows nothing about
// running; request() reads the widgets and setRequest() fills them.
#pragma once
#include <QWidget>

#include "data/training/train_request.h"

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLineEdit;
class QSpinBox;
class QToolButton;

namespace mls {

class MemoryPlanBar;
class ScientificSpinBox;

class TrainForm : public QWidget {
  Q_OBJECT
 public:
  explicit TrainForm(QWidget* parent = nullptr);

  // The chosen settings (project left empty; the panel fills it).
  TrainRequest request() const;
  void setRequest(const TrainRequest& request);
  // Index into trainPresets(); fills the form.
  void applyPreset(int index);
  // Data-parallel processes for the run (1 = in this application). At most the CUDA devices when the device
  // is CUDA, else the CPU cores. Not part of the request or the presets: it is about this machine.
  int processes() const;
  void setProcesses(int processes);
  int maxProcesses() const;
  // Why the run cannot start with these processes (the global batch must split evenly over them); empty if
  // it can.
  QString processesProblem() const;
  // A user-chosen TorchScript backbone file; selects "torchscript:PATH".
  void setTorchScriptBackbone(const QString& path);

  // Widgets tests and the panel address directly.
  QComboBox* presetBox() const { return preset_; }
  QComboBox* methodBox() const { return method_; }
  QComboBox* lossBox() const { return loss_; }
  QComboBox* labelsBox() const { return labels_; }
  QComboBox* deviceBox() const { return device_; }
  QSpinBox* processesBox() const { return processes_; }
  // Predicted peak memory and epoch time of the current settings, and "Fit to this device".
  MemoryPlanBar* memoryPlanBar() const { return memory_plan_; }
  // For a newly opened project: clears the run name, greys the label sources it lacks and moves off them.
  // The rest of the form is the user's habit and stays.
  void resetForProject(bool has_full_labels, bool has_single_positives);
  // A single positive was just stored: single-positive training is possible now.
  void noteSinglePositive();

 Q_SIGNALS:
  void changed();

 private:
  void updateEnabled();
  void updateProcessesRange();
  void fillLosses();
  void updateLabelChoices();
  void onMethodChanged();
  void onLossChanged();
  static QString lossTitle(const QString& key);
  static QString methodTitle(Method method);
  Method currentMethod() const;
  void selectMethod(Method method);
  void chooseWeights();
  void onBackboneActivated(int index);
  static void selectData(QComboBox* box, const QString& value);

  QComboBox* preset_;
  QComboBox* method_;
  QComboBox* loss_;
  QComboBox* labels_;
  QComboBox* backbone_;
  QLineEdit* weights_;
  QToolButton* weights_browse_;
  QSpinBox* image_size_;
  QSpinBox* batch_;
  QSpinBox* epochs_;
  ScientificSpinBox* lr_;
  QComboBox* device_;
  QSpinBox* processes_;
  int cuda_devices_ = 0;
  QCheckBox* amp_;
  QComboBox* amp_dtype_;
  QCheckBox* checkpoint_backbone_;
  QCheckBox* channels_last_;
  QCheckBox* ema_on_;
  QDoubleSpinBox* ema_decay_;
  QSpinBox* linear_init_;
  QSpinBox* grad_accum_;
  QSpinBox* early_stop_;
  QSpinBox* workers_;
  QLineEdit* run_name_;
  MemoryPlanBar* memory_plan_;
  bool applying_ = false;
  bool labels_sp_forced_ = false;
  bool has_full_ = true, has_single_ = true;  // the open project's label sources  // labels were set to "single" by a single-positive loss
  int last_backbone_index_ = 0;
};

}  // namespace mls
