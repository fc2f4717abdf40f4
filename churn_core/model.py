"""XGBoost primitives: device choice, fitting, prediction and a small parameter search.

The training flow that uses them (cross-fitting, leaderboard, refit on every
labelled row) is in :mod:`churn_core.training`.

One code path serves CPU and GPU: the only difference is the ``device``
parameter, detected once (``detect_device``). Models see safe feature names
``f0..fN`` (users' column names may hold characters XGBoost rejects); the
mapping back to the user's names lives in the :class:`Preprocessor`.
"""

from __future__ import annotations

import functools
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.metrics import roc_auc_score

from churn_core.features import fit_preprocessor, transform
from churn_core.problems import InvalidSetting
from churn_core.progress import Progress
from churn_core.splits import group_folds
from churn_core.threads import compute_threads

log = logging.getLogger(__name__)


BASE_PARAMS: dict[str, Any] = {
    "objective": "binary:logistic",
    "eval_metric": "logloss",
    "tree_method": "hist",
    "subsample": 1.0,
    "colsample_bytree": 0.5,
    "reg_lambda": 1.0,
    # Partition-based splits on categories (XGBoost's native categorical support).
    "max_cat_to_onehot": 1,
    "max_bin": 256,
}
# A few sensible settings, from regularised to high capacity; chosen on validation AUC.
SEARCH_SPACE: tuple[dict[str, Any], ...] = (
    {"max_depth": 4, "learning_rate": 0.1, "min_child_weight": 1},
    {"max_depth": 6, "learning_rate": 0.1, "min_child_weight": 1},
    {"max_depth": 8, "learning_rate": 0.1, "min_child_weight": 0.5, "reg_lambda": 0.1},
    {"max_depth": 3, "learning_rate": 0.1, "min_child_weight": 10, "subsample": 0.8},
)
SEARCH_MAX_ROWS = 50_000
# Settings are compared, not finished: a cap keeps slow-learning ones from dominating the time.
SEARCH_MAX_ROUNDS = 600
# Above this many training rows every setting learns at LARGE_LEARNING_RATE: half the trees
# for the same fit, so training, scoring and SHAP take about half the time. Measured on
# simulate_large(1M): 110 trees instead of 280, test ROC-AUC 0.7922 instead of 0.7928.
LARGE_TRAIN_ROWS = 200_000
LARGE_LEARNING_RATE = 0.2


@dataclass(frozen=True)
class TrainConfig:
    """Training options (defaults are meant to generalise, not tuned to one file)."""

    seed: int = 42
    # folds of the cross-fitting (at least 2); None: 5, or fewer on tables the learning
    # curve sized (training.auto_folds)
    cv_folds: int | None = None
    class_weight: bool = False
    search: bool = True
    device: str = "auto"
    n_estimators: int = 2000
    early_stopping_rounds: int = 50  # at learning rate 0.1; scaled for faster rates
    side_models: bool = True  # also compare a random forest and a neural network

    def __post_init__(self) -> None:
        if self.cv_folds is not None and self.cv_folds < 2:
            raise InvalidSetting(f"cv_folds must be at least 2, got {self.cv_folds}: every "
                                 "labelled row needs an out-of-fold score")


def _gpu_present() -> bool:
    return Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidia0").exists()


@functools.cache
def _cuda_works() -> bool:
    if not xgb.build_info().get("USE_CUDA") or not _gpu_present():
        return False
    rng = np.random.default_rng(0)
    data = xgb.DMatrix(rng.random((64, 2)), label=np.arange(64) % 2)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            xgb.train({"device": "cuda", "tree_method": "hist"}, data, num_boost_round=1)
    except Exception as exc:  # any failure means: use the CPU
        log.info("CUDA not usable for XGBoost (%s); using the CPU", exc)
        return False
    return True


def detect_device(preference: str = "auto") -> str:
    """Return ``"cuda"`` when an NVIDIA GPU is usable by XGBoost, else ``"cpu"``.

    Parameters
    ----------
    preference : {"auto", "cpu", "cuda"}
        ``auto`` detects (once per process). The environment variable
        ``CHURN_RADAR_DEVICE`` overrides ``auto``. Asking for ``cuda`` without a
        usable GPU falls back to ``cpu`` with a log message.
    """
    choice = preference
    if choice == "auto":
        choice = os.environ.get("CHURN_RADAR_DEVICE", "auto").lower()
    if choice == "cpu":
        return "cpu"
    if choice not in ("auto", "cuda"):
        raise InvalidSetting(f"unknown device {preference!r}; use auto, cpu or cuda")
    if _cuda_works():
        return "cuda"
    if choice == "cuda":
        log.warning("device 'cuda' requested but no usable GPU found; using the CPU")
    return "cpu"


def safe_names(n: int) -> list[str]:
    """Feature names the booster sees: ``f0..f{n-1}``."""
    return [f"f{i}" for i in range(n)]


def _safe(X: pd.DataFrame) -> pd.DataFrame:
    out = X.copy(deep=False)
    out.columns = safe_names(X.shape[1])
    return out


def to_dmatrix(X: pd.DataFrame, y: np.ndarray | None = None) -> xgb.DMatrix:
    """Wrap a feature frame (never a bare array) in a DMatrix with safe names."""
    return xgb.DMatrix(_safe(X), label=y, enable_categorical=True, nthread=compute_threads())


def predict_X(booster: xgb.Booster, X: pd.DataFrame) -> np.ndarray:
    """Probabilities for an already transformed feature frame."""
    if list(X.columns) and booster.num_features() != X.shape[1]:
        raise ValueError(f"model expects {booster.num_features()} features, got {X.shape[1]}")
    booster.set_param({"nthread": compute_threads()})
    return np.asarray(booster.inplace_predict(_safe(X)), dtype=float)


def _fit(
    params: dict[str, Any],
    X_train: pd.DataFrame,
    y_train: np.ndarray,
    X_valid: pd.DataFrame | None,
    y_valid: np.ndarray | None,
    *,
    rounds: int,
    early_stopping: int | None,
) -> xgb.Booster:
    threads = compute_threads()
    dtrain = xgb.QuantileDMatrix(_safe(X_train), label=y_train, enable_categorical=True,
                                 nthread=threads)
    evals = []
    if X_valid is not None:
        # A plain DMatrix: XGBoost caches its predictions between rounds, whereas a
        # QuantileDMatrix here is re-predicted with every tree at every round (measured:
        # 100 rounds on 200k/100k rows took 15.3 s CPU instead of 5.2 s).
        dvalid = xgb.DMatrix(_safe(X_valid), label=y_valid, enable_categorical=True,
                             nthread=threads)
        evals = [(dvalid, "valid")]
    booster = xgb.train(
        {**params, "nthread": threads},
        dtrain,
        num_boost_round=rounds,
        evals=evals,
        early_stopping_rounds=early_stopping if evals else None,
        verbose_eval=False,
    )
    if evals and early_stopping:
        booster = booster[: booster.best_iteration + 1]
    return booster


def _params(config: TrainConfig, device: str, y_train: np.ndarray, extra: dict,
            *, train_rows: int) -> dict:
    params = {**BASE_PARAMS, **extra, "device": device, "seed": config.seed,
              "learning_rate": _learning_rate(extra, train_rows)}
    if config.class_weight:
        pos = float(np.sum(y_train == 1))
        params["scale_pos_weight"] = (len(y_train) - pos) / max(pos, 1.0)
    return params


def _learning_rate(extra: dict, train_rows: int) -> float:
    rate = extra.get("learning_rate", 0.3)  # 0.3: XGBoost's own default
    return max(rate, LARGE_LEARNING_RATE) if train_rows > LARGE_TRAIN_ROWS else rate


def _patience(rounds: int, params: dict) -> int:
    """Early-stopping patience in rounds, given for learning rate 0.1: a faster learning
    rate needs proportionally fewer rounds to show that the fit stopped improving."""
    return max(10, round(rounds * 0.1 / params.get("learning_rate", 0.1)))


def _search_folds(y: np.ndarray, groups: np.ndarray, rows: np.ndarray,
                  seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Where to compare settings: 3 grouped folds over (a sample of) the labelled rows."""
    pool = rows
    if pool.size > SEARCH_MAX_ROWS:
        keep = group_folds(y[pool], groups[pool], int(np.ceil(pool.size / SEARCH_MAX_ROWS)),
                           seed=seed + 5) == 0
        pool = pool[keep]
    fold = group_folds(y[pool], groups[pool], 3, seed=seed + 3)
    return [(pool[fold != k], pool[fold == k]) for k in range(3)]


def _search(config: TrainConfig, device: str, dataset, rows: np.ndarray, y: np.ndarray,
            train_rows: int, report: Progress) -> tuple[dict, pd.DataFrame]:
    """Compare the settings of :data:`SEARCH_SPACE` by grouped 3-fold ROC-AUC."""
    if not config.search:
        return SEARCH_SPACE[1], pd.DataFrame()
    folds = _search_folds(y, dataset.groups, rows, config.seed)
    pool = np.sort(np.concatenate([folds[0][0], folds[0][1]]))
    # Label-free statistics (category levels) of the sampled rows; no label is used.
    pre = fit_preprocessor(dataset.frame.iloc[pool], dataset.schema)
    # Only the sampled rows are transformed (not the whole table): rows of X in pool order,
    # looked up by position; each fold keeps its own row order.
    X_pool, _ = transform(pre, dataset.frame.iloc[pool])

    def X_at(idx: np.ndarray) -> pd.DataFrame:
        return X_pool.iloc[np.searchsorted(pool, idx)]

    rows_out = []
    for i, extra in enumerate(SEARCH_SPACE):
        shown = {**extra, "learning_rate": _learning_rate(extra, train_rows)}
        report(0.05 + 0.2 * i / len(SEARCH_SPACE),
               f"Trying setting {i + 1} of {len(SEARCH_SPACE)}: {shown}")
        aucs, trees = [], []
        for tr, va in folds:
            params = _params(config, device, y[tr], extra, train_rows=train_rows)
            bst = _fit(params, X_at(tr), y[tr], X_at(va), y[va],
                       rounds=min(config.n_estimators, SEARCH_MAX_ROUNDS),
                       early_stopping=min(config.early_stopping_rounds, 30))
            aucs.append(roc_auc_score(y[va], predict_X(bst, X_at(va))))
            trees.append(bst.num_boosted_rounds())
        rows_out.append({**shown, "trees": int(np.mean(trees)),
                         "valid_auc": float(np.mean(aucs))})
    table = pd.DataFrame(rows_out)
    return SEARCH_SPACE[int(table["valid_auc"].idxmax())], table
