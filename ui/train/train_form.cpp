#include "train/train_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QThread>
#include <QToolButton>
#include <algorithm>

#include "ml/device.h"
#include "ml/loss_kind.h"
#include "train/memory_plan_bar.h"
#include "train/scientific_spin_box.h"
#include "train/train_presets.h"

namespace mls {

namespace {

const QString kTorchScriptPrefix = QStringLiteral("torchscript:");
const QString kChooseTorchScript = QStringLiteral("__choose_torchscript__");

QSpinBox* spin(int lo, int hi, int value, int step = 1) {
  auto* s = new QSpinBox;
  s->setRange(lo, hi);
  s->setValue(value);
  s->setSingleStep(step);
  s->setKeyboardTracking(false);
  return s;
}

QString processesHelp() {
  return TrainForm::tr(
      "Data-parallel training: this many processes (one per GPU on CUDA), each on its share of every batch; "
      "gradients are averaged across them after each step. The batch is the global batch and must be divisible "
      "by the processes. On CUDA each process trains on its own GPU (cuda:0, cuda:1, ...). More than 1 runs "
      "mlstudio-cli child processes; their curves appear as rank 0 records them in the project.");
}

}  // namespace

TrainForm::TrainForm(QWidget* parent) : QWidget(parent) {
  preset_ = new QComboBox;
  preset_->addItem(tr("Custom"), -1);
  for (size_t i = 0; i < trainPresets().size(); ++i) {
    preset_->addItem(trainPresets()[i].name, static_cast<int>(i));
    preset_->setItemData(preset_->count() - 1, trainPresets()[i].description, Qt::ToolTipRole);
  }

  method_ = new QComboBox;  // the engine's methods, by their stored names
  for (const Method m : allMethods()) method_->addItem(methodTitle(m), QString::fromLatin1(methodName(m)));

  loss_ = new QComboBox;  // filled per method by fillLosses()

  labels_ = new QComboBox;
  labels_->addItem(tr("Full ground truth"), "full");
  labels_->addItem(tr("Single positive per image"), "single");

  backbone_ = new QComboBox;
  backbone_->addItem(tr("Tiny CNN (CPU demo)"), "tiny");
  backbone_->addItem("ResNet-18", "resnet18");
  backbone_->addItem("ResNet-50", "resnet50");
  backbone_->addItem("ResNet-101", "resnet101");
  backbone_->addItem(tr("TorchScript file…"), kChooseTorchScript);

  weights_ = new QLineEdit;
  weights_->setPlaceholderText(tr("none: train from scratch"));
  weights_->setToolTip(tr("Backbone weights with torchvision names, or whole-model weights (.pt)"));
  weights_browse_ = new QToolButton;
  weights_browse_->setText(QStringLiteral("…"));
  weights_browse_->setToolTip(tr("Choose a weights file"));
  auto* weights_row = new QHBoxLayout;
  weights_row->setContentsMargins(0, 0, 0, 0);
  weights_row->addWidget(weights_, 1);
  weights_row->addWidget(weights_browse_);

  image_size_ = spin(16, 2048, 64, 32);
  image_size_->setSuffix(QStringLiteral(" px"));
  batch_ = spin(1, 4096, 32);
  epochs_ = spin(1, 10000, 30);
  lr_ = new ScientificSpinBox;
  lr_->setValue(1e-3);

  device_ = new QComboBox;
  device_->addItem(tr("Auto (CUDA if present)"), "auto");
  device_->addItem(tr("CPU"), "cpu");
  const auto cuda = cudaDevices();
  cuda_devices_ = static_cast<int>(cuda.size());
  for (const auto& d : cuda) {
    const std::string name = "cuda:" + std::to_string(d.index);
    device_->addItem(QString::fromStdString(describeDevice(name)), QString::fromStdString(name));
  }

  processes_ = spin(1, 1, 1);

  amp_ = new QCheckBox(tr("Mixed precision"));
  amp_->setToolTip(tr("Autocast to fp16 or bf16 on CUDA (ignored on the CPU)"));
  amp_dtype_ = new QComboBox;
  amp_dtype_->addItem(tr("fp16"), "fp16");
  amp_dtype_->setItemData(0, tr("float16 with dynamic loss scaling"), Qt::ToolTipRole);
  amp_dtype_->addItem(tr("bf16"), "bf16");
  auto* amp_row = new QHBoxLayout;
  amp_row->setContentsMargins(0, 0, 0, 0);
  amp_row->addWidget(amp_);
  amp_row->addWidget(amp_dtype_, 1);
  checkpoint_backbone_ = new QCheckBox(tr("Checkpoint backbone"));
  checkpoint_backbone_->setToolTip(
      tr("Activation checkpointing: keeps a fraction of the backbone's activations in GPU memory and recomputes "
         "the rest in backward (~1/3 more compute). With grad accumulation, Q2L-R101 at 448 px and batch 64 "
         "fits a 12 GiB card."));
  channels_last_ = new QCheckBox(tr("Channels-last"));
  channels_last_->setToolTip(tr("NHWC convolutions: usually faster with mixed precision on tensor-core GPUs"));
  ema_on_ = new QCheckBox;
  ema_decay_ = new QDoubleSpinBox;
  ema_decay_->setDecimals(5);
  ema_decay_->setRange(0.9, 0.99999);
  ema_decay_->setSingleStep(0.0001);
  ema_decay_->setValue(0.9997);  // Q2L's ModelEma decay
  auto* ema_row = new QHBoxLayout;
  ema_row->setContentsMargins(0, 0, 0, 0);
  ema_row->addWidget(ema_on_);
  ema_row->addWidget(ema_decay_, 1);

  linear_init_ = spin(0, 1000, 0);
  linear_init_->setSpecialValueText(tr("off"));
  linear_init_->setToolTip(tr("MLSPL LinearInit: epochs of a linear head on cached frozen features first"));
  grad_accum_ = spin(1, 256, 1);
  early_stop_ = spin(-1, 1000, -1);
  early_stop_->setSpecialValueText(tr("method default"));
  early_stop_->setToolTip(tr("Stop once more than N epochs pass without val mAP improvement (Q2L's rule; 0 = never; Q2L default 8)"));
  workers_ = spin(-1, 64, -1);
  workers_->setSpecialValueText(tr("auto"));
  workers_->setToolTip(tr("Image decoding threads (auto: 2 on the CPU, up to 8 with CUDA)"));
  run_name_ = new QLineEdit;
  run_name_->setPlaceholderText(tr("automatic"));

  // Long entries ("Hybrid (Q2L + single-positive loss)") must not force a wide dock.
  for (auto* box : {preset_, method_, loss_, labels_, backbone_, device_}) {
    box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    box->setMinimumContentsLength(12);
  }

  auto* form = new QFormLayout(this);
  form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
  form->addRow(tr("Preset"), preset_);
  form->addRow(tr("Method"), method_);
  form->addRow(tr("Loss"), loss_);
  form->addRow(tr("Labels"), labels_);
  form->addRow(tr("Backbone"), backbone_);
  form->addRow(tr("Weights"), weights_row);
  form->addRow(tr("Image size"), image_size_);
  form->addRow(tr("Batch"), batch_);
  form->addRow(tr("Epochs"), epochs_);
  form->addRow(tr("Learning rate"), lr_);
  form->addRow(tr("Device"), device_);
  form->addRow(tr("Processes"), processes_);
  form->addRow(tr("AMP"), amp_row);
  form->addRow(tr("GPU memory"), checkpoint_backbone_);
  form->addRow(tr("Layout"), channels_last_);
  memory_plan_ = new MemoryPlanBar;
  form->addRow(tr("Memory plan"), memory_plan_);
  form->addRow(tr("EMA decay"), ema_row);
  form->addRow(tr("Linear init"), linear_init_);
  form->addRow(tr("Grad accum"), grad_accum_);
  form->addRow(tr("Early stop"), early_stop_);
  form->addRow(tr("Loader threads"), workers_);
  form->addRow(tr("Run name"), run_name_);

  connect(preset_, qOverload<int>(&QComboBox::activated), this,
          [this](int i) { applyPreset(preset_->itemData(i).toInt()); });
  connect(backbone_, qOverload<int>(&QComboBox::activated), this, &TrainForm::onBackboneActivated);
  connect(weights_browse_, &QToolButton::clicked, this, &TrainForm::chooseWeights);
  connect(ema_on_, &QCheckBox::toggled, this, &TrainForm::updateEnabled);
  connect(method_, qOverload<int>(&QComboBox::currentIndexChanged), this, &TrainForm::onMethodChanged);
  connect(loss_, qOverload<int>(&QComboBox::currentIndexChanged), this, &TrainForm::onLossChanged);

  // Any edit by hand turns the preset box back to "Custom".
  auto edited = [this] {
    if (applying_) return;
    preset_->setCurrentIndex(0);
    Q_EMIT changed();
  };
  for (auto* box : {method_, loss_, labels_, backbone_, device_, amp_dtype_})
    connect(box, qOverload<int>(&QComboBox::currentIndexChanged), this, edited);
  for (auto* s : {image_size_, batch_, epochs_, linear_init_, grad_accum_, early_stop_, workers_})
    connect(s, qOverload<int>(&QSpinBox::valueChanged), this, edited);
  for (auto* s : {static_cast<QDoubleSpinBox*>(lr_), ema_decay_})
    connect(s, qOverload<double>(&QDoubleSpinBox::valueChanged), this, edited);
  for (auto* c : {amp_, ema_on_, checkpoint_backbone_, channels_last_}) connect(c, &QCheckBox::toggled, this, edited);
  connect(amp_, &QCheckBox::toggled, this, &TrainForm::updateEnabled);
  connect(weights_, &QLineEdit::textEdited, this, edited);
  // Processes are not a preset setting: a change keeps the preset, but the Start button re-checks the batch.
  connect(device_, qOverload<int>(&QComboBox::currentIndexChanged), this, &TrainForm::updateProcessesRange);
  connect(processes_, qOverload<int>(&QSpinBox::valueChanged), this, [this] {
    if (!applying_) Q_EMIT changed();
  });

  // The memory plan follows every change; "Fit to this device" writes the planner's choice back. With several
  // processes it plans one of them (its share of the global batch: one GPU's load) and a fit scales back up.
  connect(this, &TrainForm::changed, memory_plan_, [this] {
    TrainRequest one = request();
    if (processes() > 1 && one.batch % processes() == 0) one.batch /= processes();
    memory_plan_->setRequest(one);
  });
  connect(memory_plan_, &MemoryPlanBar::fitRequested, this, [this](const TrainRequest& r) {
    TrainRequest global = r;
    if (processes() > 1) global.batch *= processes();
    setRequest(global);
  });

  fillLosses();
  applyPreset(0);  // CPU demo: what runs anywhere
  updateProcessesRange();
}

int TrainForm::maxProcesses() const {
  // "auto" trains on CUDA when there is a device, like the engine's resolveDevice.
  const QString device = device_->currentData().toString();
  const bool cuda = device.startsWith(QLatin1String("cuda")) || (device == QLatin1String("auto") && cuda_devices_ > 0);
  return std::max(1, cuda ? cuda_devices_ : QThread::idealThreadCount());
}

void TrainForm::updateProcessesRange() {
  processes_->setMaximum(maxProcesses());  // clamps the value
  const QString device = device_->currentData().toString();
  const bool cpu = device == QLatin1String("cpu") || (device == QLatin1String("auto") && cuda_devices_ == 0);
  processes_->setToolTip(processesHelp() + QLatin1Char('\n') +
                         (cpu ? tr("On the CPU: up to %n process(es), the cores of this machine.", "", maxProcesses())
                              : tr("On CUDA: up to %n process(es), one per device.", "", maxProcesses())));
}

int TrainForm::processes() const { return processes_->value(); }

void TrainForm::setProcesses(int processes) { processes_->setValue(std::clamp(processes, 1, processes_->maximum())); }

QString TrainForm::processesProblem() const {
  const int n = processes_->value();
  const int batch = batch_->value();
  if (n <= 1 || batch % n == 0) return QString();
  return tr("Batch %1 does not split evenly over %2 processes: choose a batch divisible by %2 (e.g. %3) or other "
            "processes.")
      .arg(batch)
      .arg(n)
      .arg(std::max(n, batch / n * n));
}

QString TrainForm::lossTitle(const QString& key) {
  static const std::pair<const char*, const char*> titles[] = {
      {"asl", "ASL (asymmetric focal)"}, {"bce", "BCE (full labels)"}, {"focal", "Focal"},
      {"an", "AN (assume negative)"},    {"an-ls", "AN-LS (label smoothing)"}, {"wan", "WAN (weighted AN)"},
      {"epr", "EPR"},                    {"role", "ROLE"}};
  for (const auto& [k, text] : titles)
    if (key == QLatin1String(k)) return tr(text);
  return key;
}

QString TrainForm::methodTitle(Method method) {
  switch (method) {
    case Method::Q2L: return tr("Query2Label");
    case Method::MLSPL: return tr("Single positive (MLSPL)");
    case Method::Hybrid: return tr("Hybrid (Q2L + single-positive loss)");
  }
  return QString::fromLatin1(methodName(method));
}

Method TrainForm::currentMethod() const { return parseMethod(method_->currentData().toString().toStdString()); }

void TrainForm::selectMethod(Method method) { selectData(method_, QString::fromLatin1(methodName(method))); }

void TrainForm::fillLosses() {
  // Only the method's own losses (the engine refuses the others), keeping the current one when it fits.
  const Method method = currentMethod();
  const QString keep = loss_->currentData().toString();
  const QSignalBlocker block(loss_);
  loss_->clear();
  for (const auto& key : lossesForMethod(method)) loss_->addItem(lossTitle(QString::fromStdString(key)), QString::fromStdString(key));
  // A switch of method lands on that method's usual choice: ROLE for the single-positive methods, ASL for Q2L.
  const int i = loss_->findData(keep);
  const LossKind usual = method == Method::Q2L ? LossKind::ASL : LossKind::ROLE;
  selectData(loss_, i >= 0 ? keep : QString::fromStdString(lossName(usual)));
}

void TrainForm::onMethodChanged() {
  fillLosses();
  onLossChanged();
}

void TrainForm::onLossChanged() {
  // Single-positive losses train on the single positives only; a full-label loss chosen after one of them
  // goes back to the full ground truth (BCE on single positives would just be AN).
  const bool single_loss = isSinglePositiveLoss(loss_->currentData().toString().toStdString());
  if (single_loss)
    selectData(labels_, QStringLiteral("single"));
  else if (labels_sp_forced_)
    selectData(labels_, QStringLiteral("full"));
  labels_sp_forced_ = single_loss;
  labels_->setEnabled(!single_loss);
  labels_->setToolTip(single_loss ? tr("%1 is a single-positive loss: it trains on the one positive per image")
                                        .arg(loss_->currentText())
                                  : QString());
  updateEnabled();
}

void TrainForm::selectData(QComboBox* box, const QString& value) {
  const int i = box->findData(value);
  if (i >= 0) box->setCurrentIndex(i);
}

TrainRequest TrainForm::request() const {
  TrainRequest r;
  r.method = currentMethod();
  r.loss = loss_->currentData().toString().toStdString();
  r.labels = labels_->currentData().toString().toStdString();
  r.backbone = backbone_->currentData().toString().toStdString();
  r.weights = weights_->text().trimmed().toStdString();
  r.image_size = image_size_->value();
  r.batch = batch_->value();
  r.epochs = epochs_->value();
  r.lr = lr_->value();
  r.device = device_->currentData().toString().toStdString();
  r.amp = amp_->isChecked();
  r.amp_dtype = amp_dtype_->currentData().toString().toStdString();
  r.checkpoint_backbone = checkpoint_backbone_->isChecked();
  r.channels_last = channels_last_->isChecked();
  r.ema = ema_on_->isChecked() ? ema_decay_->value() : 0.0;
  r.linear_init = r.method == Method::MLSPL ? linear_init_->value() : 0;
  r.grad_accum = grad_accum_->value();
  r.early_stop = early_stop_->value();
  r.workers = workers_->value();
  r.run_name = run_name_->text().trimmed().toStdString();
  return r;
}

void TrainForm::setRequest(const TrainRequest& r) {
  applying_ = true;
  selectMethod(r.method);
  selectData(loss_, QString::fromStdString(r.loss));
  // A single-positive loss has set the labels itself; a stored full-label config keeps its own choice.
  if (!isSinglePositiveLoss(r.loss)) selectData(labels_, QString::fromStdString(r.labels));
  const QString backbone = QString::fromStdString(r.backbone);
  if (backbone.startsWith(kTorchScriptPrefix))
    setTorchScriptBackbone(backbone.mid(kTorchScriptPrefix.size()));
  else
    selectData(backbone_, backbone);
  last_backbone_index_ = backbone_->currentIndex();
  weights_->setText(QString::fromStdString(r.weights));
  if (r.image_size > 0) image_size_->setValue(r.image_size);
  if (r.batch > 0) batch_->setValue(r.batch);
  if (r.epochs > 0) epochs_->setValue(r.epochs);
  if (r.lr > 0) lr_->setValue(r.lr);
  const QString device = QString::fromStdString(r.device);
  if (device_->findData(device) >= 0) selectData(device_, device);
  amp_->setChecked(r.amp);
  selectData(amp_dtype_, QString::fromStdString(r.amp_dtype));
  checkpoint_backbone_->setChecked(r.checkpoint_backbone);
  channels_last_->setChecked(r.channels_last);
  ema_on_->setChecked(r.ema > 0);
  if (r.ema > 0) ema_decay_->setValue(r.ema);
  linear_init_->setValue(r.linear_init);
  grad_accum_->setValue(std::max(1, r.grad_accum));
  early_stop_->setValue(r.early_stop);
  workers_->setValue(r.workers);
  run_name_->setText(QString::fromStdString(r.run_name));
  preset_->setCurrentIndex(0);  // applyPreset names the preset afterwards
  applying_ = false;
  updateEnabled();
  Q_EMIT changed();
}

void TrainForm::resetForProject(bool has_full_labels, bool has_single_positives) {
  run_name_->clear();
  has_full_ = has_full_labels;
  has_single_ = has_single_positives;
  // A label source the project lacks is greyed (a run on it would be refused); a choice that needs it moves
  // to what the project has: single positives only -> ROLE (MLSPL) or ASL on them (Q2L); full labels only ->
  // BCE (MLSPL) or Q2L with ASL.
  const Method method = currentMethod();
  const bool single_loss = isSinglePositiveLoss(loss_->currentData().toString().toStdString());
  const bool on_single = labels_->currentData().toString() == QLatin1String("single");
  if (!has_single_ && has_full_ && on_single) {
    if (method == Method::Hybrid)
      selectMethod(Method::Q2L);
    else if (single_loss)
      selectData(loss_, QStringLiteral("bce"));
    else
      selectData(labels_, QStringLiteral("full"));
  } else if (!has_full_ && has_single_ && !on_single) {
    if (method == Method::MLSPL)
      selectData(loss_, QStringLiteral("role"));
    else
      selectData(labels_, QStringLiteral("single"));
  }
  updateLabelChoices();
}

void TrainForm::noteSinglePositive() {
  if (has_single_) return;
  has_single_ = true;
  updateLabelChoices();
}

void TrainForm::updateLabelChoices() {
  auto* items = qobject_cast<QStandardItemModel*>(labels_->model());
  if (!items) return;
  const std::pair<const char*, bool> available[] = {{"full", has_full_}, {"single", has_single_}};
  for (const auto& [key, on] : available) {
    QStandardItem* item = items->item(labels_->findData(QString::fromLatin1(key)));
    if (!item) continue;
    item->setEnabled(on);
    item->setToolTip(on ? QString()
                        : QString::fromLatin1(key) == QLatin1String("full")
                              ? tr("This project has no ground-truth labels for its training images")
                              : tr("No training image has a single positive yet: annotate some first"));
  }
}

void TrainForm::applyPreset(int index) {
  if (index < 0 || index >= static_cast<int>(trainPresets().size())) return;
  setRequest(trainPresets()[static_cast<size_t>(index)].request);
  applying_ = true;
  preset_->setCurrentIndex(preset_->findData(index));
  applying_ = false;
}

void TrainForm::setTorchScriptBackbone(const QString& path) {
  const QString key = kTorchScriptPrefix + path;
  int i = backbone_->findData(key);
  if (i < 0) {
    // Insert before the "TorchScript file…" entry, which stays last.
    i = backbone_->count() - 1;
    backbone_->insertItem(i, tr("TorchScript: %1").arg(QFileInfo(path).fileName()), key);
    backbone_->setItemData(i, path, Qt::ToolTipRole);
  }
  backbone_->setCurrentIndex(i);
  last_backbone_index_ = i;
}

void TrainForm::onBackboneActivated(int index) {
  if (backbone_->itemData(index).toString() != kChooseTorchScript) {
    last_backbone_index_ = index;
    return;
  }
  const QString path = QFileDialog::getOpenFileName(this, tr("TorchScript backbone"), QString(),
                                                    tr("TorchScript archives (*.pt *.pth *.ts *.zip);;All files (*)"));
  if (path.isEmpty())
    backbone_->setCurrentIndex(last_backbone_index_);
  else
    setTorchScriptBackbone(path);
}

void TrainForm::chooseWeights() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Weights file"), weights_->text(),
                                                    tr("Weights (*.pt *.pth *.bin);;All files (*)"));
  if (path.isEmpty()) return;
  weights_->setText(path);
  if (!applying_) preset_->setCurrentIndex(0);
  Q_EMIT changed();
}

void TrainForm::updateEnabled() {
  ema_decay_->setEnabled(ema_on_->isChecked());
  amp_dtype_->setEnabled(amp_->isChecked());
  linear_init_->setEnabled(currentMethod() == Method::MLSPL);
}

}  // namespace mls
