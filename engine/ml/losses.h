// Multi-label training losses: full-label BCE / focal / ASL (Query2Label) and the
// single-positive losses AN, AN-LS, WAN, EPR and ROLE (Cole et al. 2021).
#pragma once
#include <ATen/core/Tensor.h>

#include <string>

#include "ml/loss_kind.h"

namespace mls {

struct LossConfig {
  LossKind kind = LossKind::ASL;
  double expected_positives = 2.9;  // k for EPR/ROLE; COCO 2.9 (paper), VOC 1.5, NUS 1.9
  double ls_epsilon = 0.1;          // AN-LS smoothing coefficient (official ls_coef = 0.1)
  double focal_gamma = 2.0, focal_alpha = 0.25;  // RetinaNet defaults
  double asl_gamma_pos = 0.0, asl_gamma_neg = 4.0, asl_clip = 0.05;  // ASL paper defaults
  bool asl_detach_focus = true;     // Q2L code (--dtgfl): focusing weight computed without grad
  double asl_eps = 1e-8;            // ASL code: log(clamp(x, min=eps)); Q2L's main_mlc.py uses 1e-5
  // Q2L's AsymmetricLossOptimized returns -Σ/(B·K)·1000 instead of the ASL code's -Σ.
  bool asl_q2l_normalization = false;
  double log_eps = 1e-5;            // MLSPL: -log(p + 1e-5)

  // Q2L COCO command: gamma_pos 0, gamma_neg 2, loss_clip 0, --dtgfl, eps 1e-5, Q2L normalisation.
  static LossConfig q2lCoco();
};

// logits: (B,K). targets: (B,K) with +1 observed positive, 0 unobserved (a negative for the
// full-label losses BCE / focal / ASL), -1 observed negative. estimator_logits: (B,K) rows of the
// ROLE label estimator for this batch (required for ROLE, ignored otherwise). Returns a scalar
// computed in float32 (or float64 if the logits are float64). Throws std::invalid_argument on
// shape mismatches or a missing estimator.
at::Tensor multiLabelLoss(const LossConfig& cfg, const at::Tensor& logits, const at::Tensor& targets,
                          const at::Tensor& estimator_logits = {});

bool lossNeedsEstimator(LossKind kind);

}  // namespace mls
