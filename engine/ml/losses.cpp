// Loss definitions follow the authors' code:
//  - MLSPL (BCE, AN, AN-LS, WAN, EPR, ROLE): elijahcole/single-positive-multi-label, losses.py.
//    Every loss matrix is divided by B·K and summed (compute_batch_loss), i.e. averaged over
//    batch × classes, with neg_log(x) = -log(x + 1e-5); the EPR/ROLE regulariser is added once.
//  - ASL: Alibaba-MIIL/ASL AsymmetricLoss and SlongLiu/query2labels lib/models/aslloss.py.
//  - Focal: Lin et al. 2017 (RetinaNet), sigmoid form, mean over elements.
// The official MLSPL code asserts there are no observed negatives (-1); we accept them and give
// them the plain -log(1-p) term (as its fully-observed loss_iu does), see each loss below.
#include "ml/losses.h"
#include "ml/name_table.h"

#include <torch/torch.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <stdexcept>

namespace mls {

namespace {

constexpr EnumName<LossKind> kKinds[] = {
    {LossKind::BCE, "bce"}, {LossKind::AN, "an"},   {LossKind::AN_LS, "an-ls"},   {LossKind::WAN, "wan"},
    {LossKind::EPR, "epr"}, {LossKind::ROLE, "role"}, {LossKind::Focal, "focal"}, {LossKind::ASL, "asl"},
};

// Entries of a (B,K) target matrix, as float masks in the loss dtype.
struct TargetMasks {
  torch::Tensor pos;      // observed positive (+1)
  torch::Tensor obs_neg;  // observed negative (-1)
  torch::Tensor unobs;    // unobserved (0)
};

TargetMasks splitTargets(const torch::Tensor& targets, torch::ScalarType dtype) {
  TargetMasks m;
  m.pos = (targets > 0.5).to(dtype);
  m.obs_neg = (targets < -0.5).to(dtype);
  m.unobs = 1.0 - m.pos - m.obs_neg;
  return m;
}

// p = σ(x) and 1 - p, the latter as σ(-x): equal in exact arithmetic, but 1 - σ(x) loses most
// float32 digits for confident predictions (x = 10: 1 - p ≈ 4.5e-5 from numbers near 1).
struct Probs {
  explicit Probs(const torch::Tensor& logits) : p(torch::sigmoid(logits)), q(torch::sigmoid(-logits)) {}
  torch::Tensor p, q;
};

// Official neg_log: -log(x + LOG_EPSILON).
torch::Tensor negLog(const torch::Tensor& x, double eps) { return -torch::log(x + eps); }

// expected_positive_regularizer(norm='2') / K²: (batch mean of Σ_k p_nk − k)² / K².
torch::Tensor expectedPositiveRegularizer(const torch::Tensor& probs, double expected_positives) {
  const double num_classes = static_cast<double>(probs.size(1));
  auto k_hat = probs.sum(1).mean(0);
  return (k_hat - expected_positives).pow(2) / (num_classes * num_classes);
}

// BCE with full labels and AN ("assume negative") are the same computation: -log p at
// positives, -log(1-p) everywhere else.
torch::Tensor anLoss(const LossConfig& cfg, const Probs& p, const TargetMasks& m) {
  auto loss = m.pos * negLog(p.p, cfg.log_eps) + (1.0 - m.pos) * negLog(p.q, cfg.log_eps);
  return loss.mean();
}

// Official loss_an_ls: positives (1-ε)·nl(p) + ε·nl(1-p); others (1-ε)·nl(1-p) + ε·nl(p),
// i.e. hard targets 1 → 1-ε and 0 → ε (not ε/2). Observed negatives are smoothed like the
// negatives of the official loss_bce_ls.
torch::Tensor anLsLoss(const LossConfig& cfg, const Probs& p, const TargetMasks& m) {
  const double e = cfg.ls_epsilon;
  auto nl_p = negLog(p.p, cfg.log_eps);
  auto nl_q = negLog(p.q, cfg.log_eps);
  auto loss = m.pos * ((1.0 - e) * nl_p + e * nl_q) + (1.0 - m.pos) * ((1.0 - e) * nl_q + e * nl_p);
  return loss.mean();
}

// Official loss_wan: unobserved terms weighted 1/(K-1); observed negatives keep weight 1.
torch::Tensor wanLoss(const LossConfig& cfg, const Probs& p, const TargetMasks& m) {
  const double w = 1.0 / static_cast<double>(std::max<int64_t>(p.p.size(1) - 1, 1));
  auto nl_q = negLog(p.q, cfg.log_eps);
  auto loss = m.pos * negLog(p.p, cfg.log_eps) + m.unobs * w * nl_q + m.obs_neg * nl_q;
  return loss.mean();
}

// Official loss_epr: nl(p) at observed positives only, still divided by B·K (not by the number
// of positives), plus the expected-positive regulariser.
torch::Tensor eprLoss(const LossConfig& cfg, const Probs& p, const TargetMasks& m) {
  auto loss = m.pos * negLog(p.p, cfg.log_eps) + m.obs_neg * negLog(p.q, cfg.log_eps);
  return loss.mean() + expectedPositiveRegularizer(p.p, cfg.expected_positives);
}

// Official loss_role, with f = classifier probabilities and g = estimator probabilities:
//   matrix = ½(pos_f + pos_g) + ½(cross_f + cross_g), averaged over B·K, where the positive
//   terms are at observed positives only and the cross terms cover every entry:
//   cross_f = sg(g)·nl(f) + (1-sg(g))·nl(1-f), cross_g = sg(f)·nl(g) + (1-sg(f))·nl(1-g);
//   plus ½(R(f) + R(g)).
torch::Tensor roleLoss(const LossConfig& cfg, const Probs& f, const Probs& g, const TargetMasks& m) {
  const double eps = cfg.log_eps;
  auto observed = m.pos * (negLog(f.p, eps) + negLog(g.p, eps)) +
                  m.obs_neg * (negLog(f.q, eps) + negLog(g.q, eps));
  auto cross_f = g.p.detach() * negLog(f.p, eps) + g.q.detach() * negLog(f.q, eps);
  auto cross_g = f.p.detach() * negLog(g.p, eps) + f.q.detach() * negLog(g.q, eps);
  auto matrix = 0.5 * observed + 0.5 * (cross_f + cross_g);
  auto reg = 0.5 * (expectedPositiveRegularizer(f.p, cfg.expected_positives) +
                    expectedPositiveRegularizer(g.p, cfg.expected_positives));
  return matrix.mean() + reg;
}

// RetinaNet sigmoid focal loss: -α_t (1-p_t)^γ log p_t, mean over all entries. The log term is
// computed from logits (log-sigmoid), so it needs no epsilon.
torch::Tensor focalLoss(const LossConfig& cfg, const torch::Tensor& x, const TargetMasks& m) {
  const auto& t = m.pos;
  auto ce = -(t * torch::log_sigmoid(x) + (1.0 - t) * torch::log_sigmoid(-x));
  auto p_t = torch::sigmoid(x) * t + torch::sigmoid(-x) * (1.0 - t);
  auto loss = ce * (1.0 - p_t).pow(cfg.focal_gamma);
  if (cfg.focal_alpha >= 0) loss = loss * (cfg.focal_alpha * t + (1.0 - cfg.focal_alpha) * (1.0 - t));
  return loss.mean();
}

// ASL (Ridnik et al. 2021), as AsymmetricLossOptimized: probability shifting on negatives
// (1 - p_m = min(1 - p + m, 1)), log clamped at eps, focusing weight (1-p)^γ+ on positives and
// p_m^γ- on negatives, optionally computed without grad (Q2L --dtgfl). Returns -Σ over all entries as the ASL code
// does, or Q2L's -Σ/(B·K)·1000 when asl_q2l_normalization is set.
torch::Tensor aslLoss(const LossConfig& cfg, const torch::Tensor& x, const TargetMasks& m) {
  const auto& y = m.pos;
  auto anti_y = 1.0 - y;
  auto xs_pos = torch::sigmoid(x);
  auto one_minus_p = torch::sigmoid(-x);  // 1 - p without float32 cancellation near p = 1
  auto xs_neg = one_minus_p;
  if (cfg.asl_clip > 0) xs_neg = (xs_neg + cfg.asl_clip).clamp_max(1.0);
  auto loss = y * torch::log(xs_pos.clamp_min(cfg.asl_eps)) + anti_y * torch::log(xs_neg.clamp_min(cfg.asl_eps));
  if (cfg.asl_gamma_neg > 0 || cfg.asl_gamma_pos > 0) {
    torch::Tensor weight;
    {
      std::optional<torch::NoGradGuard> no_grad;
      if (cfg.asl_detach_focus) no_grad.emplace();
      // 1-p on positives, p_m = max(p - m, 0) on negatives. The ASL code writes p_m as
      // 1 - min(1 - p + m, 1); the direct form is equal and keeps float32 precision for small p_m.
      auto p_m = cfg.asl_clip > 0 ? (xs_pos - cfg.asl_clip).clamp_min(0.0) : xs_pos;
      auto base = y * one_minus_p + anti_y * p_m;
      weight = torch::pow(base, cfg.asl_gamma_pos * y + cfg.asl_gamma_neg * anti_y);
    }
    loss = loss * weight;
  }
  auto total = -loss.sum();
  if (cfg.asl_q2l_normalization)
    total = total / static_cast<double>(x.size(0)) / static_cast<double>(x.size(1)) * 1000.0;
  return total;
}

void checkShapes(const LossConfig& cfg, const torch::Tensor& logits, const torch::Tensor& targets,
                 const torch::Tensor& estimator_logits) {
  if (!logits.defined() || logits.dim() != 2)
    throw std::invalid_argument("multiLabelLoss: logits must be a (batch, classes) tensor");
  if (!targets.defined() || targets.sizes() != logits.sizes())
    throw std::invalid_argument("multiLabelLoss: targets must have the same shape as the logits");
  if (lossNeedsEstimator(cfg.kind) && (!estimator_logits.defined() || estimator_logits.sizes() != logits.sizes()))
    throw std::invalid_argument("multiLabelLoss: the " + lossName(cfg.kind) +
                                " loss needs label-estimator logits of the same shape as the logits");
}

}  // namespace

LossKind parseLossKind(const std::string& name) {
  std::string key = name;
  for (char& c : key) c = c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& k : kKinds)
    if (key == k.name) return k.value;
  throw std::invalid_argument("unknown loss '" + name + "' (expected " + choiceList(enumNames(kKinds)) + ")");
}

std::string lossName(LossKind kind) { return enumName(kKinds, kind); }

std::vector<std::string> lossNames() { return enumNames(kKinds); }

bool lossNeedsEstimator(LossKind kind) { return kind == LossKind::ROLE; }

LossConfig LossConfig::q2lCoco() {
  LossConfig cfg;
  cfg.kind = LossKind::ASL;
  cfg.asl_gamma_pos = 0.0;
  cfg.asl_gamma_neg = 2.0;
  cfg.asl_clip = 0.0;
  cfg.asl_detach_focus = true;
  cfg.asl_eps = 1e-5;
  cfg.asl_q2l_normalization = true;
  return cfg;
}

at::Tensor multiLabelLoss(const LossConfig& cfg, const at::Tensor& logits, const at::Tensor& targets,
                          const at::Tensor& estimator_logits) {
  checkShapes(cfg, logits, targets, estimator_logits);
  // Losses are computed in float32 even under mixed precision (half logits would lose the
  // 1e-5 epsilons); float64 is kept so gradient checks can run in double.
  const auto dtype = logits.scalar_type() == torch::kDouble ? torch::kDouble : torch::kFloat;
  auto x = logits.to(dtype);
  auto masks = splitTargets(targets.to(x.device()), dtype);
  switch (cfg.kind) {
    case LossKind::BCE:
    case LossKind::AN: return anLoss(cfg, Probs(x), masks);
    case LossKind::AN_LS: return anLsLoss(cfg, Probs(x), masks);
    case LossKind::WAN: return wanLoss(cfg, Probs(x), masks);
    case LossKind::EPR: return eprLoss(cfg, Probs(x), masks);
    case LossKind::ROLE: return roleLoss(cfg, Probs(x), Probs(estimator_logits.to(x.device(), dtype)), masks);
    case LossKind::Focal: return focalLoss(cfg, x, masks);
    case LossKind::ASL: return aslLoss(cfg, x, masks);
  }
  throw std::invalid_argument("multiLabelLoss: unknown loss kind");
}

}  // namespace mls
