"""Performance without labels (confidence-based, as NannyML's CBPE), and with them.

A calibrated churn probability ``p`` says that, of many customers scored ``p``,
a share ``p`` will churn. Treating each customer's outcome as a coin with that
bias gives the expected confusion counts at every threshold, hence the expected
ROC-AUC, precision and recall, without a single label. Drawing the coins many
times gives an interval (how far the realised figure may fall from the expected
one by chance alone, *given* calibration; a miscalibrated model or a change in
how features relate to churn, which no label-free method can see, adds to it).

When outcomes arrive, :func:`realised_performance` gives the real figures.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

DRAWS = 200
CHUNK_CELLS = 20_000_000


@dataclass(frozen=True)
class Performance:
    """ROC-AUC, precision and recall at a threshold, estimated or realised.

    Attributes
    ----------
    kind : {"estimated", "realised"}
    rows : int
        Customers the figures are about (labelled ones for ``realised``).
    threshold : float
    roc_auc, precision, recall : float
        NaN where undefined (one class only; nobody flagged).
    roc_auc_low, roc_auc_high, precision_low, precision_high, recall_low, recall_high : float
        95 % interval from label draws (estimated) or NaN (realised).
    churn_rate : float
        Expected (mean probability) or realised share of churners.
    """

    kind: str
    rows: int
    threshold: float
    roc_auc: float
    roc_auc_low: float
    roc_auc_high: float
    precision: float
    precision_low: float
    precision_high: float
    recall: float
    recall_low: float
    recall_high: float
    churn_rate: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe (NaN becomes None)."""
        return {k: (None if isinstance(v, float) and not np.isfinite(v) else v)
                for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Performance:
        """Rebuild from :meth:`to_dict` output."""
        return cls(**{k: (float("nan") if v is None else v) for k, v in d.items()})


def expected_roc_auc(probabilities: np.ndarray) -> float:
    """Expected ROC-AUC if each customer churns with their probability.

    Ratio of the expected concordant pairs to the expected positive-negative pairs
    (self-pairs excluded); ties count one half. ``O(n log n)``.
    """
    p = np.asarray(probabilities, dtype=float)
    if p.size < 2:
        return float("nan")
    order = np.argsort(p, kind="stable")
    s, ps = p[order], p[order]
    # For each customer as the negative: expected positives scored strictly higher,
    # plus half of those tied with it (excluding itself).
    cum = np.concatenate([[0.0], np.cumsum(ps)])
    lo = np.searchsorted(s, s, side="left")
    hi = np.searchsorted(s, s, side="right")
    higher = cum[-1] - cum[hi]
    tied = cum[hi] - cum[lo] - ps
    concordant = float(np.sum((1 - ps) * (higher + 0.5 * tied)))
    pairs = float(p.sum() * (1 - p).sum() - np.sum(p * (1 - p)))
    return concordant / pairs if pairs > 0 else float("nan")


def _draw_metrics(p: np.ndarray, flagged: np.ndarray, draws: int, seed: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC-AUC, precision and recall for ``draws`` label vectors drawn from ``p``."""
    ranks = rankdata(p)  # average ranks for ties: the Mann-Whitney form of the AUC
    n = p.size
    rng = np.random.default_rng(seed)
    aucs, precs, recs = [], [], []
    step = max(1, CHUNK_CELLS // max(n, 1))
    for start in range(0, draws, step):
        k = min(step, draws - start)
        y = rng.random((k, n)) < p
        n_pos = y.sum(axis=1).astype(float)
        n_neg = n - n_pos
        rank_sum = y.astype(np.float32) @ ranks.astype(np.float32)
        with np.errstate(invalid="ignore", divide="ignore"):
            aucs.append((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
            tp = y[:, flagged].sum(axis=1).astype(float)
            precs.append(tp / flagged.sum() if flagged.any() else np.full(k, np.nan))
            recs.append(tp / n_pos)
    return np.concatenate(aucs), np.concatenate(precs), np.concatenate(recs)


def _interval(values: np.ndarray) -> tuple[float, float]:
    v = values[np.isfinite(values)]
    if v.size == 0:
        return float("nan"), float("nan")
    lo, hi = np.quantile(v, [0.025, 0.975])
    return float(lo), float(hi)


def estimate_performance(
    probabilities: np.ndarray,
    threshold: float,
    *,
    draws: int = DRAWS,
    seed: int = 0,
) -> Performance:
    """Expected ROC-AUC, precision and recall at ``threshold`` from calibrated probabilities.

    Parameters
    ----------
    probabilities : array of float
        The model's churn probabilities for the customers scored (NaN ignored).
    threshold : float
        Customers at or above it are flagged.
    draws : int
        Label draws for the 95 % interval.
    seed : int

    Returns
    -------
    Performance
        ``kind="estimated"``.
    """
    p = np.asarray(probabilities, dtype=float)
    p = np.clip(p[np.isfinite(p)], 0.0, 1.0)
    flagged = p >= threshold
    expected_pos = float(p.sum())
    precision = float(p[flagged].mean()) if flagged.any() else float("nan")
    recall = float(p[flagged].sum() / expected_pos) if expected_pos > 0 else float("nan")
    aucs, precs, recs = _draw_metrics(p, flagged, draws, seed) if p.size else (
        np.array([]), np.array([]), np.array([]))
    return Performance("estimated", int(p.size), float(threshold), expected_roc_auc(p),
                       *_interval(aucs), precision, *_interval(precs), recall, *_interval(recs),
                       float(p.mean()) if p.size else float("nan"))


def realised_performance(labels: np.ndarray, probabilities: np.ndarray,
                         threshold: float) -> Performance:
    """ROC-AUC, precision and recall on customers whose outcome is known.

    Parameters
    ----------
    labels : array of float
        1 churned, 0 stayed, NaN unknown (left out).
    probabilities : array of float
    threshold : float

    Returns
    -------
    Performance
        ``kind="realised"``; intervals are NaN.
    """
    y = np.asarray(labels, dtype=float)
    p = np.asarray(probabilities, dtype=float)
    known = np.isfinite(y) & np.isfinite(p)
    y, p = y[known], p[known]
    flagged = p >= threshold
    auc = float(roc_auc_score(y, p)) if np.unique(y).size == 2 else float("nan")
    precision = float(y[flagged].mean()) if flagged.any() else float("nan")
    recall = float(y[flagged].sum() / y.sum()) if y.sum() > 0 else float("nan")
    nan = float("nan")
    return Performance("realised", int(y.size), float(threshold), auc, nan, nan, precision,
                       nan, nan, recall, nan, nan, float(y.mean()) if y.size else nan)
