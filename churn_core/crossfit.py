"""Cross-fitting: every labelled row gets a score from models that never saw it.

The labelled rows are cut into grouped, stratified folds (a customer or a copied
profile stays in one fold). For each fold, preprocessing and every contender are
fitted on the other folds only, and the held-out fold is scored. These
out-of-fold scores are what curves, thresholds, profit and the at-risk list use;
in-sample scores never reach them.

Inside a fold, XGBoost stops early on a grouped part of the *training* folds, so
the number of trees is learnt without looking at the held-out fold; the shipped
model reuses those tree counts (scaled to its larger training set).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from churn_core.features import fit_preprocessor, transform
from churn_core.leaderboard import (
    SIDE_MAX_EVAL,
    SIDE_MAX_TRAIN,
    FoldScores,
    fold_auc,
    forest_scores,
    mlp_scores,
)
from churn_core.linear import fit_linear
from churn_core.progress import Progress
from churn_core.splits import group_folds

log = logging.getLogger(__name__)

# The logistic regression's learning curve is flat far earlier (simulate_large, 200k
# held-out rows: ROC-AUC 0.8010 / 0.8018 / 0.8020 / 0.8024 at 50k / 100k / 200k / 400k
# training rows); 100k rows halve its time at 1M.
LINEAR_MAX_TRAIN = 100_000
EARLY_STOP_MAX_ROWS = 50_000
# The random forest and the network are shown beside the shipped families, never shipped:
# they are judged on the first folds only (at most 20k held-out rows each). At 100k rows on
# five folds they took 16 s of a 45 s training (forest 13.5 s, network 2.9 s).
SIDE_FOLDS = 2


@dataclass(frozen=True)
class CrossFitResult:
    """Out-of-fold scores of every contender on the labelled rows.

    Attributes
    ----------
    rows : ndarray of int
        Positions of the labelled rows in the dataset.
    folds : ndarray of int
        Fold of each labelled row.
    contenders : list of FoldScores
        One per model family, scores aligned with ``rows``.
    trees : tuple of int
        Trees XGBoost kept in each fold (early stopping).
    fit_rows : int
        Rows each fold's final XGBoost model learnt from.
    """

    rows: np.ndarray
    folds: np.ndarray
    contenders: list[FoldScores]
    trees: tuple[int, ...]
    fit_rows: int

    def scores_of(self, name: str) -> np.ndarray:
        """Out-of-fold scores of one contender."""
        return next(c.scores for c in self.contenders if c.name == name)


def _cap(idx: np.ndarray, limit: int | None, rng: np.random.Generator) -> np.ndarray:
    if limit is None or idx.size <= limit:
        return idx
    return np.sort(rng.choice(idx, size=limit, replace=False))


def cross_fit(
    dataset,
    rows: np.ndarray,
    *,
    n_folds: int,
    seed: int,
    fit_xgb: Callable[..., tuple[np.ndarray, int]],
    side_models: bool = True,
    max_train: int | None = None,
    progress: Progress | None = None,
) -> CrossFitResult:
    """Score every labelled row out of fold with each contender.

    Parameters
    ----------
    dataset : Dataset
    rows : ndarray of int
        Labelled row positions (in a stable order).
    n_folds : int
        Folds (>= 2).
    seed : int
    fit_xgb : callable
        ``fit_xgb(X_fit, y_fit, X_watch, y_watch, X_test, X_full, y_full) -> (test scores,
        trees)``: early stopping on the watch rows, then (when ``X_full`` is given) a refit
        on all the fold's training rows with the tree count scaled to them.
    side_models : bool
        Also evaluate the random forest and the neural network (shown, never shipped), on
        the first :data:`SIDE_FOLDS` folds.
    max_train : int, optional
        Rows each fold's XGBoost and logistic regression learn from, at most (the size
        :func:`churn_core.sizing.size_by_curve` measured); None: every training row.
    progress : callable, optional

    Returns
    -------
    CrossFitResult
    """
    report = progress or (lambda f, m: None)
    y_all = dataset.y.to_numpy(dtype=float)
    y = y_all[rows].astype(int)
    folds = group_folds(y, dataset.groups[rows], n_folds, seed=seed + 7)
    rng = np.random.default_rng(seed)
    names = ["xgboost", "logistic"] + (["random_forest", "mlp"] if side_models else [])
    scores = {n: np.full(rows.size, np.nan) for n in names}
    seconds = dict.fromkeys(names, 0.0)
    train_rows = dict.fromkeys(names, 0)
    trees: list[int] = []
    for k in range(n_folds):
        report(k / n_folds, f"Fold {k + 1} of {n_folds}: fitting on the other folds")
        tr_pos, te_pos = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
        inner = group_folds(y[tr_pos], dataset.groups[rows[tr_pos]], 5, seed=seed + 11 + k)
        watch_pos = _cap(tr_pos[inner == 0], EARLY_STOP_MAX_ROWS, rng)
        fit_pos = _cap(tr_pos[inner != 0], max_train, rng)
        full_pos = _cap(tr_pos, max_train, rng)
        frame = dataset.frame
        pre = fit_preprocessor(frame.iloc[rows[tr_pos]], dataset.schema)
        X_fit, _ = transform(pre, frame.iloc[rows[fit_pos]])
        X_watch, _ = transform(pre, frame.iloc[rows[watch_pos]])
        X_te, _ = transform(pre, frame.iloc[rows[te_pos]])
        # Once early stopping has set the trees, the fold model learns from all its training
        # folds (unless the cap already bounds it): fold models as strong as the data allows.
        refit = full_pos.size > 1.05 * fit_pos.size
        X_full = transform(pre, frame.iloc[rows[full_pos]])[0] if refit else None
        t0 = time.perf_counter()
        s, n_trees = fit_xgb(X_fit, y[fit_pos], X_watch, y[watch_pos], X_te,
                             X_full, y[full_pos] if refit else None)
        scores["xgboost"][te_pos] = s
        trees.append(int(n_trees))
        seconds["xgboost"] += time.perf_counter() - t0
        train_rows["xgboost"] = full_pos.size if refit else fit_pos.size
        # The logistic model needs no early stopping: it learns from every training row.
        lin_pos = _cap(tr_pos, min(LINEAR_MAX_TRAIN, max_train or LINEAR_MAX_TRAIN), rng)
        X_lin, _ = transform(pre, frame.iloc[rows[lin_pos]])
        t0 = time.perf_counter()
        scores["logistic"][te_pos] = fit_linear(X_lin, y[lin_pos], seed=seed).predict(X_te)
        seconds["logistic"] += time.perf_counter() - t0
        train_rows["logistic"] = lin_pos.size
        if side_models and k < SIDE_FOLDS:
            side_pos = _cap(tr_pos, SIDE_MAX_TRAIN, rng)
            X_side, _ = transform(pre, frame.iloc[rows[side_pos]])
            eval_pos = _cap(np.arange(te_pos.size), SIDE_MAX_EVAL, rng)
            for name, fn in (("random_forest", forest_scores), ("mlp", mlp_scores)):
                t0 = time.perf_counter()
                out = fn(X_side, y[side_pos], X_te.iloc[eval_pos], seed=seed)
                scores[name][te_pos[eval_pos]] = out
                seconds[name] += time.perf_counter() - t0
                train_rows[name] = side_pos.size
    contenders = [FoldScores(n, scores[n], fold_auc(y, scores[n], folds), seconds[n],
                             train_rows[n]) for n in names]
    for c in contenders:
        log.info("cross-fit %s: ROC-AUC %s in %.1f s", c.name,
                 np.round(np.mean(c.fold_auc), 4) if c.fold_auc else "n/a", c.seconds)
    return CrossFitResult(rows=rows, folds=folds, contenders=contenders, trees=tuple(trees),
                          fit_rows=int(train_rows["xgboost"]))
