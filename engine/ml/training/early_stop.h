// Best-epoch bookkeeping and the early-stopping rule of the Query2Label authors' code (SlongLiu/query2labels,
// main_mlc.py, the `--early-stop` block): the run remembers the best raw mAP and its epoch, the best EMA mAP,
// and the best of the two together ("best mAP") and its epoch. It stops once more than `patience` epochs
// have passed since the later of the best-mAP epoch and the best-raw epoch, and only in an epoch whose EMA
// mAP is below the best EMA mAP so far (an EMA still improving keeps it going). Plain C++ so it can be
// tested on scripted mAP sequences.
#pragma once
#include <limits>

namespace mls {

struct ValidationHistory {
  static constexpr double kNone = std::numeric_limits<double>::quiet_NaN();
  double best_map = kNone;  // the better of raw and EMA, over the epochs so far
  int best_epoch = -1;
  double best_raw_map = kNone;
  int best_raw_epoch = -1;
  double best_ema_map = kNone;  // NaN while the run has no EMA
};

struct EpochVerdict {
  bool improved = false;  // the better of raw and EMA beat every earlier epoch: keep these weights
  bool ema_won = false;   // the EMA weights were the better ones this epoch
  bool stop = false;      // the early-stopping rule fires after this epoch
};

// Records one validated epoch (map_ema NaN without EMA) and decides. patience <= 0 never stops. Without EMA
// the EMA condition holds (nothing is left to wait for). Q2L's code counts `epoch - best > 8`: patience 8
// stops at the 9th epoch without improvement, as there.
EpochVerdict recordValidation(ValidationHistory& history, int epoch, double map_raw, double map_ema, int patience);

}  // namespace mls
