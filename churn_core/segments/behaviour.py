"""Which columns to segment on, what role each plays, and its label in words.

A marketer acts on behaviour: how recently a customer bought (recency), how often
(frequency), how much (money), for how long (tenure). So segments are formed on those
columns, not on every feature the model uses:

- an event-log build: days since the last order, orders and spend over the longest
  window, and tenure (the builder's feature names, :mod:`churn_core.events.customer_features`);
- a customer table: the numeric columns whose names say recency, frequency, money or
  tenure (``DaySinceLastOrder``, ``OrderCount``, ``CashbackAmount``, ``Tenure``) when
  there are at least two; otherwise the numeric feature columns with at least three
  distinct values, the most complete first (at most :data:`MAX_DEFAULT`);
- or the features the user picks.

Ids, the label, dates of the build and excluded (leaky, constant, all-missing) columns
are never features, so they are never segmented on. Columns that do not vary are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from churn_core.dataset import Dataset
from churn_core.events.customer_features import WINDOWS
from churn_core.explain import feature_label as explain_label
from churn_core.features import fit_preprocessor, transform
from churn_core.names import normalize_name
from churn_core.problems import ChurnDataError, Problem

__all__ = ["MAX_DEFAULT", "ROLES", "behaviour_columns", "check_chosen", "feature_label",
           "feature_role", "segment_frame"]

MAX_DEFAULT = 6
ROLES = ("recency", "frequency", "money", "tenure", "gap", "other")
_LONGEST = max(WINDOWS)
#: An event-log build's behaviour features, in the order they are used.
EVENT_BEHAVIOUR = ("days_since_last_order", f"orders_{_LONGEST}d", f"revenue_{_LONGEST}d",
                   "tenure_days")
_EVENT_LABELS = {
    "days_since_last_order": "Days since the last order",
    "tenure_days": "Days as a customer",
    "mean_days_between_orders": "Days between orders",
    "std_days_between_orders": "Spread of days between orders",
    "overdue_ratio": "Time since the last order vs the usual gap",
    "order_trend_90d": "Order trend (last 90 days vs the 90 before)",
    "return_rate": "Share of orders returned",
    "distinct_products": "Different products bought",
    "distinct_categories": "Different categories bought",
    "sudden_drop_score": "Drop in recent activity",
    "sudden_drop": "Sudden drop in activity",
    "avg_rating": "Average rating",
}
for _w in WINDOWS:
    _EVENT_LABELS[f"orders_{_w}d"] = f"Orders in the last {_w} days"
    _EVENT_LABELS[f"revenue_{_w}d"] = f"Spend in the last {_w} days"

# Normalised-name patterns per role, checked in this order (first match wins).
_ROLE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("recency", re.compile(r"recen|since(last|the)?(order|purchase|buy|visit|login|activ)|"
                           r"dayssince|lastorder|lastpurchase|lastvisit|lastlogin|inactiv")),
    ("gap", re.compile(r"between(orders|purchases|visits)|interpurchase|ordergap")),
    ("tenure", re.compile(r"tenure|customerfor|accountage|membersince|monthsactive|"
                          r"lifetime(months|days|years)|customerage")),
    ("other", re.compile(r"hike|growth|change|trend|ratio|rate|share|percent|hour|time|"
                         r"score|rating|tier|age$")),
    ("money", re.compile(r"amount|revenue|spend|spent|cashback|monetary|sales|charges|"
                         r"value|price|basket|income|payment|balance")),
    ("frequency", re.compile(r"ordercount|orders|frequency|purchases|transactions|visits|"
                             r"logins|sessions|numberof(orders|purchases|visits)|count$")),
)


def feature_role(name: str) -> str:
    """The behaviour role of a column from its name (one of :data:`ROLES`)."""
    if name in EVENT_BEHAVIOUR or name in _EVENT_LABELS:
        if name.startswith("orders_"):
            return "frequency"
        if name.startswith("revenue_"):
            return "money"
        return {"days_since_last_order": "recency", "tenure_days": "tenure",
                "mean_days_between_orders": "gap"}.get(name, "other")
    key = normalize_name(name)
    for role, pattern in _ROLE_PATTERNS:
        if pattern.search(key):
            return role
    return "other"


def feature_label(name: str, labels: Mapping[str, str] | None = None) -> str:
    """A column's label in words: ``days_since_last_order`` -> "Days since the last order",
    ``DaySinceLastOrder`` -> "Day since last order"."""
    own = str((labels or {}).get(name) or "")
    if own and "{" not in own:
        return own
    return _EVENT_LABELS.get(name) or explain_label(name)


def _varies(s: pd.Series) -> bool:
    if isinstance(s.dtype, pd.CategoricalDtype) or not pd.api.types.is_numeric_dtype(s):
        return s.astype("object").nunique(dropna=True) >= 2
    v = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    v = v[np.isfinite(v)]
    return v.size > 1 and float(v.std()) > 0


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype)


def check_chosen(chosen: Sequence[str], features: Sequence[str]) -> None:
    """Raise ``SEGMENTS_UNKNOWN_FEATURE`` when a picked column is not one of ``features``
    (checked before training, so a typo does not cost a whole training run)."""
    known = set(map(str, features))
    unknown = [c for c in chosen if str(c) not in known]
    if unknown:
        raise ChurnDataError([Problem(
            "SEGMENTS_UNKNOWN_FEATURE", "error",
            f"{len(unknown)} chosen column(s) are not features of this table.",
            values=tuple(map(str, unknown[:5])), action="pick columns from the list of features")])


def behaviour_columns(X: pd.DataFrame, *, chosen: Sequence[str] | None = None) -> tuple[str, ...]:
    """The columns to segment on.

    Parameters
    ----------
    X : pandas.DataFrame
        The feature frame (:func:`segment_frame` or the model's): feature columns only.
    chosen : sequence of str, optional
        The user's pick; default: the behaviour columns described in the module docstring.

    Returns
    -------
    tuple of str
        Columns of ``X`` that vary, in ``X``'s order for a pick.

    Raises
    ------
    ChurnDataError
        ``SEGMENTS_UNKNOWN_FEATURE`` when a picked column is not a feature,
        ``SEGMENTS_NO_VARIATION`` when no usable column is left.
    """
    if chosen:
        check_chosen(chosen, X.columns)
        cols = [c for c in X.columns if c in set(chosen) and _varies(X[c])]
    else:
        cols = _default_columns(X)
    if not cols:
        raise ChurnDataError([Problem(
            "SEGMENTS_NO_VARIATION", "error", "No column varies enough to form customer "
            "segments.", action="pick other columns, or check the column types on the Data page")])
    return tuple(cols)


def _default_columns(X: pd.DataFrame) -> list[str]:
    numeric = [c for c in X.columns if _is_numeric(X[c]) and _varies(X[c])]
    event = [c for c in EVENT_BEHAVIOUR if c in numeric]
    if len(event) >= 2:
        return event
    by_role = [c for c in numeric if feature_role(c) in ("recency", "frequency", "money",
                                                         "tenure")]
    if len(by_role) >= 2:
        return by_role[:MAX_DEFAULT]
    rich = [c for c in numeric if X[c].nunique(dropna=True) >= 3]
    rich.sort(key=lambda c: (float(X[c].isna().mean()), list(X.columns).index(c)))
    kept = set(rich[:MAX_DEFAULT])
    return [c for c in X.columns if c in kept]


def segment_frame(dataset: Dataset) -> pd.DataFrame:
    """The feature frame of every row of a checked table, before any model is trained:
    numbers as float, dates as days before the snapshot date, text as categories, the
    same as the model's own feature frame for the columns segments use."""
    schema = dataset.schema
    labelled = dataset.labelled
    rows = dataset.frame if not labelled.any() else dataset.frame.loc[labelled]
    pre = fit_preprocessor(rows, schema)
    X, _ = transform(pre, dataset.frame)
    return X.reset_index(drop=True)
