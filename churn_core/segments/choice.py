"""Choosing the number of segments: clear, useful and big enough to act on.

Silhouette alone prefers two segments on nearly every real table ("high spenders" vs
"the rest"), which tells a marketer nothing. Each k in :data:`K_RANGE` is scored on a
random sample of the training rows by

``score = silhouette + separation + BALANCE_WEIGHT x balance``

- silhouette (-1..1): how clearly the customers fall into the segments;
- separation (0..1): how much the churn rate differs between segments, the
  correlation ratio eta = sqrt(between-segment variance of the label / its total
  variance) (0 without labels);
- balance (0..1): normalised entropy of the segment sizes (1 = equal sizes).

A k is eligible only when its smallest segment holds at least :data:`MIN_SHARE` of the
rows. The best eligible score wins, and a smaller k within :data:`TIE` of it is preferred
(fewer segments are easier to act on). When no k is eligible, the k whose smallest
segment is largest is used.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from churn_core.progress import Progress
from churn_core.segments.types import CHOICE_COLUMNS

log = logging.getLogger(__name__)

K_RANGE = range(3, 9)
MIN_SHARE = 0.05
BALANCE_WEIGHT = 0.25
TIE = 0.01
SILHOUETTE_ROWS = 2000


def separation(labels: np.ndarray, y: np.ndarray | None, k: int) -> float:
    """Correlation ratio of the 0/1 label on the segment (NaN labels ignored); 0 without
    labels or when every labelled row has the same label."""
    if y is None:
        return 0.0
    y = np.asarray(y, dtype=float)
    known = np.isfinite(y)
    if known.sum() < 2:
        return 0.0
    lab, yk = labels[known], y[known]
    total = float(yk.var())
    if total <= 0:
        return 0.0
    n = np.bincount(lab, minlength=k).astype(float)
    s = np.bincount(lab, weights=yk, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(n > 0, s / n, 0.0)
    between = float((n * (rate - yk.mean()) ** 2).sum() / n.sum())
    return float(np.sqrt(min(between / total, 1.0)))


def balance(labels: np.ndarray, k: int) -> float:
    """Normalised entropy of the segment sizes: 1 for equal sizes, 0 for one segment."""
    p = np.bincount(labels, minlength=k) / max(len(labels), 1)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum() / np.log(k)) if k > 1 else 0.0


def score_k(E: np.ndarray, y: np.ndarray | None, k: int, *, seed: int) -> dict[str, float]:
    """The parts of the score of ``k`` segments on the encoded sample ``E``."""
    labels = KMeans(n_clusters=k, n_init=2, random_state=seed).fit_predict(E)
    sil = silhouette_score(E, labels, sample_size=min(len(E), SILHOUETTE_ROWS),
                           random_state=seed) if len(set(labels)) > 1 else -1.0
    sep, bal = separation(labels, y, k), balance(labels, k)
    smallest = float(np.bincount(labels, minlength=k).min() / len(labels))
    return {"k": k, "silhouette": float(sil), "separation": sep, "balance": bal,
            "smallest_share": smallest, "eligible": smallest >= MIN_SHARE,
            "score": float(sil) + sep + BALANCE_WEIGHT * bal}


def choose_k(E: np.ndarray, y: np.ndarray | None, *, k_range: range = K_RANGE, seed: int = 42,
             progress: Progress | None = None) -> tuple[int, pd.DataFrame]:
    """Choose the number of segments on an encoded sample.

    Parameters
    ----------
    E : numpy.ndarray
        Encoded rows (a random sample of the training rows).
    y : numpy.ndarray or None
        0/1 label of the same rows (NaN = unknown), or None.
    k_range : range
        Candidates; those with fewer rows than 10 per segment are skipped.
    seed : int
    progress : callable(fraction, message), optional

    Returns
    -------
    k : int
    table : pandas.DataFrame
        One row per k tried: :data:`~churn_core.segments.types.CHOICE_COLUMNS`.

    Raises
    ------
    ValueError
        When no candidate k fits the number of rows.
    """
    candidates = [k for k in k_range if k >= 2 and 10 * k <= len(E)]
    if not candidates:
        raise ValueError(f"{len(E)} rows are too few for {min(k_range)} or more segments")
    rows = []
    for i, k in enumerate(candidates):
        rows.append(score_k(E, y, k, seed=seed))
        if progress:
            progress((i + 1) / len(candidates), f"{k} segments: score {rows[-1]['score']:.3f}")
    table = pd.DataFrame(rows, columns=list(CHOICE_COLUMNS))
    ok = table[table["eligible"]]
    if ok.empty:
        k = int(table.sort_values(["smallest_share", "k"], ascending=[False, True])["k"].iloc[0])
        log.info("no k keeps every segment at %.0f %% of rows; k=%d has the largest smallest "
                 "segment", 100 * MIN_SHARE, k)
        return k, table
    best = float(ok["score"].max())
    k = int(ok.loc[ok["score"] >= best - TIE, "k"].min())
    log.info("chose k=%d: %s", k, table.round(3).to_dict("records"))
    return k, table
