#include "runs/run_compare_table.h"

#include <QDateTime>
#include <QHeaderView>
#include <algorithm>
#include <cmath>
#include <functional>

#include "runs/run_columns.h"

namespace mls {

const QColor RunCompareTable::kDifferent(255, 236, 170);

namespace {
constexpr int kDiffersRole = Qt::UserRole + 1;
}

RunCompareTable::RunCompareTable(QWidget* parent) : QTableWidget(parent) {
  setEditTriggers(QAbstractItemView::NoEditTriggers);
  setSelectionMode(QAbstractItemView::NoSelection);
  verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
  horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
}

bool RunCompareTable::rowDiffers(int row) const {
  const auto* h = verticalHeaderItem(row);
  return h && h->data(kDiffersRole).toBool();
}

void RunCompareTable::setRuns(const std::vector<RunRow>& runs,
                              const QHash<qint64, std::shared_ptr<const RunEvaluation>>& evaluations) {
  clear();
  const int n = static_cast<int>(runs.size());
  setColumnCount(n);
  QStringList headers;
  for (const auto& r : runs) headers << r.label();
  setHorizontalHeaderLabels(headers);

  const qint64 now = QDateTime::currentMSecsSinceEpoch();
  std::vector<const RunColumn*> shown;
  for (const auto& c : runColumns())
    if (c.id != RunColumnId::Name && c.id != RunColumnId::Notes && c.id != RunColumnId::Started) shown.push_back(&c);

  // Per-class rows come from the first evaluation available (all runs of a project share its classes).
  const RunEvaluation* classes = nullptr;
  for (const auto& r : runs)
    if (auto e = evaluations.value(r.record.id); e && !e->classes.empty()) {
      classes = e.get();
      break;
    }
  setting_rows_ = static_cast<int>(shown.size());
  const int class_rows = classes ? static_cast<int>(classes->classes.size()) : 0;
  setRowCount(setting_rows_ + kMapRows + class_rows);

  auto setHeader = [&](int row, const QString& text, const QString& tip, bool differs) {
    auto* h = new QTableWidgetItem(text);
    h->setToolTip(tip);
    h->setData(kDiffersRole, differs);
    if (differs) {
      QFont f = font();
      f.setBold(true);
      h->setFont(f);
    }
    setVerticalHeaderItem(row, h);
  };

  for (int i = 0; i < setting_rows_; ++i) {
    const RunColumn& col = *shown[static_cast<size_t>(i)];
    QStringList texts;
    for (const auto& r : runs) texts << col.text(r, now);
    bool differs = false;
    for (const auto& t : texts) differs = differs || t != texts.front();
    setHeader(i, col.header, col.tooltip, differs);
    for (int j = 0; j < n; ++j) {
      auto* item = new QTableWidgetItem(texts[j]);
      if (differs) item->setBackground(kDifferent);
      setItem(i, j, item);
    }
  }

  // mAP from the stored scores, then AP per class; the best value of each row in bold.
  auto fill = [&](int row, const std::function<double(const RunEvaluation&)>& value) {
    double best = -1;
    std::vector<double> values(static_cast<size_t>(n), std::nan(""));
    for (int j = 0; j < n; ++j)
      if (auto e = evaluations.value(runs[static_cast<size_t>(j)].record.id); e && e->images > 0) {
        values[static_cast<size_t>(j)] = value(*e);
        if (std::isfinite(values[static_cast<size_t>(j)])) best = std::max(best, values[static_cast<size_t>(j)]);
      }
    for (int j = 0; j < n; ++j) {
      const auto e = evaluations.value(runs[static_cast<size_t>(j)].record.id);
      const double v = values[static_cast<size_t>(j)];
      QString text = !e ? QStringLiteral("…") : (std::isfinite(v) ? QString::number(v, 'f', 2) : QStringLiteral("—"));
      auto* item = new QTableWidgetItem(text);
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      if (std::isfinite(v) && v == best && n > 1) {
        QFont f = font();
        f.setBold(true);
        item->setFont(f);
      }
      if (!e) item->setToolTip(tr("computing from the run's stored scores…"));
      else if (e->images == 0) item->setToolTip(tr("this run stored no scores for the val split (it did not finish)"));
      setItem(row, j, item);
    }
  };
  setHeader(setting_rows_, tr("mAP (stored scores)"),
            tr("val mAP (%) recomputed from the run's stored scores, over classes with positives"), false);
  fill(setting_rows_, [](const RunEvaluation& e) { return e.map; });
  // The papers print mAP in their own code's convention (ml/metrics_conventions.h): compare with those here.
  setHeader(setting_rows_ + 1, tr("mAP, MLSPL convention"),
            tr("as Cole et al.'s code: a class without positives counts 0, mean over all classes"), false);
  fill(setting_rows_ + 1, [](const RunEvaluation& e) { return e.map_mlspl; });
  setHeader(setting_rows_ + 2, tr("mAP, Q2L convention (VOC)"),
            tr("as Liu et al.'s code: VOC-style interpolated precision, over classes with positives"), false);
  fill(setting_rows_ + 2, [](const RunEvaluation& e) { return e.map_q2l_voc; });
  for (int k = 0; k < class_rows; ++k) {
    const auto& c = classes->classes[static_cast<size_t>(k)];
    setHeader(setting_rows_ + kMapRows + k, tr("AP: %1").arg(QString::fromStdString(c.name)),
              tr("%1 positives in the val split; \"—\": none, AP undefined").arg(c.positives), false);
    fill(setting_rows_ + kMapRows + k, [k](const RunEvaluation& e) {
      return static_cast<size_t>(k) < e.classes.size() ? e.classes[static_cast<size_t>(k)].ap : std::nan("");
    });
  }
}

}  // namespace mls
