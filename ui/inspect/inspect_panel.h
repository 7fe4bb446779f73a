// The Inspect tab: a trained run's per-class scores for the current image against its ground truth and
// single positive (threshold slider), and the decoder's attention for a chosen label (per head or averaged,
// opacity slider) drawn over the image, exportable as PNG. Inference runs on a worker thread; the GUI never
// waits for it. Works from a ProjectSession alone.
#pragma once
#include <QImage>
#include <QString>
#include <QStringList>
#include <QWidget>
#include <atomic>
#include <memory>
#include <unordered_set>

#include "inspect/inspection_job.h"

class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSlider;
class QTableView;
class QThreadPool;

namespace mls {

class ClassScoresModel;
class ProjectSession;
class RunModelCache;

class InspectPanel : public QWidget {
  Q_OBJECT
 public:
  explicit InspectPanel(ProjectSession* session, QWidget* parent = nullptr);
  ~InspectPanel() override;

  // The current image with the chosen label's heat map at full size; null when there is none.
  QImage currentOverlay() const { return overlay_; }
  // Label (category idx) whose attention is drawn; -1 = none. Kept while stepping through images.
  int selectedLabel() const { return selected_label_; }
  void selectLabel(int class_idx);
  double threshold() const;
  void setThreshold(double threshold);   // 0..1
  int attentionHead() const;             // -1 = mean over heads, else 0-based head
  void setAttentionHead(int head);
  double opacity() const;
  void setOpacity(double opacity);       // 0..1
  // Saves the full-size overlay as PNG (or any format Qt writes, by suffix). False with nothing to save.
  bool exportOverlay(const QString& path) const;

  bool isComputing() const { return computing_; }
  QString statusText() const;            // the panel's one-line state: "Train a model first", errors, ...
  QString attentionMessage() const;      // text in the preview area when no overlay is drawn
  int headCount() const { return heads_; }

  // For tests and the main window.
  ClassScoresModel* scoresModel() const { return model_; }
  QTableView* scoresView() const { return table_; }
  QComboBox* runCombo() const { return run_combo_; }
  QComboBox* headCombo() const { return head_combo_; }
  QSlider* thresholdSlider() const { return threshold_slider_; }
  QSlider* opacitySlider() const { return opacity_slider_; }
  QPushButton* exportButton() const { return export_button_; }

 Q_SIGNALS:
  void overlayChanged(const QImage& overlay);
  // Scores for (image, run) arrived and the table shows them (also emitted after a failure, with no rows).
  void predictionReady(qint64 image_id, qint64 run_id);

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  void buildUi();
  void reloadRuns();
  void onRunChosen(int combo_index);
  void onSessionRunChanged(qint64 run_id);
  void onAnnotationChanged(qint64 image_id);
  void requestInspection();
  void onInspectionDone(const InspectionResult& result);
  struct ImageLabels {
    std::unordered_set<int> truth;  // category idx
    QStringList truth_names;
    int single_positive = -1;
    QString single_positive_name;
  };
  ImageLabels readImageLabels(qint64 image_id);  // GUI connection; quick reads
  void updateImageInfo(const ImageLabels& labels);
  void updateThresholdLabel();
  void updateHeadChoices(int heads);
  void renderOverlay();
  void setOverlay(const QImage& overlay);
  void setStatus(const QString& text);
  void setComputing(bool on);
  void clearResult();
  void exportWithDialog();

  ProjectSession* session_;
  std::shared_ptr<RunModelCache> cache_;
  std::unique_ptr<QThreadPool> pool_;              // one worker: requests run in order, one model in memory
  std::shared_ptr<std::atomic<uint64_t>> latest_;  // newest request; older ones are skipped
  uint64_t generation_ = 0;
  bool computing_ = false;
  bool dirty_ = true;  // the shown result does not match (image, run): recompute when visible

  // The shown result.
  InspectionResult result_;
  bool has_result_ = false;
  int heads_ = 0;
  int selected_label_ = -1;
  QImage overlay_;
  QString image_name_;

  // Widgets.
  QComboBox* run_combo_ = nullptr;
  QLabel* status_label_ = nullptr;
  QProgressBar* spinner_ = nullptr;
  QLabel* image_label_ = nullptr;
  QSlider* threshold_slider_ = nullptr;
  QLabel* threshold_label_ = nullptr;
  QTableView* table_ = nullptr;
  ClassScoresModel* model_ = nullptr;
  QLabel* attention_title_ = nullptr;
  QComboBox* head_combo_ = nullptr;
  QSlider* opacity_slider_ = nullptr;
  QLabel* opacity_label_ = nullptr;
  // Why there is no map, or where it is: the map itself is drawn over the image in the main view only
  // (a second, smaller copy here took the room of the scores table).
  QLabel* attention_note_ = nullptr;
  QString attention_message_;  // the reason there is no overlay; empty when there is one
  QPushButton* export_button_ = nullptr;
  bool updating_runs_ = false;
};

}  // namespace mls
