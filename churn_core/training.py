"""Training: cross-fitted scores, a leaderboard, a champion refitted on every labelled row.

Steps (:func:`train`):

1. a small search picks XGBoost's settings on grouped folds of the labelled rows;
2. cross-fitting (:mod:`churn_core.crossfit`) gives every labelled row an out-of-fold
   score from XGBoost, logistic regression, a random forest and a small neural network;
3. the leaderboard (:mod:`churn_core.leaderboard`) names the champion among the models
   that can be explained per customer;
4. Platt scaling is fitted on the champion's out-of-fold scores and kept when it
   lowers the out-of-fold log loss (:mod:`churn_core.calibration`);
5. the champion is refitted on *every* labelled row (XGBoost with the fold models' tree
   counts scaled to the larger data) and ships;
6. for tables built from an event log, a backtest by time (test = latest cutoff) is
   reported beside the cross-validated figures.

The honest figures are the out-of-fold ones; in-sample scores are never shown.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from churn_core.calibration import Calibration, fit_calibration
from churn_core.crossfit import CrossFitResult, cross_fit
from churn_core.evaluate import Evaluation, evaluate
from churn_core.explain_points import with_informative_missing
from churn_core.features import Preprocessor, fit_preprocessor, transform
from churn_core.leaderboard import choose_champion, leaderboard_table
from churn_core.linear import LinearModel, fit_linear
from churn_core.model import (
    SEARCH_SPACE,
    TrainConfig,
    _fit,
    _params,
    _patience,
    _search,
    detect_device,
    predict_X,
)
from churn_core.progress import Progress
from churn_core.sizing import Sizing, size_by_curve
from churn_core.splits import Splits

log = logging.getLogger(__name__)

# The shipped model learns from more rows than each fold model did; it gets more trees,
# growing with the square root of the row ratio (measured on the E-commerce workbook and
# simulated tables: held-out ROC-AUC was flat between the 0.5 and 1.0 powers, and 0.5
# keeps the model smaller).
TREE_SCALE_POWER = 0.5
#: Cross-fitting folds when the configuration names none (``TrainConfig.cv_folds=None``).
DEFAULT_FOLDS = 5
#: Share of a fold's training rows its XGBoost model fits on (the rest is for early stopping).
FOLD_FIT_SHARE = 0.8


@dataclass(frozen=True)
class TrainResult:
    """The shipped model and the honest, out-of-fold evidence about it.

    Attributes
    ----------
    champion : {"xgboost", "logistic"}
        The model family that ships.
    booster : xgboost.Booster
        XGBoost refitted on every labelled row (kept even when the logistic model ships).
    linear : LinearModel or None
        The refitted logistic model when it is the champion.
    preprocessor : Preprocessor
        Fitted on every labelled row (what the shipped model sees).
    calibration : Calibration
        Platt map of the champion's scores (identity when it did not help).
    params : dict
        XGBoost settings; ``trees`` the refitted model's number of trees.
    rows, folds : ndarray
        Labelled row positions and the fold of each.
    oof : ndarray
        Calibrated out-of-fold score of each labelled row (champion).
    evaluation : Evaluation
        ROC/PR, calibration, lift of the out-of-fold scores.
    backtest : Evaluation or None
        Event-log tables: the champion trained on earlier cutoffs, scored on the latest.
    leaderboard : DataFrame
        See :func:`churn_core.leaderboard.leaderboard_table`.
    cv_auc, cv_auc_std : float
        Mean and spread of the champion's fold ROC-AUC.
    baseline_auc : float
        The logistic regression's cross-validated ROC-AUC (the yardstick).
    sizing : Sizing
        The learning curve that bounded the search and the fold models (large tables).
    X : DataFrame
        Every row of the dataset through the shipped preprocessor.
    scores : ndarray
        The honest score of every row: out of fold where labelled, the shipped model's
        (calibrated) prediction where not.
    """

    champion: str
    booster: xgb.Booster
    linear: LinearModel | None
    preprocessor: Preprocessor
    calibration: Calibration
    params: dict[str, Any]
    trees: int
    device: str
    rows: np.ndarray
    folds: np.ndarray
    oof: np.ndarray
    evaluation: Evaluation
    backtest: Evaluation | None
    leaderboard: pd.DataFrame
    cv_auc: float
    cv_auc_std: float
    baseline_auc: float
    fold_trees: tuple[int, ...] = ()
    search_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    sizing: Sizing = field(default_factory=lambda: Sizing(rows=None))
    X: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    scores: np.ndarray | None = field(default=None, repr=False, compare=False)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated churn probability of the shipped model for a feature frame."""
        return predict_shipped(self.champion, self.booster, self.linear, self.calibration, X)


def predict_shipped(champion: str, booster: xgb.Booster, linear: LinearModel | None,
                    calibration: Calibration, X: pd.DataFrame) -> np.ndarray:
    """Calibrated probabilities of the champion for a transformed feature frame."""
    raw = linear.predict(X) if champion == "logistic" and linear is not None \
        else predict_X(booster, X)
    return calibration.apply(raw)


def scaled_trees(trees: float, rows_from: int, rows_to: int) -> int:
    """Trees for a model learning from ``rows_to`` rows, given the count early stopping chose
    at ``rows_from`` rows (grows with the square root of the ratio)."""
    return max(1, round(trees * (rows_to / max(rows_from, 1)) ** TREE_SCALE_POWER))


def auto_folds(labelled: int, sized_rows: int | None, *, most: int = DEFAULT_FOLDS) -> int:
    """Cross-fitting folds when none are asked for.

    Without a size from the learning curve every fold model learns from all of its
    training folds, so more folds mean stronger fold models: ``most``. Once the curve has
    bounded each fold model's rows (large tables), a fold model learns from that many rows
    whatever the number of folds, and folds beyond the fewest that still provide them add
    fits and no accuracy: the fewest (at least 2) whose fitting part holds ``sized_rows``.

    Parameters
    ----------
    labelled : int
        Labelled rows.
    sized_rows : int or None
        The rows :func:`churn_core.sizing.size_by_curve` measured (None: not sized).
    most : int
        The folds of small tables.

    Returns
    -------
    int
    """
    if sized_rows is None:
        return most
    for k in range(2, most):
        if FOLD_FIT_SHARE * labelled * (k - 1) / k >= sized_rows:
            return k
    return most


def refit_trees(fold_trees: float, fold_rows: int, labelled: int, sized_rows: int | None) -> int:
    """Trees of the model refitted on every labelled row.

    The count early stopping chose in the fold models grows with the square root of the
    row ratio (:func:`scaled_trees`). On sized tables it grows for at most one doubling of
    the fold models' rows: the learning curve found that a doubling beyond them gains
    little, and trees cost time in training, scoring and explaining. Measured on
    ``simulate_large(1M)`` (folds sized at 100k rows, 87 trees), ROC-AUC of the model
    refitted on 1M rows on a fresh 1M file: 0.7773 / 0.7775 / 0.7775 / 0.7773 with
    87 / 120 / 160 / 276 trees (276: the square-root rule), the fit taking 15 s at 276.

    Parameters
    ----------
    fold_trees : float
        Mean trees of the fold models.
    fold_rows : int
        Rows each fold model learnt from.
    labelled : int
        Rows the refit learns from.
    sized_rows : int or None
        The learning curve's size (None: not sized, the square-root rule alone).

    Returns
    -------
    int
    """
    reach = labelled if sized_rows is None else min(labelled, 2 * max(fold_rows, 1))
    return scaled_trees(fold_trees, fold_rows, reach)


def _labelled_rows(dataset) -> np.ndarray:
    """Labelled row positions in id order, so file order does not change the model."""
    y = dataset.y.to_numpy(dtype=float)
    order = np.argsort(dataset.ids.to_numpy().astype(str), kind="stable")
    return order[~np.isnan(y[order])]


def _check_classes(y: np.ndarray, n_folds: int) -> None:
    churners, stayers = int((y == 1).sum()), int((y == 0).sum())
    if min(churners, stayers) < n_folds:
        raise ValueError(f"too few churners to cross-validate: {churners} churned and "
                         f"{stayers} stayed; at least {n_folds} of each are needed")


def _judge(cf: CrossFitResult, champion: str, y: np.ndarray
           ) -> tuple[pd.DataFrame, Calibration, np.ndarray, Evaluation]:
    """The leaderboard, the champion's calibration, its calibrated out-of-fold scores and
    their evaluation: everything judged from the cross-fitting alone."""
    board = leaderboard_table(cf.contenders, y.astype(int), champion)
    calibration = fit_calibration(cf.scores_of(champion), y, cf.folds)
    oof = calibration.apply(cf.scores_of(champion))
    return board, calibration, oof, evaluate(y, oof)


def _backtest(champion: str, params: dict, config: TrainConfig, dataset, splits: Splits,
              y: np.ndarray) -> Evaluation | None:
    """Train on the earlier cutoffs, stop early on their validation part, score the latest."""
    if not (splits.train.size and splits.valid.size and splits.test.size) or \
            np.unique(y[splits.test]).size < 2:
        return None
    pre = fit_preprocessor(dataset.frame.iloc[splits.train], dataset.schema)
    X_tr, _ = transform(pre, dataset.frame.iloc[splits.train])
    X_te, _ = transform(pre, dataset.frame.iloc[splits.test])
    if champion == "logistic":
        scores = fit_linear(X_tr, y[splits.train], seed=config.seed).predict(X_te)
    else:
        X_va, _ = transform(pre, dataset.frame.iloc[splits.valid])
        bst = _fit(params, X_tr, y[splits.train], X_va, y[splits.valid],
                   rounds=config.n_estimators,
                   early_stopping=_patience(config.early_stopping_rounds, params))
        scores = predict_X(bst, X_te)
    return evaluate(y[splits.test], scores)


def train(dataset, *, config: TrainConfig | None = None, splits: Splits | None = None,
          progress: Progress | None = None) -> TrainResult:
    """Train the churn model on a prepared :class:`~churn_core.dataset.Dataset`.

    Parameters
    ----------
    dataset : Dataset
        Rows, labels (NaN = unlabelled: never trained on, scored by the shipped model),
        ids and groups.
    config : TrainConfig, optional
    splits : Splits, optional
        A backtest by time (event-log tables): reported as ``backtest``.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    TrainResult

    Raises
    ------
    ValueError
        When there are too few churners (or stayers) to cross-validate.
    """
    config = config or TrainConfig()
    report = progress or (lambda f, m: None)
    device = detect_device(config.device)
    report(0.02, f"Device: {device.upper()}")
    y = dataset.y.to_numpy(dtype=float)
    rows = _labelled_rows(dataset)
    planned = config.cv_folds or DEFAULT_FOLDS
    _check_classes(y[rows], planned)
    fit_share = (planned - 1) / planned * FOLD_FIT_SHARE
    sizing = size_by_curve(config, device, dataset, rows, y,
                           train_rows=int(rows.size * fit_share), progress=report)
    if sizing.rows is None:
        best, table = _search(config, device, dataset, rows, y,
                              train_rows=int(rows.size * fit_share), report=report)
    else:  # large table: settings compared at the measured size on the held-out part
        best, table = (sizing.search or SEARCH_SPACE[1]), sizing.search_table
    params = _params(config, device, y[rows], best, train_rows=int(rows.size * fit_share))
    patience = _patience(config.early_stopping_rounds, params)

    def fit_xgb(X_fit, y_fit, X_watch, y_watch, X_test, X_full, y_full):
        bst = _fit(params, X_fit, y_fit, X_watch, y_watch, rounds=config.n_estimators,
                   early_stopping=patience)
        trees = bst.num_boosted_rounds()
        if X_full is not None:
            trees = scaled_trees(trees, len(X_fit), len(X_full))
            bst = _fit(params, X_full, y_full, None, None, rounds=trees, early_stopping=None)
        return predict_X(bst, X_test), trees

    n_folds = config.cv_folds or auto_folds(rows.size, sizing.rows)
    if n_folds != planned:
        log.info("%d folds: each fold model learns from the %d rows the learning curve "
                 "measured", n_folds, sizing.rows)
    report(0.25, f"Cross-fitting {n_folds} folds")
    # The forest and the network never ship; on sized (large) tables they are left out.
    side = config.side_models and sizing.rows is None
    if config.side_models and not side:
        log.info("random forest and neural network left out at %d labelled rows", rows.size)
    cf: CrossFitResult = cross_fit(dataset, rows, n_folds=n_folds, seed=config.seed,
                                   fit_xgb=fit_xgb, side_models=side, max_train=sizing.rows,
                                   progress=lambda f, m: report(0.25 + 0.5 * f, m))
    champion = choose_champion(cf.contenders, sized=sizing.rows is not None)
    report(0.78, f"Champion: {champion}; refitting on all {rows.size:,} labelled rows")
    # The out-of-fold judgement (leaderboard, calibration, evaluation) needs no refit: it
    # runs in a thread while the shipped model is fitted (1M rows: about 2 s of
    # single-threaded work beside the preprocessing of every row).
    with ThreadPoolExecutor(1, thread_name_prefix="churn-judge") as pool:
        judged = pool.submit(_judge, cf, champion, y[rows])
        pre = fit_preprocessor(dataset.frame.iloc[rows], dataset.schema)
        # where a missing value itself goes with churn, "X is missing" may be a reason
        pre = with_informative_missing(pre, dataset.frame.iloc[rows], y[rows])
        X, _ = transform(pre, dataset.frame)
        trees = refit_trees(float(np.mean(cf.trees)), cf.fit_rows, rows.size, sizing.rows)
        booster = _fit(params, X.iloc[rows], y[rows], None, None, rounds=trees,
                       early_stopping=None)
        linear = fit_linear(X.iloc[rows], y[rows], seed=config.seed) \
            if champion == "logistic" else None
        board, calibration, oof, evaluation = judged.result()
    scores = np.empty(len(X))
    scores[rows] = oof
    rest = np.setdiff1d(np.arange(len(X)), rows, assume_unique=True)
    if rest.size:  # unlabelled rows: the shipped model's prediction
        scores[rest] = predict_shipped(champion, booster, linear, calibration, X.iloc[rest])
    backtest = _backtest(champion, params, config, dataset, splits, y) if splits else None
    aucs = next(c.fold_auc for c in cf.contenders if c.name == champion)
    base = next(c.fold_auc for c in cf.contenders if c.name == "logistic")
    report(0.8, f"Out-of-fold ROC-AUC {evaluation.roc_auc:.3f}")
    return TrainResult(
        champion=champion, booster=booster, linear=linear, preprocessor=pre,
        calibration=calibration, params=params, trees=trees, device=device, rows=rows,
        folds=cf.folds, oof=oof, evaluation=evaluation, backtest=backtest, leaderboard=board,
        cv_auc=float(np.mean(aucs)), cv_auc_std=float(np.std(aucs)),
        baseline_auc=float(np.mean(base)) if base else float("nan"),
        fold_trees=cf.trees, search_table=table, sizing=sizing, X=X, scores=scores)
