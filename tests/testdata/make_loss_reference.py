#!/usr/bin/python3
"""Writes loss_reference.json: independent reference values for tests/ml/test_losses.cpp.

Each loss is written straight from its published formula in float64 torch code (autograd gives
the gradients); it is deliberately not a port of engine/ml/losses.cpp.
  - MLSPL losses (Cole et al. 2021, elijahcole/single-positive-multi-label): averaged over
    batch x classes, log(x + 1e-5); EPR/ROLE regulariser (k_hat - k)^2 / K^2.
  - Focal loss (Lin et al. 2017), mean over entries.
  - ASL (Ridnik et al. 2021 / Query2Label aslloss.py): -sum, optional Q2L scaling /(B*K)*1000.
Observed negatives (-1) are an extension: they get a plain -log(1 - p) term (weight 1).

Run with the system Python that has torch:  /usr/bin/python3 make_loss_reference.py
"""
import math
import os

import torch

from reference_json import compact_json

torch.set_default_dtype(torch.float64)
B, K = 4, 5
LOG_EPS = 1e-5


def fixed_inputs():
    gen = torch.Generator().manual_seed(20240611)
    # float32 values, so the C++ test (float32 logits) sees exactly the same numbers.
    logits = (torch.randn(B, K, generator=gen) * 2.0).float()
    logits[0, 0] = 4.5   # confident
    logits[3, 4] = -6.0  # confident negative
    est = (torch.randn(B, K, generator=gen) * 1.5).float()
    est[1, 2] = 5.29     # near logit(0.995), like an initialised observed positive
    full = torch.tensor([[1, 0, 1, 0, 0],
                         [0, 1, 0, 0, 1],
                         [1, 1, 1, 0, 0],
                         [0, 0, 0, 1, 0]], dtype=torch.float32)
    single = torch.tensor([[1, 0, 0, 0, 0],
                           [0, 0, 1, 0, 0],
                           [0, 1, 0, 0, 0],
                           [0, 0, 0, 0, 1]], dtype=torch.float32)
    with_negatives = torch.tensor([[1, -1, 0, 0, 0],
                                   [0, 0, 1, 0, -1],
                                   [-1, 1, 0, -1, 0],
                                   [0, 0, 0, 0, 1]], dtype=torch.float32)
    return logits, est, {"full": full, "single": single, "with_negatives": with_negatives}


def nlog(x):
    return -torch.log(x + LOG_EPS)


def epr_reg(probs, k):
    return (probs.sum(dim=1).mean() - k) ** 2 / probs.shape[1] ** 2


def split(y):
    return (y == 1).double(), (y == 0).double(), (y == -1).double()


def loss_bce(x, y, cfg):
    p = torch.sigmoid(x)
    t = (y == 1).double()
    return (t * nlog(p) + (1 - t) * nlog(1 - p)).sum() / (B * K)


def loss_an(x, y, cfg):
    p = torch.sigmoid(x)
    pos, unobs, neg = split(y)
    return (pos * nlog(p) + (unobs + neg) * nlog(1 - p)).sum() / (B * K)


def loss_an_ls(x, y, cfg):
    # Smoothed targets: 1 -> 1 - eps, 0 -> eps (official loss_an_ls), BCE against them.
    p = torch.sigmoid(x)
    eps = cfg["ls_epsilon"]
    target = torch.where(y == 1, torch.full_like(x, 1 - eps), torch.full_like(x, eps))
    return (target * nlog(p) + (1 - target) * nlog(1 - p)).mean()


def loss_wan(x, y, cfg):
    p = torch.sigmoid(x)
    pos, unobs, neg = split(y)
    weight = pos + neg + unobs / (K - 1)
    per_entry = torch.where(y == 1, nlog(p), nlog(1 - p))
    return (weight * per_entry).mean()


def loss_epr(x, y, cfg):
    p = torch.sigmoid(x)
    pos, unobs, neg = split(y)
    main = (pos * nlog(p) + neg * nlog(1 - p)).sum() / (B * K)
    return main + epr_reg(p, cfg["expected_positives"])


def loss_role(x, y, cfg, g_logits):
    f = torch.sigmoid(x)
    g = torch.sigmoid(g_logits)
    k = cfg["expected_positives"]
    pos, unobs, neg = split(y)
    # classifier part: observed terms + BCE against the (frozen) estimator + regulariser
    f_obs = pos * nlog(f) + neg * nlog(1 - f)
    f_cross = g.detach() * nlog(f) + (1 - g.detach()) * nlog(1 - f)
    # estimator part: the same with the roles swapped
    g_obs = pos * nlog(g) + neg * nlog(1 - g)
    g_cross = f.detach() * nlog(g) + (1 - f.detach()) * nlog(1 - g)
    per_entry = 0.5 * (f_obs + g_obs) + 0.5 * (f_cross + g_cross)
    return per_entry.mean() + 0.5 * (epr_reg(f, k) + epr_reg(g, k))


def loss_focal(x, y, cfg):
    gamma, alpha = cfg["focal_gamma"], cfg["focal_alpha"]
    p = torch.sigmoid(x)
    t = (y == 1).double()
    p_t = torch.where(t == 1, p, 1 - p)
    alpha_t = torch.where(t == 1, torch.full_like(x, alpha), torch.full_like(x, 1 - alpha))
    return (-alpha_t * (1 - p_t) ** gamma * torch.log(p_t)).mean()


def loss_asl(x, y, cfg):
    gp, gn, m, eps = cfg["asl_gamma_pos"], cfg["asl_gamma_neg"], cfg["asl_clip"], cfg["asl_eps"]
    p = torch.sigmoid(x)
    t = (y == 1).double()
    p_m = torch.clamp(p - m, min=0) if m > 0 else p   # shifted probability on negatives
    pos_term = torch.log(torch.clamp(p, min=eps))
    neg_term = torch.log(torch.clamp(1 - p_m, min=eps))
    w_pos = (1 - p) ** gp
    w_neg = p_m ** gn
    if cfg["asl_detach_focus"]:
        w_pos, w_neg = w_pos.detach(), w_neg.detach()
    total = -(t * w_pos * pos_term + (1 - t) * w_neg * neg_term).sum()
    if cfg["asl_q2l_normalization"]:
        total = total / (B * K) * 1000
    return total


DEFAULTS = dict(expected_positives=2.9, ls_epsilon=0.1, focal_gamma=2.0, focal_alpha=0.25,
                asl_gamma_pos=0.0, asl_gamma_neg=4.0, asl_clip=0.05, asl_detach_focus=True,
                asl_eps=1e-8, asl_q2l_normalization=False)
Q2L_COCO = dict(DEFAULTS, asl_gamma_pos=0.0, asl_gamma_neg=2.0, asl_clip=0.0, asl_eps=1e-5,
                asl_q2l_normalization=True)

CASES = [
    ("bce_full", "bce", "full", {}),
    ("an_single", "an", "single", {}),
    ("an_with_negatives", "an", "with_negatives", {}),
    ("an-ls_single", "an-ls", "single", {}),
    ("an-ls_eps0.2", "an-ls", "single", {"ls_epsilon": 0.2}),
    ("wan_single", "wan", "single", {}),
    ("wan_with_negatives", "wan", "with_negatives", {}),
    ("epr_single", "epr", "single", {}),
    ("epr_k1.5_with_negatives", "epr", "with_negatives", {"expected_positives": 1.5}),
    ("role_single", "role", "single", {}),
    ("role_with_negatives", "role", "with_negatives", {"expected_positives": 1.5}),
    ("focal_full", "focal", "full", {}),
    ("focal_gamma1_alpha0.5", "focal", "full", {"focal_gamma": 1.0, "focal_alpha": 0.5}),
    ("asl_paper_defaults", "asl", "full", {}),
    ("asl_not_detached", "asl", "full", {"asl_detach_focus": False}),
    ("asl_gamma_pos1_not_detached", "asl", "full", {"asl_gamma_pos": 1.0, "asl_detach_focus": False}),
    ("asl_q2l_coco", "asl", "full", "q2l"),
]

FUNCTIONS = {"bce": loss_bce, "an": loss_an, "an-ls": loss_an_ls, "wan": loss_wan, "epr": loss_epr,
             "focal": loss_focal, "asl": loss_asl}



def main():
    logits32, est32, targets = fixed_inputs()
    cases = []
    for name, loss, target_name, overrides in CASES:
        cfg = dict(Q2L_COCO) if overrides == "q2l" else dict(DEFAULTS, **overrides)
        x = logits32.double().clone().requires_grad_(True)
        g = est32.double().clone().requires_grad_(True)
        y = targets[target_name].double()
        value = loss_role(x, y, cfg, g) if loss == "role" else FUNCTIONS[loss](x, y, cfg)
        value.backward()
        case = {"name": name, "loss": loss, "targets": target_name, "config": cfg,
                "value": value.item(), "grad_logits": x.grad.tolist()}
        if loss == "role":
            case["grad_estimator"] = g.grad.tolist()
        assert math.isfinite(case["value"])
        cases.append(case)
    out = {
        "generator": "tests/testdata/make_loss_reference.py (torch %s, float64)" % torch.__version__,
        "batch": B, "classes": K,
        "logits": logits32.double().tolist(),
        "estimator_logits": est32.double().tolist(),
        "targets": {k: v.double().tolist() for k, v in targets.items()},
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "loss_reference.json")
    with open(path, "w") as f:
        f.write(compact_json(out, allow_nan=True) + "\n")
    print("wrote %d cases to %s" % (len(cases), path))


if __name__ == "__main__":
    main()
