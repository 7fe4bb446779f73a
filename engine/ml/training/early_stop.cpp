#include "ml/training/early_stop.h"

#include <algorithm>
#include <cmath>

namespace mls {

namespace {
bool beats(double candidate, double best) { return !std::isnan(candidate) && (std::isnan(best) || candidate > best); }
}  // namespace

EpochVerdict recordValidation(ValidationHistory& h, int epoch, double map_raw, double map_ema, int patience) {
  EpochVerdict v;
  if (beats(map_raw, h.best_raw_map)) {
    h.best_raw_map = map_raw;
    h.best_raw_epoch = epoch;
  }
  if (beats(map_ema, h.best_ema_map)) h.best_ema_map = map_ema;
  // Q2L: `if mAP_ema > mAP: mAP = mAP_ema` (the EMA weights win only when strictly better).
  v.ema_won = beats(map_ema, map_raw);
  const double map = v.ema_won ? map_ema : map_raw;
  v.improved = beats(map, h.best_map);
  if (v.improved) {
    h.best_map = map;
    h.best_epoch = epoch;
  }
  if (patience > 0 && h.best_epoch >= 0) {
    const int since = epoch - std::max(h.best_epoch, h.best_raw_epoch);
    // Q2L: `ema_mAP_list[-1] < best_ema_mAP`, checked after best_ema_mAP took this epoch's value.
    const bool ema_stalled = std::isnan(map_ema) || map_ema < h.best_ema_map;
    v.stop = since > patience && ema_stalled;
  }
  return v;
}

}  // namespace mls
