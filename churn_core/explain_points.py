"""Explanations in percentage points of churn probability, and when "missing" is a reason.

TreeSHAP (and the linear model's SHAP values) add up in log-odds: ``base + sum(c)`` is
the model's raw margin. A manager reads probabilities, so each row's contributions are
rescaled to percentage points that add up exactly to

    calibrated probability of the row - calibrated probability of the base value

(the calibration map of :mod:`churn_core.calibration` applied to both). The map from
margin to calibrated probability is increasing, so every contribution keeps its sign;
the scale is the row's probability change per unit of margin (its slope where the
contributions cancel out).

A missing value is a reason only when missingness itself says something about churn:
:func:`informative_missing` decides that once, at training, from the labelled rows, and
the preprocessor keeps the answer (``Preprocessor.informative_missing``, saved in the
bundle). Such a reason is then said in words from the feature's name
(:func:`missing_text`: ``orders_90d`` missing -> "No orders in the last 90 days").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn_core.calibration import Calibration
from churn_core.explain import Explanation, feature_label, missing_text, reason_text
from churn_core.features import Preprocessor

# Missingness is informative when the churn rate of rows with the value missing and of
# rows with it present differ by at least MIN_GAP (5 points) and a two-proportion z-test
# gives |z| >= MIN_Z, with at least MIN_ROWS rows on each side.
MIN_GAP = 0.05
MIN_Z = 3.0
MIN_ROWS = 30
OTHER_FEATURES = "other features"


@dataclass(frozen=True)
class PointContributions:
    """Per-row contributions in percentage points of churn probability.

    Attributes
    ----------
    points : DataFrame
        Rows x features (same index and columns as the log-odds contributions);
        each row sums to ``100 * (probability - base_probability)``.
    base_probability : float
        Calibrated churn probability of the base value (the "average customer").
    probability : Series
        Calibrated churn probability of each row (what the model ships).
    """

    points: pd.DataFrame
    base_probability: float
    probability: pd.Series


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def margin_to_probability(margin: np.ndarray | float, calibration: Calibration) -> np.ndarray:
    """Calibrated churn probability of raw log-odds margins."""
    return calibration.apply(_sigmoid(np.asarray(margin, dtype=float)))


def to_points(contributions: pd.DataFrame, base_value: float,
              calibration: Calibration | None = None) -> PointContributions:
    """Rescale log-odds contributions to percentage points of calibrated probability.

    Parameters
    ----------
    contributions : DataFrame
        Rows x features, log-odds (``Explanation.contributions``).
    base_value : float
        The log-odds every row starts from (``Explanation.base_value``).
    calibration : Calibration, optional
        The shipped model's calibration map (identity when None).

    Returns
    -------
    PointContributions
        Contributions whose row sums equal ``100 * (p - p_base)``.
    """
    cal = calibration or Calibration()
    c = contributions.to_numpy(dtype=float)
    total = c.sum(axis=1)
    p = margin_to_probability(base_value + total, cal)
    p0 = float(margin_to_probability(base_value, cal))
    # slope where the contributions cancel: d p / d margin of sigmoid(a * margin + b)
    slope_a = cal.a if cal.used else 1.0
    tiny = np.abs(total) < 1e-9
    safe = np.where(tiny, 1.0, total)
    scale = np.where(tiny, slope_a * p * (1.0 - p), (p - p0) / safe)
    points = pd.DataFrame(100.0 * c * scale[:, None], index=contributions.index,
                          columns=contributions.columns)
    return PointContributions(points, p0, pd.Series(p, index=contributions.index))


__all__ = ["PointContributions", "feature_label", "informative_missing", "margin_to_probability",
           "missing_text", "point_importance", "row_points", "to_points",
           "with_informative_missing"]


def informative_missing(frame: pd.DataFrame, y: np.ndarray | pd.Series,
                        columns: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The columns whose missingness itself goes with a different churn rate.

    Parameters
    ----------
    frame : DataFrame
        Training rows (raw columns).
    y : array of {0, 1}
        Their labels.
    columns : sequence of str
        Candidate feature columns.

    Returns
    -------
    tuple of str
        Columns with at least ``MIN_ROWS`` rows missing and present whose churn rates
        differ by ``MIN_GAP`` or more with ``|z| >= MIN_Z``.
    """
    y = np.asarray(y, dtype=float)
    out = []
    for col in columns:
        if col not in frame.columns:
            continue
        miss = frame[col].isna().to_numpy()
        n1, n0 = int(miss.sum()), int((~miss).sum())
        if n1 < MIN_ROWS or n0 < MIN_ROWS:
            continue
        r1, r0 = float(y[miss].mean()), float(y[~miss].mean())
        pooled = (r1 * n1 + r0 * n0) / (n1 + n0)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
        if se > 0 and abs(r1 - r0) >= MIN_GAP and abs(r1 - r0) / se >= MIN_Z:
            out.append(str(col))
    return tuple(out)


def with_informative_missing(pre: Preprocessor, frame: pd.DataFrame,
                             y: np.ndarray | pd.Series) -> Preprocessor:
    """``pre`` with :func:`informative_missing` of its features recorded in it."""
    cols = [*pre.numeric, *pre.categorical, *pre.datetime]
    return dataclasses.replace(pre, informative_missing=informative_missing(frame, y, cols))


def point_importance(points: PointContributions, expl: Explanation,
                     labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Mean absolute contribution per feature in percentage points, largest first.

    Columns: ``feature``, ``label`` (words), ``mean_abs_points``, ``share`` and
    ``direction`` (as :func:`churn_core.explain.global_importance`).
    """
    from churn_core.explain import global_importance

    base = global_importance(expl)[["feature", "direction"]]
    mean_abs = points.points.abs().mean()
    total = float(mean_abs.sum()) or 1.0
    table = pd.DataFrame({"feature": mean_abs.index.astype(str),
                          "mean_abs_points": mean_abs.to_numpy(dtype=float)})
    table["share"] = table["mean_abs_points"] / total
    table = table.merge(base.assign(feature=base["feature"].astype(str)), on="feature",
                        how="left")
    table.insert(1, "label", [feature_label(f, labels) for f in table["feature"]])
    return table.sort_values("mean_abs_points", ascending=False, ignore_index=True)


def row_points(points: PointContributions, expl: Explanation, row: object, pre: Preprocessor,
               *, max_features: int = 10, labels: Mapping[str, str] | None = None
               ) -> pd.DataFrame:
    """One customer's contributions in percentage points, largest first, with words.

    Columns: ``feature``, ``label``, ``value``, ``points`` and ``text``; the remaining
    features are summed into one "other features" line, so ``points`` adds up to the
    customer's probability minus the base probability (in points).
    """
    contrib = points.points.loc[row]
    values = expl.values.loc[row]
    order = contrib.abs().sort_values(ascending=False).index
    rows = []
    for f in order[:max_features]:
        value, pts = values[f], float(contrib[f])
        missing = value is None or (isinstance(value, float) and value != value) or \
            value is pd.NA
        if missing and f in pre.informative_missing:
            text = f"{missing_text(f, labels)} ({'raises' if pts > 0 else 'lowers'} risk)"
        elif missing:
            text = f"{feature_label(f, labels)} not known"
        else:
            text = reason_text(f, value, pts, pre, labels)
        rows.append({"feature": f, "label": feature_label(f, labels), "value": value,
                     "points": pts, "text": text})
    rest = order[max_features:]
    if len(rest):
        rows.append({"feature": OTHER_FEATURES, "label": f"{len(rest)} other features",
                     "value": None, "points": float(contrib[rest].sum()),
                     "text": f"{len(rest)} other features"})
    return pd.DataFrame(rows, columns=["feature", "label", "value", "points", "text"])
