"""Keep BG/NBD's columns as churn features only when they improve the backtest.

BG/NBD's probability alive and expected orders in the churn window (and the
expected spend in it) are candidate features of an event-log build
(:mod:`churn_core.events.value_features`). They often carry what the
recency and frequency features already say, and then only add noise. This
module measures it on the build's own training table: the default model
(XGBoost at the product's middle setting: depth 6, early
stopping on a customer-grouped validation part; learning rate 0.2 and at most 400
trees, as the product trains large tables) is trained with and without
them and scored by ROC-AUC

- on a backtest by time when the build has one (train on the earlier
  cutoffs, test on the latest), exactly as ``train`` reports it;
- else by 3-fold cross-validation grouped by customer.

Modes: ``auto`` keeps them when the gain is at least :data:`MIN_GAIN`;
``keep`` keeps them whatever the figures; ``off`` does not compute them.
Both figures are reported in every mode that measures them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from churn_core.events.outcomes import time_split
from churn_core.events.types import ChurnDefinition
from churn_core.events.value_features import VALUE_COLUMN, VALUE_FEATURE_LABELS
from churn_core.features import fit_preprocessor, transform
from churn_core.model import BASE_PARAMS, LARGE_LEARNING_RATE, SEARCH_SPACE, _fit, predict_X
from churn_core.problems import ChurnDataError, InvalidSetting
from churn_core.schema import SchemaOverrides, infer_schema
from churn_core.splits import group_folds

logger = logging.getLogger(__name__)

MODES = ("auto", "keep", "off")
MIN_GAIN = 0.002  # ROC-AUC points the columns must add to be kept in ``auto``
# Rows the comparison trains on (customers sampled whole above it); the test part is only
# scored, so it keeps up to TEST_MAX_ROWS rows and its ROC-AUC stays precise. Measured on a
# synthetic log of 10M events (755k training rows, 69k customers, 18 cutoffs, 2 cores at load
# 5): the whole build with value columns and this choice took 84 s wall against 10 s without,
# most of it the per-cutoff value fits; the two model fits about 1 s.
MAX_ROWS = 50_000
TEST_MAX_ROWS = 200_000
LEARNING_RATE = LARGE_LEARNING_RATE  # the product's rate for large tables (0.2)
ROUNDS = 400
PATIENCE = 25
CV_FOLDS = 3


@dataclass(frozen=True)
class ValueFeatureChoice:
    """Whether the BG/NBD columns are churn features, and the figures behind it.

    Attributes
    ----------
    mode : {"auto", "keep", "off"}
    kept : bool
        The columns are in the tables and train on them.
    columns : tuple of str
        The candidate columns (empty for ``off``).
    with_auc, without_auc : float or None
        ROC-AUC of the default model with and without them (None when not measured).
    method : str
        How they were measured (backtest by time, or cross-validation).
    reason : str
        One plain sentence: what was decided and why.
    min_gain : float
    """

    mode: str
    kept: bool
    columns: tuple[str, ...]
    with_auc: float | None
    without_auc: float | None
    method: str
    reason: str
    min_gain: float = MIN_GAIN

    @property
    def gain(self) -> float | None:
        """``with_auc - without_auc`` (None when either is unknown)."""
        if self.with_auc is None or self.without_auc is None:
            return None
        return self.with_auc - self.without_auc

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready record (for ``summary.json`` and the bundle's metrics)."""
        gain = self.gain
        gain = None if gain is None else round(gain, 4)
        return {"mode": self.mode, "kept": self.kept, "columns": list(self.columns),
                "with_roc_auc": _rounded(self.with_auc),
                "without_roc_auc": _rounded(self.without_auc),
                "gain": gain, "min_gain": self.min_gain, "method": self.method,
                "reason": self.reason}


def _rounded(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def check_mode(mode: str | bool) -> str:
    """Normalise a mode (``True`` -> ``keep``, ``False`` -> ``off``, the older flag).

    Raises
    ------
    InvalidSetting
        For anything but auto, keep, off or a bool.
    """
    if isinstance(mode, bool):
        return "keep" if mode else "off"
    text = str(mode).strip().lower()
    if text not in MODES:
        raise InvalidSetting(f"value features {mode!r}: use auto, keep or off")
    return text


def describe(record: dict[str, Any] | None) -> str | None:
    """A plain caption for a recorded choice (``summary['value_features']``), or None."""
    if not record:
        return None
    return str(record.get("reason") or "") or None


def _thin(rows: np.ndarray, ids: np.ndarray, most: int, seed: int) -> np.ndarray:
    """At most about ``most`` of ``rows``, whole customers sampled (all when fewer)."""
    if rows.size <= most:
        return rows
    customers = np.unique(ids[rows])
    keep = np.random.default_rng(seed).permutation(customers)[
        : max(int(customers.size * most / rows.size), 1)]
    return rows[np.isin(ids[rows], keep)]


def _params(seed: int) -> dict[str, Any]:
    return {**BASE_PARAMS, **SEARCH_SPACE[1], "learning_rate": LEARNING_RATE, "seed": seed}


def _auc(frame: pd.DataFrame, drop: list[str], train: np.ndarray, valid: np.ndarray,
         test: np.ndarray, seed: int) -> float | None:
    """ROC-AUC on ``test`` of the default model fitted on ``train`` (stopped on ``valid``)."""
    used = np.concatenate([train, valid, test])
    data = frame.iloc[used].drop(columns=drop).reset_index(drop=True)
    a, b = train.size, train.size + valid.size
    train, valid, test = np.arange(a), np.arange(a, b), np.arange(b, used.size)
    types = {c: "exclude" for c in ("cutoff", VALUE_COLUMN) if c in data.columns}
    schema, _ = infer_schema(data, overrides=SchemaOverrides(
        id_column="customer_id", label_column="churned", column_types=types))
    y = data["churned"].to_numpy(dtype=float)
    if np.unique(y[test]).size < 2 or np.unique(y[train]).size < 2 or not schema.features:
        return None
    pre = fit_preprocessor(data.iloc[train], schema)
    X_tr, _ = transform(pre, data.iloc[train])
    X_va, _ = transform(pre, data.iloc[valid]) if valid.size else (None, None)
    X_te, _ = transform(pre, data.iloc[test])
    bst = _fit(_params(seed), X_tr, y[train], X_va, y[valid] if valid.size else None,
               rounds=ROUNDS, early_stopping=PATIENCE if valid.size else None)
    return float(roc_auc_score(y[test], predict_X(bst, X_te)))


def _splits(frame: pd.DataFrame, definition: ChurnDefinition | None, seed: int
            ) -> tuple[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """A backtest by time when the build has one, else customer-grouped folds."""
    try:
        split = time_split(frame, definition=definition, valid_size=0.2, seed=seed)
        y = frame["churned"].to_numpy()
        if split.train.size and np.unique(y[split.test]).size == 2:
            return (f"backtest by time: test cutoff {split.test_cutoff}, "
                    f"{split.test.size:,} customers",
                    [(split.train, split.valid, split.test)])
    except ChurnDataError:
        pass
    ids = frame["customer_id"].astype(str).to_numpy()
    groups = pd.factorize(ids)[0]
    y = frame["churned"].to_numpy(dtype=int)
    folds = group_folds(y, groups, CV_FOLDS, seed=seed)
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(CV_FOLDS):
        test = np.flatnonzero(folds == k)
        rest = np.flatnonzero(folds != k)
        customers = np.unique(groups[rest])
        valid_customers = rng.permutation(customers)[: int(round(0.2 * customers.size))]
        in_valid = np.isin(groups[rest], valid_customers)
        parts.append((rest[~in_valid], rest[in_valid], test))
    return f"{CV_FOLDS}-fold cross-validation grouped by customer", parts


def measure(training: pd.DataFrame, columns: list[str], *,
            definition: ChurnDefinition | None = None, seed: int = 42
            ) -> tuple[float | None, float | None, str]:
    """ROC-AUC of the default model with and without ``columns``, and how it was measured.

    The model trains on at most :data:`MAX_ROWS` rows (whole customers sampled) and is
    tested on up to :data:`TEST_MAX_ROWS` rows of the test part.

    Parameters
    ----------
    training : pandas.DataFrame
        A build's training table holding ``columns``.
    columns : list of str
        The candidate columns.
    definition : ChurnDefinition, optional
        The build's churn definition (a strict backtest by time).
    seed : int

    Returns
    -------
    with_auc, without_auc : float or None
        Mean over the folds; None when no fold has both outcomes.
    method : str
    """
    frame = training.reset_index(drop=True)
    method, parts = _splits(frame, definition, seed)
    present = [c for c in columns if c in frame.columns]
    ids = pd.factorize(frame["customer_id"].astype(str))[0]  # integer codes: fast np.isin
    with_, without = [], []
    for train, valid, test in parts:
        fit_rows = train.size + valid.size
        if fit_rows > MAX_ROWS:
            train = _thin(train, ids, int(MAX_ROWS * train.size / fit_rows), seed)
            valid = _thin(valid, ids, int(MAX_ROWS * valid.size / fit_rows), seed)
        test = _thin(test, ids, TEST_MAX_ROWS, seed)
        a = _auc(frame, [], train, valid, test, seed)
        b = _auc(frame, present, train, valid, test, seed)
        if a is not None and b is not None:
            with_.append(a)
            without.append(b)
    if not with_:
        return None, None, method
    return float(np.mean(with_)), float(np.mean(without)), method


def choose_value_features(training: pd.DataFrame, mode: str = "auto", *,
                          definition: ChurnDefinition | None = None,
                          seed: int = 42) -> ValueFeatureChoice:
    """Decide whether the BG/NBD columns of ``training`` stay as churn features.

    Parameters
    ----------
    training : pandas.DataFrame
        The build's training table, with the candidate columns when ``mode`` is
        not ``off``.
    mode : {"auto", "keep", "off"}
        ``auto``: keep when ROC-AUC with them is at least :data:`MIN_GAIN` above
        without; ``keep``: keep (figures still measured); ``off``: none.
    definition : ChurnDefinition, optional
    seed : int

    Returns
    -------
    ValueFeatureChoice
    """
    mode = check_mode(mode)
    columns = tuple(c for c in VALUE_FEATURE_LABELS if c in training.columns)
    if mode == "off":
        return ValueFeatureChoice(mode, False, (), None, None, "not measured",
                                  "BG/NBD features: off (not computed).")
    if not columns:
        return ValueFeatureChoice(mode, False, (), None, None, "not measured",
                                  "BG/NBD features: left out (the purchase model could not "
                                  "be fitted).")
    with_auc, without_auc, method = measure(training, list(columns), definition=definition,
                                            seed=seed)
    # decided on the figures as reported (4 decimals), so the record always agrees with itself
    with_auc, without_auc = _rounded(with_auc), _rounded(without_auc)
    figures = "" if with_auc is None else (
        f"ROC-AUC {with_auc:.4f} with them, {without_auc:.4f} without ({method})")
    if mode == "keep":
        kept = True
        reason = "BG/NBD features: kept, as asked" + (f"; {figures}." if figures else ".")
    elif with_auc is None:
        kept = False
        reason = ("BG/NBD features: left out; no backtest was possible (one outcome in every "
                  "test part).")
    else:
        gain = round(with_auc - without_auc, 4)
        kept = gain >= MIN_GAIN
        verb = "kept" if kept else "left out"
        rule = "at least" if kept else "below"
        reason = (f"BG/NBD features: {verb}; {figures}: a gain of {gain:+.4f}, {rule} the "
                  f"{MIN_GAIN} needed.")
    logger.info(reason)
    return ValueFeatureChoice(mode, kept, columns, with_auc, without_auc, method, reason)
