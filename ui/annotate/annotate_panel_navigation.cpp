// AnnotatePanel's navigation: next / previous in the chosen order (by id, or most uncertain first once the
// current run's ranking is ready), the next unannotated image, and the ranking itself (read off the GUI
// thread). Labelling and display live in annotate_panel.cpp.
#include <QCheckBox>
#include <QComboBox>
#include <QFutureWatcher>
#include <QLabel>
#include <QtConcurrent/QtConcurrentRun>
#include <cstdint>

#include "annotate/annotate_panel.h"
#include "data/store/project_store.h"
#include "project_session.h"

namespace mls {

namespace {
ImageFilter trainFilter(std::optional<bool> annotated = std::nullopt) {
  ImageFilter f;
  f.split = Split::Train;
  f.annotated = annotated;
  return f;
}
}  // namespace

std::optional<int64_t> AnnotatePanel::neighbourInOrder(int64_t current, bool forward) {
  if (order_ == NextOrder::MostUncertain && ranking_ready_ && !ranking_.walk.empty()) {
    const auto& walk = ranking_.walk;
    const auto it = ranking_.position.find(current);
    // From outside the walk (a val image, or none yet) D starts at the most uncertain image, A at the end.
    if (it == ranking_.position.end()) return forward ? walk.front() : walk.back();
    const size_t n = walk.size();
    return walk[forward ? (it->second + 1) % n : (it->second + n - 1) % n];
  }
  auto* store = session_->store();
  if (!store) return std::nullopt;
  // With no image yet, "previous" starts from the end of the list.
  const int64_t from = current < 0 && !forward ? INT64_MAX : current;
  return store->neighbourImage(from, trainFilter(), forward);
}

void AnnotatePanel::goToNextImage() {
  try {
    if (auto next = neighbourInOrder(session_->currentImage(), true)) session_->setCurrentImage(*next);
  } catch (const std::exception& e) {
    report(QString::fromUtf8(e.what()));
  }
}

void AnnotatePanel::goToPreviousImage() {
  try {
    if (auto prev = neighbourInOrder(session_->currentImage(), false)) session_->setCurrentImage(*prev);
  } catch (const std::exception& e) {
    report(QString::fromUtf8(e.what()));
  }
}

std::optional<int64_t> AnnotatePanel::nextUnannotated(int64_t after) {
  if (order_ == NextOrder::MostUncertain && ranking_ready_) {
    for (int64_t id : ranking_.ranked)
      if (id != after && !annotated_train_.count(id)) return id;
    // Every scored image is annotated: the ones without scores follow in id order.
  }
  auto* store = session_->store();
  if (!store) return std::nullopt;
  auto next = store->neighbourImage(after, trainFilter(false), true);
  if (next && *next == after) return std::nullopt;  // the only unannotated image is this one
  return next;
}

void AnnotatePanel::goToNextUnannotated() {
  try {
    if (auto next = nextUnannotated(session_->currentImage()))
      session_->setCurrentImage(*next);
    else
      Q_EMIT statusMessage(tr("All %1 train images are annotated.").arg(train_total_));
  } catch (const std::exception& e) {
    report(QString::fromUtf8(e.what()));
  }
}

void AnnotatePanel::setAdvanceAfterLabelling(bool on) { advance_toggle_->setChecked(on); }

void AnnotatePanel::setNextOrder(NextOrder order) {
  if (order_ == order) return;
  order_ = order;
  const QSignalBlocker block(order_combo_);
  order_combo_->setCurrentIndex(static_cast<int>(order));
  if (order_ == NextOrder::MostUncertain) startRanking();
  else order_hint_->setVisible(false);
}

// -------------------------------------------------------------------------------- uncertainty ranking

void AnnotatePanel::startRanking() {
  const int64_t run = session_->currentRun();
  if (!session_->isOpen() || run < 0) {
    order_hint_->setText(tr("No run selected: images follow in order."));
    order_hint_->setVisible(true);
    return;
  }
  if (ranking_ready_ && ranking_run_ == run) return;
  if (ranking_watcher_->isRunning() && ranking_run_ == run) return;
  ranking_run_ = run;
  ranking_ready_ = false;
  const int generation = ++ranking_generation_;
  order_hint_->setText(tr("Ranking images by the model's uncertainty\u2026"));
  order_hint_->setVisible(true);
  // The scores of a big project are tens of MB: read and sort them off the GUI thread.
  const std::string path = session_->path().toStdString();
  ranking_watcher_->setProperty("generation", generation);
  ranking_watcher_->setFuture(QtConcurrent::run([path, run]() -> UncertaintyOrder {
    try {
      return loadUncertaintyOrder(path, run);
    } catch (const std::exception&) {
      return {};  // the panel falls back to the in-order walk
    }
  }));
}

void AnnotatePanel::onRankingFinished() {
  if (ranking_watcher_->property("generation").toInt() != ranking_generation_) {
    // A newer request superseded this one (run or project changed while it ran).
    if (order_ == NextOrder::MostUncertain && !ranking_ready_) {
      ranking_run_ = -1;
      startRanking();
    }
    return;
  }
  ranking_ = ranking_watcher_->result();
  ranking_ready_ = true;
  order_hint_->setText(ranking_.ranked.empty()
                           ? tr("The current run has no stored scores: images follow in order.")
                           : tr("%1 scored images first (most uncertain first), then the rest by id.")
                                 .arg(ranking_.ranked.size()));
  order_hint_->setVisible(true);
}

}  // namespace mls
