// One undoable change of an image's single positive. Both directions write through the store (which also
// records them in the annotation history) and tell the session, so every view refreshes.
#pragma once
#include <QUndoCommand>
#include <functional>
#include <optional>

#include "data/store/project_types.h"

namespace mls {
class ProjectSession;

class SetSinglePositiveCommand : public QUndoCommand {
 public:
  // `before` is the image's state when the command is made; `category` nullopt clears the label.
  // on_error receives the message when a write fails; the command then marks itself obsolete, so a push
  // that fails leaves nothing on the stack.
  SetSinglePositiveCommand(ProjectSession* session, int64_t image_id, std::optional<SinglePositive> before,
                           std::optional<int64_t> category, AnnotationSource source, const QString& text,
                           std::function<void(const QString&)> on_error = {});

  void redo() override;
  void undo() override;

 private:
  bool write(std::optional<int64_t> category, AnnotationSource source);

  ProjectSession* session_;
  int64_t image_id_;
  std::optional<SinglePositive> before_;
  std::optional<int64_t> category_;
  AnnotationSource source_;
  std::function<void(const QString&)> on_error_;
  bool first_redo_ = true;
};

}  // namespace mls
