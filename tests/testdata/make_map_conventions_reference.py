#!/usr/bin/python3
"""Writes map_conventions_reference.json: independent values for tests/ml/test_map_conventions.cpp.

numpy only, written from the textbook definitions (not ported from engine/ml/metrics_conventions.cpp):
  - scikit-learn AP: sum_n (R_n - R_{n-1}) P_n, one point per distinct score threshold (every item with
    score >= t retrieved, so tied scores enter together); computed threshold by threshold, O(n^2).
  - MLSPL mAP: that AP per class, a class without positives counting 0, mean over all K.
  - Q2L (VOC) AP: rank with np.argsort(-score, kind='stable') (ties in input order, NaN last), one point
    per item; interpolated precision p_interp(r) = max precision over all points with recall >= r; AP =
    sum over the recall steps of (r_i - r_{i-1}) p_interp(r_i). Computed point by point, O(n^2).
    mAP over classes with at least one positive.

Run: /usr/bin/python3 make_map_conventions_reference.py
"""
import os

import numpy as np

from reference_json import compact_json


def ap_sklearn(scores, labels):
    scores = np.asarray(scores, dtype=np.float32)
    labels = np.asarray(labels) != 0
    positives = labels.sum()
    if positives == 0:
        return None
    ap, previous_recall = 0.0, 0.0
    for t in sorted(set(scores.tolist()), reverse=True):
        retrieved = scores >= t
        tp = float(np.sum(retrieved & labels))
        recall = tp / float(positives)
        ap += (recall - previous_recall) * tp / float(np.sum(retrieved))
        previous_recall = recall
    return ap


def ap_voc(scores, labels):
    scores = np.asarray(scores, dtype=np.float32).astype(np.float64)
    labels = np.asarray(labels) != 0
    positives = labels.sum()
    if positives == 0:
        return None
    order = np.argsort(-scores, kind="stable")  # -NaN sorts last as well
    hits = labels[order]
    tp = np.cumsum(hits)
    recall = tp / float(positives)
    precision = tp / np.arange(1, len(hits) + 1, dtype=np.float64)
    ap, previous_recall = 0.0, 0.0
    for i in range(len(hits)):
        if recall[i] == previous_recall:
            continue
        ap += (recall[i] - previous_recall) * max(precision[j] for j in range(len(hits)) if recall[j] >= recall[i])
        previous_recall = recall[i]
    return ap


def mean_or_none(values):
    return float(np.mean(values)) if values else None


def conventions(scores, labels):
    k = scores.shape[1]
    sk = [ap_sklearn(scores[:, c], labels[:, c]) for c in range(k)]
    voc = [ap_voc(scores[:, c], labels[:, c]) for c in range(k)]
    return {
        "ap_sklearn": [None if a is None else 100 * a for a in sk],
        "ap_voc": [None if a is None else 100 * a for a in voc],
        "map": mean_or_none([100 * a for a in sk if a is not None]),
        "map_mlspl": mean_or_none([0.0 if a is None else 100 * a for a in sk]),
        "map_q2l_voc": mean_or_none([100 * a for a in voc if a is not None]),
    }


def ap_cases(rng):
    cases = [
        ("interleaved", [0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]),
        ("dip_then_rise", [0.9, 0.8, 0.7, 0.6, 0.5], [1, 0, 0, 1, 1]),
        ("tie_negative_first", [0.5, 0.5, 0.5, 0.2], [0, 1, 0, 1]),
        ("tie_positive_first", [0.5, 0.5, 0.5, 0.2], [1, 0, 0, 1]),
        ("all_tied", [0.3, 0.3, 0.3, 0.3, 0.3], [0, 1, 0, 0, 1]),
        ("negative_logits", [-0.1, -2.5, -0.7, -3.0, -1.2], [0, 1, 1, 0, 0]),
        ("all_zero_scores", [0.0, 0.0, 0.0], [0, 0, 1]),
        ("all_positive", [0.1, 0.7, 0.4], [1, 1, 1]),
        ("no_positive", [0.1, 0.7, 0.4], [0, 0, 0]),
    ]
    scores = np.round(rng.random(50) * 8) / 8  # 9 distinct values: many ties
    cases.append(("random_ties_50", scores.tolist(), (rng.random(50) < 0.3).astype(int).tolist()))
    cases.append(("random_150", rng.random(150).tolist(), (rng.random(150) < 0.15).astype(int).tolist()))
    out = []
    for name, s, y in cases:
        s32 = np.asarray(s, dtype=np.float32)
        out.append({"name": name, "scores": [float(v) for v in s32], "labels": [int(v) for v in y],
                    "ap_sklearn": ap_sklearn(s32, y), "ap_voc": ap_voc(s32, y)})
    return out


def matrix_case(rng, name, n, k, quantum):
    scores = rng.random((n, k))
    labels = (rng.random((n, k)) < 0.3).astype(np.uint8)
    labels[:, 0] = 0  # a class without positives: 0 for MLSPL, skipped by the other two
    labels[:, 1] = 1  # an all-positive class: AP 100 everywhere
    scores = np.where(labels == 1, scores + 0.25, scores)
    scores[:, 2] -= 2.0  # a class scored by negative numbers (logits): only the ranking matters
    if quantum:
        scores = np.round(scores / quantum) * quantum
    scores = scores.astype(np.float32)
    case = {"name": name, "num_images": n, "num_classes": k,
            "scores": [[float(v) for v in row] for row in scores], "labels": labels.tolist()}
    case["expected"] = conventions(scores, labels)
    return case



def main():
    rng = np.random.default_rng(11)
    out = {
        "generator": "tests/testdata/make_map_conventions_reference.py (numpy %s)" % np.__version__,
        "ap_cases": ap_cases(rng),
        "matrix_cases": [
            matrix_case(rng, "ties_quantum_0.1", 30, 6, 0.1),
            matrix_case(rng, "continuous", 45, 5, None),
        ],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "map_conventions_reference.json")
    with open(path, "w") as f:
        f.write(compact_json(out) + "\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
