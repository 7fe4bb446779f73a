// Selected runs side by side: one column per run, one row per setting and outcome (rows whose values
// differ are highlighted), then the val mAP from stored scores in the three conventions (scikit-learn's, MLSPL's,
// Q2L's VOC-style), then the per-class AP of each run on the val split (the best run per class in bold; "—"
// where a class has no positives).
#pragma once
#include <QHash>
#include <QTableWidget>
#include <memory>
#include <vector>

#include "data/eval/run_evaluation.h"
#include "runs/run_row.h"

namespace mls {

class RunCompareTable : public QTableWidget {
  Q_OBJECT
 public:
  static const QColor kDifferent;
  explicit RunCompareTable(QWidget* parent = nullptr);
  // Evaluations missing from the map show as pending ("…").
  void setRuns(const std::vector<RunRow>& runs, const QHash<qint64, std::shared_ptr<const RunEvaluation>>& evaluations);
  static constexpr int kMapRows = 3;  // after the settings: mAP scikit-learn, MLSPL, Q2L-VOC; then the classes
  int settingRowCount() const { return setting_rows_; }
  bool rowDiffers(int row) const;

 private:
  int setting_rows_ = 0;
};

}  // namespace mls
