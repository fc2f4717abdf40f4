"""XGBoost training: device choice, a small parameter search, CV and a baseline.

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
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from churn_core.evaluate import Evaluation, evaluate
from churn_core.features import Preprocessor, fit_preprocessor, transform
from churn_core.splits import Splits, group_folds, make_splits
from churn_core.threads import one_thread

log = logging.getLogger(__name__)

Progress = Callable[[float, str], None]

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
SEARCH_CV_MAX_ROWS = 50_000
# Settings are compared, not finished: a cap keeps slow-learning ones from dominating the time.
SEARCH_MAX_ROUNDS = 600
CV_MAX_ROWS = 200_000
# Early stopping watches the validation log-loss every round; 50k rows judge it as well
# as 200k and cost a quarter (the whole validation part still chooses the threshold).
EARLY_STOP_MAX_ROWS = 50_000
# Above this many training rows every setting learns at LARGE_LEARNING_RATE: half the trees
# for the same fit, so training, scoring and SHAP take about half the time. Measured on
# simulate_large(1M): 110 trees instead of 280, test ROC-AUC 0.7922 instead of 0.7928.
LARGE_TRAIN_ROWS = 200_000
LARGE_LEARNING_RATE = 0.2


@dataclass(frozen=True)
class TrainConfig:
    """Training options (defaults are meant to generalise, not tuned to one file)."""

    seed: int = 42
    test_size: float = 0.2
    valid_size: float = 0.2
    cv_folds: int = 5
    class_weight: bool = False
    search: bool = True
    device: str = "auto"
    n_estimators: int = 2000
    early_stopping_rounds: int = 50  # at learning rate 0.1; scaled for faster rates


@dataclass(frozen=True)
class TrainResult:
    """A trained model with everything needed to judge and reuse it."""

    booster: xgb.Booster
    preprocessor: Preprocessor
    params: dict[str, Any]
    best_iteration: int
    device: str
    splits: Splits
    valid_scores: np.ndarray
    test_scores: np.ndarray
    cv_auc: float
    cv_auc_std: float
    baseline_auc: float
    baseline_cv_auc: float
    test_eval: Evaluation
    search_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The transformed feature frame and the scores of every row (reused; not saved).
    X: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    scores: np.ndarray | None = field(default=None, repr=False, compare=False)


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
        raise ValueError(f"unknown device {preference!r}; use auto, cpu or cuda")
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
    return xgb.DMatrix(_safe(X), label=y, enable_categorical=True)


def predict_X(booster: xgb.Booster, X: pd.DataFrame) -> np.ndarray:
    """Probabilities for an already transformed feature frame."""
    if list(X.columns) and booster.num_features() != X.shape[1]:
        raise ValueError(f"model expects {booster.num_features()} features, got {X.shape[1]}")
    return np.asarray(booster.inplace_predict(_safe(X)), dtype=float)


def predict_proba(booster: xgb.Booster, pre: Preprocessor, frame: pd.DataFrame) -> np.ndarray:
    """Churn probability for raw rows: columns are picked by name through ``transform``."""
    X, _ = transform(pre, frame)
    return predict_X(booster, X)


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
    dtrain = xgb.QuantileDMatrix(_safe(X_train), label=y_train, enable_categorical=True)
    evals = []
    if X_valid is not None:
        # A plain DMatrix: XGBoost caches its predictions between rounds, whereas a
        # QuantileDMatrix here is re-predicted with every tree at every round (measured:
        # 100 rounds on 200k/100k rows took 15.3 s CPU instead of 5.2 s).
        dvalid = xgb.DMatrix(_safe(X_valid), label=y_valid, enable_categorical=True)
        evals = [(dvalid, "valid")]
    booster = xgb.train(
        params,
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


def _sample(idx: np.ndarray, limit: int, seed: int) -> np.ndarray:
    if idx.size <= limit:
        return idx
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(idx, size=limit, replace=False))


def _search_folds(y: np.ndarray, groups: np.ndarray, splits: Splits,
                  seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Where to compare settings: 3 grouped folds over train+valid on small data
    (one validation split is too noisy there), else the validation split on a sample."""
    pool = np.concatenate([splits.train, splits.valid])
    if pool.size <= SEARCH_CV_MAX_ROWS:
        fold = group_folds(y[pool], groups[pool], 3, seed=seed + 3)
        return [(pool[fold != k], pool[fold == k]) for k in range(3)]
    return [(_sample(splits.train, SEARCH_MAX_ROWS, seed), _sample(splits.valid, SEARCH_MAX_ROWS,
                                                                   seed))]


def _search(config, device, X, y, groups, splits, report) -> tuple[dict, pd.DataFrame]:
    if not config.search:
        return SEARCH_SPACE[1], pd.DataFrame()
    space = SEARCH_SPACE
    folds = _search_folds(y, groups, splits, config.seed)
    rows = []
    for i, extra in enumerate(space):
        shown = {**extra, "learning_rate": _learning_rate(extra, splits.train.size)}
        report(0.15 + 0.35 * i / len(space), f"Trying setting {i + 1} of {len(space)}: {shown}")
        aucs, trees = [], []
        for tr, va in folds:
            params = _params(config, device, y[tr], extra, train_rows=splits.train.size)
            bst = _fit(params, X.iloc[tr], y[tr], X.iloc[va], y[va],
                       rounds=min(config.n_estimators, SEARCH_MAX_ROUNDS),
                       early_stopping=min(config.early_stopping_rounds, 30))
            aucs.append(roc_auc_score(y[va], predict_X(bst, X.iloc[va])))
            trees.append(bst.num_boosted_rounds())
        rows.append({**shown, "trees": int(np.mean(trees)), "valid_auc": float(np.mean(aucs))})
    table = pd.DataFrame(rows)
    best = space[int(table["valid_auc"].idxmax())]
    return best, table


@one_thread  # measured on 200k rows: 2.5-2.8 s with one thread, 3.6-4.2 s with two
def _baseline(X_train: pd.DataFrame, y_train: np.ndarray, X_test: pd.DataFrame) -> np.ndarray:
    num = [c for c in X_train.columns if not isinstance(X_train[c].dtype, pd.CategoricalDtype)]
    cat = [c for c in X_train.columns if c not in num]
    # Category codes (-1 = missing) one-hot encode like the texts, without hashing strings.
    train = X_train.assign(**{c: X_train[c].cat.codes for c in cat})
    test = X_test.assign(**{c: X_test[c].cat.codes for c in cat})
    # Columns with no observed value would make the imputer drop them; fill with 0 first.
    empty = [c for c in num if train[c].isna().all()]
    train, test = train.fillna(dict.fromkeys(empty, 0.0)), test.fillna(dict.fromkeys(empty, 0.0))
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                                  StandardScaler()), num),
            ("cat", OneHotEncoder(handle_unknown="ignore", max_categories=30), cat),
        ]
    )
    model = make_pipeline(pre, LogisticRegression(max_iter=2000))
    model.fit(train, y_train)
    return model.predict_proba(test)[:, 1]


def cross_validate(dataset, params: dict, rounds: int, config: TrainConfig,
                   report: Progress) -> tuple[np.ndarray, np.ndarray]:
    """Grouped, stratified k-fold ROC-AUC of the model and of the baseline.

    Preprocessing is refitted inside every fold. Above 200k labelled rows a
    group-preserving sample is used. Returns (model AUCs, baseline AUCs).
    """
    y_all = dataset.y.to_numpy(dtype=float)
    labelled = np.flatnonzero(~np.isnan(y_all))
    if labelled.size > CV_MAX_ROWS:
        keep = group_folds(y_all[labelled], dataset.groups[labelled],
                           int(np.ceil(labelled.size / CV_MAX_ROWS)), seed=config.seed) == 0
        labelled = labelled[keep]
    y = y_all[labelled].astype(int)
    folds = group_folds(y, dataset.groups[labelled], config.cv_folds, seed=config.seed + 7)
    aucs, base = [], []
    for k in range(config.cv_folds):
        report(0.7 + 0.25 * k / config.cv_folds,
               f"Cross-validation fold {k + 1} of {config.cv_folds}")
        tr, te = labelled[folds != k], labelled[folds == k]
        if np.unique(y_all[te]).size < 2:
            continue
        pre = fit_preprocessor(dataset.frame.iloc[tr], dataset.schema)
        X_tr, _ = transform(pre, dataset.frame.iloc[tr])
        X_te, _ = transform(pre, dataset.frame.iloc[te])
        bst = _fit(params, X_tr, y_all[tr], None, None, rounds=rounds, early_stopping=None)
        aucs.append(roc_auc_score(y_all[te], predict_X(bst, X_te)))
        base.append(roc_auc_score(y_all[te], _baseline(X_tr, y_all[tr], X_te)))
    return np.array(aucs), np.array(base)


def train(dataset, *, config: TrainConfig | None = None, splits: Splits | None = None,
          progress: Progress | None = None) -> TrainResult:
    """Train the churn model on a prepared :class:`~churn_core.dataset.Dataset`.

    Steps: split (groups kept whole, stratified) -> fit preprocessing on the
    training rows -> small search on validation AUC with early stopping ->
    final model -> test evaluation -> logistic baseline -> grouped k-fold CV.

    Parameters
    ----------
    dataset : Dataset
        Rows, labels (NaN = unlabelled, left out), ids and groups.
    config : TrainConfig, optional
        Options; defaults generalise.
    splits : Splits, optional
        Fixed parts (e.g. a backtest by time from the event-log builder);
        by default a grouped, stratified random split.
    progress : callable, optional
        ``progress(fraction, message)``.

    Returns
    -------
    TrainResult
    """
    config = config or TrainConfig()
    report = progress or (lambda f, m: None)
    device = detect_device(config.device)
    report(0.02, f"Device: {device.upper()}")
    y = dataset.y.to_numpy(dtype=float)
    if splits is None:
        # Work in id order so the same customers give the same model whatever the file order.
        order = np.argsort(dataset.ids.to_numpy().astype(str), kind="stable")
        part = make_splits(y[order], dataset.groups[order], test_size=config.test_size,
                           valid_size=config.valid_size, seed=config.seed)
        splits = Splits(train=order[part.train], valid=order[part.valid], test=order[part.test])
    for part, idx in (("training", splits.train), ("validation", splits.valid),
                      ("test", splits.test)):
        if np.unique(y[idx]).size < 2:
            raise ValueError(f"the {part} part has only one class; too few churners to split")
    report(0.08, f"Split {splits.sizes()} (groups kept on one side)")
    pre = fit_preprocessor(dataset.frame.iloc[splits.train], dataset.schema)
    X, _ = transform(pre, dataset.frame)
    best, table = _search(config, device, X, y, dataset.groups, splits, report)
    params = _params(config, device, y[splits.train], best, train_rows=splits.train.size)
    report(0.5, "Training final model with "
           f"{ {k: params[k] for k in (*best, 'learning_rate') if k in params} }")
    watch = _sample(splits.valid, EARLY_STOP_MAX_ROWS, config.seed)
    booster = _fit(params, X.iloc[splits.train], y[splits.train], X.iloc[watch],
                   y[watch], rounds=config.n_estimators,
                   early_stopping=_patience(config.early_stopping_rounds, params))
    scores = predict_X(booster, X)
    valid_scores, test_scores = scores[splits.valid], scores[splits.test]
    test_eval = evaluate(y[splits.test], test_scores)
    report(0.62, f"Test ROC-AUC {test_eval.roc_auc:.3f}; fitting the baseline")
    # The baseline is a yardstick: 200k training rows are plenty and bound its memory.
    base_rows = _sample(splits.train, CV_MAX_ROWS, config.seed)
    baseline = _baseline(X.iloc[base_rows], y[base_rows], X.iloc[splits.test])
    baseline_auc = float(roc_auc_score(y[splits.test], baseline))
    cv, cv_base = (np.array([]), np.array([]))
    if config.cv_folds >= 2:
        cv, cv_base = cross_validate(dataset, params, booster.num_boosted_rounds(), config, report)
    report(1.0, "Training done")
    return TrainResult(
        booster=booster,
        preprocessor=pre,
        params=params,
        best_iteration=booster.num_boosted_rounds(),
        device=device,
        splits=splits,
        valid_scores=valid_scores,
        test_scores=test_scores,
        cv_auc=float(cv.mean()) if cv.size else float("nan"),
        cv_auc_std=float(cv.std()) if cv.size else float("nan"),
        baseline_auc=baseline_auc,
        baseline_cv_auc=float(cv_base.mean()) if cv_base.size else float("nan"),
        test_eval=test_eval,
        search_table=table,
        X=X,
        scores=scores,
    )
