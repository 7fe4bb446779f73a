#include "annotate/set_single_positive_command.h"

#include "data/store/project_store.h"
#include "project_session.h"

namespace mls {

SetSinglePositiveCommand::SetSinglePositiveCommand(ProjectSession* session, int64_t image_id,
                                                   std::optional<SinglePositive> before,
                                                   std::optional<int64_t> category, AnnotationSource source,
                                                   const QString& text, std::function<void(const QString&)> on_error)
    : QUndoCommand(text),
      session_(session),
      image_id_(image_id),
      before_(std::move(before)),
      category_(category),
      source_(source),
      on_error_(std::move(on_error)) {}

bool SetSinglePositiveCommand::write(std::optional<int64_t> category, AnnotationSource source) {
  try {
    if (!session_->store()) throw std::runtime_error("no project is open");
    session_->store()->setSinglePositive(image_id_, category, source);
  } catch (const std::exception& e) {
    setObsolete(true);  // QUndoStack drops an obsolete command instead of keeping a lie on the stack
    if (on_error_) on_error_(QString::fromUtf8(e.what()));
    return false;
  }
  session_->notifyAnnotationChanged(image_id_);
  return true;
}

void SetSinglePositiveCommand::redo() {
  const bool first = first_redo_;
  first_redo_ = false;
  if (!write(category_, source_)) return;
  // A later redo brings the image back into view so the user sees what changed; the first one does not,
  // the panel decides where to go next.
  if (!first) session_->setCurrentImage(image_id_);
}

void SetSinglePositiveCommand::undo() {
  // Restores the exact earlier state, including its source (a generated label stays "generated").
  if (before_)
    write(before_->category_id, before_->source);
  else
    write(std::nullopt, AnnotationSource::User);
  session_->setCurrentImage(image_id_);
}

}  // namespace mls
