#include "ml/training/linear_init_settings.h"

namespace mls {

LinearInitSettings linearInitSettings(LossKind loss) {
  if (loss == LossKind::ROLE) return {1e-3, 16};
  return {1e-4, 8};
}

}  // namespace mls
