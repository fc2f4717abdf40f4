"""Held-out figures from score histograms, so no process ever holds every score.

Each partition counts its churners and stayers in ``BINS`` equal-width score bins;
the counts add up across partitions. ROC-AUC treats scores within one bin as tied
(half credit), so it differs from the exact figure by at most the share of
churner-stayer pairs that share a bin (below 0.001 for 65,536 bins on real scores).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BINS = 2**16


def score_histogram(y: np.ndarray, scores: np.ndarray, bins: int = BINS) -> np.ndarray:
    """Counts of churners (row 0) and stayers (row 1) per score bin; rows without a label
    are left out. Bin ``b`` holds scores in ``[b / bins, (b + 1) / bins)`` (1.0 in the last)."""
    y = np.asarray(y, dtype=float)
    s = np.asarray(scores, dtype=float)
    keep = ~np.isnan(y) & ~np.isnan(s)
    b = np.clip((s[keep] * bins).astype(np.int64), 0, bins - 1)
    pos = y[keep] == 1
    return np.stack([np.bincount(b[pos], minlength=bins), np.bincount(b[~pos], minlength=bins)])


@dataclass(frozen=True)
class HistogramFigures:
    """ROC-AUC, PR-AUC (average precision), base rate, rows and the best-F1 threshold."""

    roc_auc: float
    pr_auc: float
    base_rate: float
    rows: int
    threshold: float
    f1: float


def figures(hist: np.ndarray) -> HistogramFigures:
    """The held-out figures of a summed :func:`score_histogram`.

    Raises
    ------
    ValueError
        When the held-out rows hold no churner or no stayer.
    """
    pos, neg = hist[0].astype(float), hist[1].astype(float)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"the held-out rows hold {int(n_pos)} churners and {int(n_neg)} "
                         "stayers; both are needed to measure the model")
    neg_below = np.cumsum(neg) - neg
    auc = float(np.sum(pos * (neg_below + 0.5 * neg)) / (n_pos * n_neg))
    # flagged = every bin from b up: true and false positives at each bin's lower edge
    tp = np.cumsum(pos[::-1])[::-1]
    fp = np.cumsum(neg[::-1])[::-1]
    precision = np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)
    recall = tp / n_pos
    recall_step = recall - np.append(recall[1:], 0.0)
    ap = float(np.sum(recall_step * precision))
    f1 = 2 * tp / (tp + fp + n_pos)
    best = int(np.argmax(f1))
    return HistogramFigures(roc_auc=auc, pr_auc=ap, base_rate=float(n_pos / (n_pos + n_neg)),
                            rows=int(n_pos + n_neg), threshold=best / hist.shape[1],
                            f1=float(f1[best]))
