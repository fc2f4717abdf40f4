"""How many rows the search and the cross-fitting learn from, measured on the table itself.

On large tables the boosted model's held-out ROC-AUC stops improving long before
every row is used, while time grows with the rows. Instead of fixed row caps,
:func:`size_by_curve` measures the learning curve at run time: XGBoost (the middle
setting of :data:`churn_core.model.SEARCH_SPACE`) learns from ``n``, ``2n``, ``4n``...
rows of the training part and is judged on a held-out part (grouped: no customer on
both sides); the growing stops at the first doubling that gains less than
:data:`CURVE_MIN_GAIN` (0.005) ROC-AUC. The size found bounds the rows of

- the parameter search (each setting learns from that many rows and is judged on
  the same held-out part, instead of 3 folds of a fixed sample),
- each cross-fitting fold's XGBoost and logistic regression,

while the shipped model still learns from every labelled row. Tables with fewer than
:data:`CURVE_MIN_ROWS` labelled rows are not sized (every row is used, as before), so
small files train exactly as they did. The random forest and the neural network,
which are only shown and never ship, are left out of the comparison on sized tables.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from churn_core.features import fit_preprocessor, transform
from churn_core.model import (
    SEARCH_MAX_ROUNDS,
    SEARCH_SPACE,
    TrainConfig,
    _fit,
    _learning_rate,
    _params,
    predict_X,
)
from churn_core.progress import Progress
from churn_core.splits import group_folds

log = logging.getLogger(__name__)

#: Labelled rows below which nothing is sized (every row used, as for small files).
CURVE_MIN_ROWS = 150_000
#: The first size of the curve.
CURVE_START = 25_000
#: A doubling of the rows that gains less held-out ROC-AUC than this ends the curve. The
#: sized models only judge (settings, champion, threshold, out-of-fold figures); the shipped
#: model learns from every row. Measured on simulate_large(1M), 50k held-out rows: 0.7515 /
#: 0.7622 / 0.7680 / 0.7717 / 0.7744 / 0.7753 at 25k / 50k / 100k / 200k / 400k / 800k rows;
#: a 0.001 rule sized at 400k (each of 5 folds learning from 400k rows: slower than the fixed
#: 200k cap it replaced), 0.005 sizes at 100k.
CURVE_MIN_GAIN = 0.005
#: Held-out rows the curve and the search are judged on (about +/-0.002 ROC-AUC alone;
#: differences between sizes are judged on the same rows, so they are finer).
CURVE_HOLDOUT = 50_000
_PATIENCE = 30  # rounds without improvement on the held-out part (as in the 3-fold search)


@dataclass(frozen=True)
class Sizing:
    """The rows the search and each cross-fitting fold learn from.

    Attributes
    ----------
    rows : int or None
        At most this many training rows; None when the table is too small to size.
    curve : tuple of (int, float)
        Training rows and held-out ROC-AUC of each measured point.
    holdout_rows : int
        Rows the curve was judged on.
    """

    rows: int | None
    curve: tuple[tuple[int, float], ...] = ()
    holdout_rows: int = 0
    search: dict = field(default_factory=dict)
    search_table: pd.DataFrame = field(default_factory=pd.DataFrame)


def curve_size(fit_auc: Callable[[int], float], available: int, *, start: int = CURVE_START,
               min_gain: float = CURVE_MIN_GAIN) -> tuple[int, tuple[tuple[int, float], ...]]:
    """Grow the training rows by doubling until a doubling gains less than ``min_gain``.

    Parameters
    ----------
    fit_auc : callable
        ``fit_auc(n)``: held-out ROC-AUC of a model learning from the first ``n`` rows.
    available : int
        Training rows there are.
    start : int
        The first size.
    min_gain : float
        The smallest ROC-AUC gain worth doubling the rows for.

    Returns
    -------
    size : int
        The smaller size of the first doubling that gained less than ``min_gain`` (every
        available row when each doubling paid).
    curve : tuple of (int, float)
        The measured points.
    """
    n = min(start, available)
    auc = fit_auc(n)
    curve = [(n, auc)]
    while n < available:
        bigger = min(2 * n, available)
        more = fit_auc(bigger)
        curve.append((bigger, more))
        if more - auc < min_gain:
            return n, tuple(curve)
        n, auc = bigger, more
    return n, tuple(curve)


def size_by_curve(config: TrainConfig, device: str, dataset, rows: np.ndarray, y: np.ndarray,
                  *, train_rows: int, progress: Progress | None = None) -> Sizing:
    """Measure the learning curve (and, when ``config.search``, compare the settings at the
    size found) on a grouped held-out part of the labelled rows.

    Parameters
    ----------
    config : TrainConfig
    device : str
    dataset : Dataset
    rows : ndarray of int
        Labelled row positions.
    y : ndarray
        Labels of every dataset row.
    train_rows : int
        Rows the cross-fitting folds would learn from (sets the learning rate).
    progress : callable, optional

    Returns
    -------
    Sizing
        ``rows`` None when there are fewer than :data:`CURVE_MIN_ROWS` labelled rows.
    """
    report = progress or (lambda f, m: None)
    if rows.size < CURVE_MIN_ROWS:
        return Sizing(rows=None)
    n_parts = max(2, int(round(rows.size / CURVE_HOLDOUT)))
    part = group_folds(y[rows], dataset.groups[rows], n_parts, seed=config.seed + 13)
    hold = rows[part == 0]
    pool = rows[part != 0]
    pool = pool[np.random.default_rng(config.seed + 17).permutation(pool.size)]
    # Label-free statistics (category levels) from a sample of the training part.
    pre = fit_preprocessor(dataset.frame.iloc[np.sort(pool[:4 * CURVE_START])], dataset.schema)
    X_hold, _ = transform(pre, dataset.frame.iloc[hold])
    y_hold = y[hold]
    cache: dict[int, pd.DataFrame] = {}

    def X_first(n: int) -> pd.DataFrame:
        if n not in cache:
            cache[n] = transform(pre, dataset.frame.iloc[pool[:n]])[0]
        return cache[n]

    fitted: dict[tuple[int, int], tuple[float, int]] = {}

    def fit_auc(n: int, setting: int = 1) -> tuple[float, int]:
        if (n, setting) not in fitted:
            params = _params(config, device, y[pool[:n]], SEARCH_SPACE[setting],
                             train_rows=train_rows)
            bst = _fit(params, X_first(n), y[pool[:n]], X_hold, y_hold,
                       rounds=min(config.n_estimators, SEARCH_MAX_ROUNDS),
                       early_stopping=_PATIENCE)
            fitted[n, setting] = (float(roc_auc_score(y_hold, predict_X(bst, X_hold))),
                                  bst.num_boosted_rounds())
        return fitted[n, setting]

    def curve_point(n: int) -> float:
        report(0.05, f"Learning curve: {n:,} training rows")
        auc = fit_auc(n)[0]
        log.info("learning curve: %d rows -> held-out ROC-AUC %.4f", n, auc)
        return auc

    size, curve = curve_size(curve_point, pool.size, start=CURVE_START, min_gain=CURVE_MIN_GAIN)
    log.info("sized at %d training rows (curve %s, %d held-out rows)", size, curve, hold.size)
    if not config.search:
        return Sizing(rows=size, curve=curve, holdout_rows=int(hold.size))
    records = []
    for i, extra in enumerate(SEARCH_SPACE):
        shown = {**extra, "learning_rate": _learning_rate(extra, train_rows)}
        report(0.05 + 0.2 * i / len(SEARCH_SPACE),
               f"Trying setting {i + 1} of {len(SEARCH_SPACE)} on {size:,} rows: {shown}")
        auc, trees = fit_auc(size, i)
        records.append({**shown, "trees": int(trees), "valid_auc": auc})
    table = pd.DataFrame(records)
    best = SEARCH_SPACE[int(table["valid_auc"].idxmax())]
    return Sizing(rows=size, curve=curve, holdout_rows=int(hold.size), search=best,
                  search_table=table)
