#!/usr/bin/python3
"""Writes metric_reference.json: independent reference values for tests/ml/test_metrics.cpp.

numpy only (scikit-learn is not installed here), written from the definitions, not ported from
engine/ml/metrics.cpp:
  - AP = sum_n (R_n - R_{n-1}) P_n over the distinct score thresholds, as scikit-learn's
    average_precision_score / precision_recall_curve: at threshold t every item with score >= t is
    retrieved, so tied scores enter together. Computed here threshold by threshold (O(n^2)).
    A class without positives has no AP (null) and is left out of mAP.
  - CP/CR/CF1/OP/OR/OF1 in the ML-GCN convention: per class Nc, Np, Ng; a class never predicted
    has precision 0; CF1/OF1 are F1 of the averaged precision and recall. The class means run over
    classes with >= 1 positive; overall sums cover all classes. Top-3: a label counts as predicted
    when it is among the image's 3 highest scores (ties: lower class index first) and also passes
    the threshold.

Run: /usr/bin/python3 make_metric_reference.py
"""
import os

import numpy as np

from reference_json import compact_json


def ap_by_thresholds(scores, labels):
    scores = np.asarray(scores, dtype=np.float32)
    labels = np.asarray(labels) != 0
    positives = labels.sum()
    if positives == 0:
        return None
    ap, previous_recall = 0.0, 0.0
    for t in sorted(set(scores.tolist()), reverse=True):
        retrieved = scores >= t
        tp = float(np.sum(retrieved & labels))
        precision = tp / float(np.sum(retrieved))
        recall = tp / float(positives)
        ap += (recall - previous_recall) * precision
        previous_recall = recall
    return ap


def f1(p, r):
    return 2 * p * r / (p + r) if p + r > 0 else 0.0


def threshold_metrics(predicted, labels):
    """predicted, labels: (N,K) bool. Returns [CP, CR, CF1, OP, OR, OF1] in percent."""
    nc = np.sum(predicted & labels, axis=0).astype(float)
    np_ = np.sum(predicted, axis=0).astype(float)
    ng = np.sum(labels, axis=0).astype(float)
    has_pos = ng > 0
    per_class_p = np.where(np_ > 0, nc / np.maximum(np_, 1), 0.0)
    cp = per_class_p[has_pos].mean() if has_pos.any() else 0.0
    cr = (nc[has_pos] / ng[has_pos]).mean() if has_pos.any() else 0.0
    op = nc.sum() / np_.sum() if np_.sum() > 0 else 0.0
    orr = nc.sum() / ng.sum() if ng.sum() > 0 else 0.0
    return [100 * cp, 100 * cr, 100 * f1(cp, cr), 100 * op, 100 * orr, 100 * f1(op, orr)]


def evaluate(scores, labels, threshold):
    n, k = scores.shape
    labels = labels != 0
    aps = [ap_by_thresholds(scores[:, c], labels[:, c]) for c in range(k)]
    evaluated = [a for a in aps if a is not None]
    above = scores >= np.float32(threshold)
    top3 = np.zeros_like(above)
    for i in range(n):
        order = np.argsort(-scores[i].astype(np.float64), kind="stable")[: min(3, k)]
        top3[i, order] = True
    out = {
        "ap": [None if a is None else 100 * a for a in aps],
        "map": 100 * float(np.mean(evaluated)) if evaluated else None,
        "classes_evaluated": len(evaluated),
        "classes_skipped": k - len(evaluated),
    }
    names = ["cp", "cr", "cf1", "op", "or", "of1"]
    out.update(dict(zip(names, threshold_metrics(above, labels))))
    out.update(dict(zip([s + "3" for s in names], threshold_metrics(above & top3, labels))))
    return out


def ap_cases(rng):
    cases = [
        ("perfect", [0.9, 0.8, 0.3, 0.1], [1, 1, 0, 0]),
        ("worst", [0.9, 0.8, 0.3, 0.1], [0, 0, 1, 1]),
        ("interleaved", [0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]),
        ("tie_at_top", [0.5, 0.5, 0.5, 0.2], [1, 0, 0, 1]),
        ("all_tied", [0.3, 0.3, 0.3, 0.3, 0.3], [0, 1, 0, 0, 1]),
        ("all_positive", [0.1, 0.7, 0.4], [1, 1, 1]),
        ("no_positive", [0.1, 0.7, 0.4], [0, 0, 0]),
        ("single_item", [0.2], [1]),
    ]
    scores = np.round(rng.random(60) * 10) / 10  # 11 distinct values: many ties
    labels = (rng.random(60) < 0.35).astype(int)
    cases.append(("random_ties_60", scores.tolist(), labels.tolist()))
    scores = rng.random(200)
    labels = (rng.random(200) < 0.1).astype(int)
    cases.append(("random_200", scores.tolist(), labels.tolist()))
    out = []
    for name, s, y in cases:
        s32 = np.asarray(s, dtype=np.float32)
        out.append({"name": name, "scores": [float(v) for v in s32], "labels": [int(v) for v in y],
                    "ap": ap_by_thresholds(s32, y)})
    return out


def matrix_case(rng, name, n, k, threshold, quantum):
    scores = rng.random((n, k))
    if quantum:
        scores = np.round(scores / quantum) * quantum
    scores = scores.astype(np.float32)
    labels = (rng.random((n, k)) < 0.3).astype(np.uint8)
    labels[0, :] = 0      # an image without any label (except the all-positive class below)
    labels[:, k - 2] = 0  # a class with no positives: skipped
    labels[:, k - 1] = 1  # an all-positive class: AP 100
    # make the scores informative, so the metrics are not all near chance
    scores = np.where(labels == 1, np.minimum(scores + 0.3, 1.0), scores).astype(np.float32)
    if quantum:
        scores = (np.round(scores / quantum) * quantum).astype(np.float32)
    case = {"name": name, "num_images": n, "num_classes": k, "threshold": threshold,
            "scores": [[float(v) for v in row] for row in scores], "labels": labels.tolist()}
    case["expected"] = evaluate(scores, labels, threshold)
    return case



def main():
    rng = np.random.default_rng(7)
    out = {
        "generator": "tests/testdata/make_metric_reference.py (numpy %s)" % np.__version__,
        "ap_cases": ap_cases(rng),
        "matrix_cases": [
            matrix_case(rng, "ties_threshold_0.5", 24, 7, 0.5, 0.05),
            matrix_case(rng, "continuous_threshold_0.35", 40, 6, 0.35, None),
            matrix_case(rng, "three_classes_threshold_0.5", 15, 3, 0.5, 0.1),
        ],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metric_reference.json")
    with open(path, "w") as f:
        f.write(compact_json(out) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
