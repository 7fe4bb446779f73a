// How a thumbnail marks an image's single positive, shared by the thumbnail delegate and the browser's legend
// so the two cannot disagree.
#pragma once
#include <QColor>
#include <QObject>
#include <QString>

#include "data/store/project_types.h"

namespace mls {

enum class LabelState { NotApplicable, Unlabelled, User, Generated, AcceptedSuggestion };

inline LabelState labelStateOf(AnnotationSource source) {
  switch (source) {
    case AnnotationSource::User: return LabelState::User;
    case AnnotationSource::Generated: return LabelState::Generated;
    case AnnotationSource::AcceptedSuggestion: return LabelState::AcceptedSuggestion;
  }
  return LabelState::User;
}

// Colours readable on both the light and the dark palette; unlabelled is the loud one (work left to do).
inline QColor labelStateColor(LabelState state) {
  switch (state) {
    case LabelState::User: return QColor(46, 160, 67);
    case LabelState::Generated: return QColor(140, 120, 200);
    case LabelState::AcceptedSuggestion: return QColor(40, 140, 220);
    case LabelState::Unlabelled: return QColor(235, 150, 30);
    case LabelState::NotApplicable: break;
  }
  return {};
}

inline QString labelStateText(LabelState state) {
  switch (state) {
    case LabelState::User: return QObject::tr("labelled by you");
    case LabelState::Generated: return QObject::tr("generated label");
    case LabelState::AcceptedSuggestion: return QObject::tr("accepted suggestion");
    case LabelState::Unlabelled: return QObject::tr("not labelled");
    case LabelState::NotApplicable: break;
  }
  return {};
}

}  // namespace mls
