"""Exploratory summaries of a customer table: pure functions returning DataFrames.

``frame`` is the table as read; ``y`` is the encoded label (float 0/1, NaN =
missing) aligned to it; ``schema`` is any object with the attributes
``numeric``, ``categorical``, ``datetime``, ``id_column``, ``label_column``
and ``excluded`` (a :class:`churn_core.schema.Schema` or a stand-in).
Everything is vectorised so a million rows take seconds.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

TOP_LEVELS = 20
CORRELATION_LEVELS = 50
MISSING_LEVEL = "(missing)"
OTHER_LEVEL = "other"
Z95 = 1.959963984540054


def _role(column: str, schema: Any) -> str:
    if column == getattr(schema, "id_column", None):
        return "id"
    if column == getattr(schema, "label_column", None):
        return "label"
    for role in ("numeric", "categorical", "datetime"):
        if column in tuple(getattr(schema, role, ()) or ()):
            return role
    excluded = getattr(schema, "excluded", {}) or {}
    if column in excluded:
        return f"excluded ({excluded[column]})"
    return "other"


def _is_numeric(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)


def _as_float(s: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(s):
        days = (s - pd.Timestamp("1970-01-01")).dt.total_seconds() / 86400.0
        return days.to_numpy(dtype=float, na_value=np.nan)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def column_summary(frame: pd.DataFrame, schema: Any) -> pd.DataFrame:
    """Return one row per column: what it is and what is in it.

    Returns
    -------
    pandas.DataFrame
        column, role (id / label / numeric / categorical / datetime /
        "excluded (REASON)" / other), dtype, missing, missing_pct (0..100),
        distinct, mean, min, max (numeric columns), top, top_share (others).
    """
    n = len(frame)
    records = []
    for col in frame.columns:
        s = frame[col]
        missing = int(s.isna().sum())
        role = _role(col, schema)
        rec: dict[str, Any] = {
            "column": col, "role": role, "dtype": str(s.dtype), "missing": missing,
            "missing_pct": 100.0 * missing / n if n else 0.0,
            "distinct": 0,
            "mean": np.nan, "min": np.nan, "max": np.nan, "top": None, "top_share": np.nan,
        }
        if _is_numeric(s) and role not in ("id", "label", "categorical"):
            x = _as_float(s)
            rec["distinct"] = int(np.unique(x[~np.isnan(x)]).size)
            if np.isfinite(x).any():
                rec.update(mean=float(np.nanmean(x)), min=float(np.nanmin(x)),
                           max=float(np.nanmax(x)))
        else:
            codes, uniques = _factorize(s)
            rec["distinct"] = len(uniques)
            if len(uniques):
                counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
                top = int(np.argmax(counts))
                rec.update(top=str(uniques[top]), top_share=float(counts[top]) / (n - missing))
        records.append(rec)
    return pd.DataFrame.from_records(records, columns=[
        "column", "role", "dtype", "missing", "missing_pct", "distinct",
        "mean", "min", "max", "top", "top_share",
    ])


def missingness(frame: pd.DataFrame) -> pd.DataFrame:
    """Return missing values per column, most missing first.

    Returns
    -------
    pandas.DataFrame
        column, missing, missing_pct (0..100), missing_with_others_share: the
        share of this column's missing rows that also miss another column
        (high = values missing together, e.g. one broken source).
    """
    na = frame.isna().to_numpy()
    n = len(frame)
    counts = na.sum(axis=0)
    together = na[na.sum(axis=1) > 1].sum(axis=0)  # missing here and in another column
    out = pd.DataFrame({
        "column": list(frame.columns),
        "missing": counts.astype(int),
        "missing_pct": 100.0 * counts / n if n else np.zeros(len(counts)),
        "missing_with_others_share": np.divide(
            together, counts, out=np.zeros(len(counts)), where=counts > 0),
    })
    return out.sort_values("missing", ascending=False, kind="stable").reset_index(drop=True)


def wilson_interval(successes: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the Wilson 95 % interval (lo, hi) for proportions ``successes / n``.

    NaN where ``n`` is 0.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + Z95**2 / n
        centre = (p + Z95**2 / (2 * n)) / denom
        half = Z95 * np.sqrt(p * (1 - p) / n + Z95**2 / (4 * n**2)) / denom
    lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    return np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)


def _fmt(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}"


def _numeric_bins(x: np.ndarray, bins: int, is_date: bool) -> tuple[np.ndarray, list[str]]:
    """Quantile bins: return a bin code per value (-1 = missing) and readable labels."""
    finite = x[np.isfinite(x)]
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1))) if finite.size else []
    code = np.full(x.size, -1, dtype=np.int64)
    if len(edges) < 2:  # one value only
        code[np.isfinite(x)] = 0
        value = float(edges[0]) if len(edges) else 0.0
        fmt = (lambda v: str(pd.Timestamp(v * 86400, unit="s").date())) if is_date else _fmt
        return code, [fmt(value)]
    fmt = (lambda v: str(pd.Timestamp(v * 86400, unit="s").date())) if is_date else _fmt
    inner = edges[1:-1]
    code[np.isfinite(x)] = np.searchsorted(inner, x[np.isfinite(x)], side="left")
    labels = [f"{fmt(edges[0])} to {fmt(edges[1])}"]
    labels += [f"over {fmt(edges[i])} to {fmt(edges[i + 1])}" for i in range(1, len(edges) - 1)]
    return code, labels


def churn_rate_by(frame: pd.DataFrame, y: pd.Series, column: str, *, bins: int = 10
                  ) -> pd.DataFrame:
    """Return the churn rate per level (categorical) or per quantile bin (numeric).

    Only rows with a label count. Categorical columns show the 20 largest
    levels, then "other"; numeric columns with more than ``bins`` distinct
    values are cut at quantiles ("2 to 5", "over 5 to 9", ...), others are
    shown per value. Missing values form a "(missing)" level.

    Returns
    -------
    pandas.DataFrame
        level (text, in display order), n, churners, rate, lo, hi (Wilson
        95 % interval of the rate).
    """
    s = frame[column]
    yv = np.asarray(y, dtype=float)
    keep = ~np.isnan(yv)
    s, yv = s[keep], yv[keep]
    is_date = pd.api.types.is_datetime64_any_dtype(s)
    if (_is_numeric(s) or is_date) and s.nunique(dropna=True) > bins:
        code, labels = _numeric_bins(_as_float(s), bins, is_date)
        labels = [*labels, MISSING_LEVEL]
        code = np.where(code < 0, len(labels) - 1, code)
    else:
        codes, uniques = _factorize(s)
        counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
        if _is_numeric(s):
            order = np.argsort(np.asarray(uniques, dtype=float), kind="stable")
        else:
            order = np.argsort(-counts, kind="stable")
        if len(order) > TOP_LEVELS + 1:
            order = order[:TOP_LEVELS]
        text = [_fmt(float(v)) if _is_numeric(s) else str(v) for v in np.asarray(uniques)[order]]
        labels = [*text, OTHER_LEVEL, MISSING_LEVEL]
        remap = np.full(len(uniques) + 1, len(order), dtype=np.int64)  # default: other
        remap[order] = np.arange(len(order))
        remap[-1] = len(labels) - 1  # code -1: missing
        code = remap[codes]
    n = np.bincount(code, minlength=len(labels))
    churners = np.bincount(code, weights=yv, minlength=len(labels))
    lo, hi = wilson_interval(churners, n)
    out = pd.DataFrame({
        "level": labels, "n": n, "churners": churners.astype(int),
        "rate": np.divide(churners, n, out=np.full(len(n), np.nan), where=n > 0),
        "lo": lo, "hi": hi,
    })
    return out[out["n"] > 0].reset_index(drop=True)


def _factorize(s: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 = missing) and the distinct values, fast for text and categories."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), pd.Index(uniques)


def _cramers_v(s: pd.Series, yv: np.ndarray) -> float:
    """Cramér's V (no bias correction) of a categorical column against the 0/1 label."""
    codes, uniques = _factorize(s)
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    remap = np.full(len(uniques) + 1, CORRELATION_LEVELS, dtype=np.int64)  # pooled "other"
    top = np.argsort(-counts, kind="stable")[:CORRELATION_LEVELS]
    remap[top] = np.arange(len(top))
    remap[-1] = CORRELATION_LEVELS + 1  # missing is a level of its own
    codes = remap[codes]
    k = CORRELATION_LEVELS + 2
    n_level = np.bincount(codes, minlength=k).astype(float)
    pos_level = np.bincount(codes, weights=yv, minlength=k)
    observed = np.stack([n_level - pos_level, pos_level], axis=1)[n_level > 0]
    n = observed.sum()
    if observed.shape[0] < 2 or n == 0:
        return 0.0
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        chi2 = np.nansum(np.where(expected > 0, (observed - expected) ** 2 / expected, 0.0))
    return float(np.sqrt(chi2 / n))  # min(levels, 2) - 1 = 1


def label_correlation(frame: pd.DataFrame, y: pd.Series, schema: Any) -> pd.DataFrame:
    """Return how strongly each feature column goes with the label.

    Numeric and datetime columns: point-biserial correlation (Pearson between
    the value and the 0/1 label, on rows with both), signed: positive means
    higher values go with churn. Categorical columns: Cramér's V (0..1,
    unsigned; 50 largest levels, rest pooled, missing as a level).

    Returns
    -------
    pandas.DataFrame
        column, kind, method ("point-biserial" | "cramers_v"), correlation,
        abs, n; strongest first.
    """
    yv = np.asarray(y, dtype=float)
    keep = ~np.isnan(yv)
    yk = yv[keep]
    records = []
    for kind in ("numeric", "datetime", "categorical"):
        for col in tuple(getattr(schema, kind, ()) or ()):
            if col not in frame.columns:
                continue
            s = frame[col][keep]
            if kind == "categorical":
                value, n_used, method = _cramers_v(s, yk), int(keep.sum()), "cramers_v"
            else:
                if kind == "datetime" and not pd.api.types.is_datetime64_any_dtype(s):
                    s = pd.to_datetime(s, errors="coerce")
                x = _as_float(s)
                ok = np.isfinite(x)
                n_used, method = int(ok.sum()), "point-biserial"
                xs, ys = x[ok], yk[ok]
                value = (float(np.corrcoef(xs, ys)[0, 1])
                         if n_used > 2 and xs.std() > 0 and ys.std() > 0 else 0.0)
            records.append((col, kind, method, value, abs(value), n_used))
    out = pd.DataFrame(records, columns=["column", "kind", "method", "correlation", "abs", "n"])
    return out.sort_values("abs", ascending=False, kind="stable").reset_index(drop=True)


def distribution_by_label(frame: pd.DataFrame, y: pd.Series, column: str, *,
                          max_points: int = 50_000, seed: int = 42) -> pd.DataFrame:
    """Return a random sample of a column's values with the label, for histograms.

    Rows without a label or without a value are left out; at most
    ``max_points`` rows are returned.

    Returns
    -------
    pandas.DataFrame
        value (numbers and datetimes as they are, anything else as text),
        label ("Churned" | "Stayed").
    """
    s = frame[column]
    yv = np.asarray(y, dtype=float)
    keep = np.flatnonzero(~np.isnan(yv) & s.notna().to_numpy())
    if keep.size > max_points:
        keep = np.sort(np.random.default_rng(seed).choice(keep, size=max_points, replace=False))
    values = s.iloc[keep]
    if _is_numeric(values):
        out = values.to_numpy(dtype=float, na_value=np.nan)
    elif pd.api.types.is_datetime64_any_dtype(values):
        out = values.to_numpy()
    else:
        out = values.astype(str).to_numpy(dtype=object)
    label = np.where(yv[keep] > 0.5, "Churned", "Stayed")
    return pd.DataFrame({"value": out, "label": label})
