"""Preprocessing fitted on training rows only, applied identically everywhere.

The :class:`Preprocessor` is plain data (JSON round trip) so that the saved
model bundle can rebuild exactly the feature frame the booster was trained
on. Numbers become float64 (``inf`` becomes missing), text categories become
a pandas Categorical with the levels seen in training (rare levels pooled as
``other``; levels never seen become missing and are counted), and dates become
"days before the snapshot date".
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from churn_core.problems import Problem, example_rows, example_values

log = logging.getLogger(__name__)

OTHER = "other"
MAX_SEEN_LEVELS = 5000


@dataclass(frozen=True)
class Preprocessor:
    """Fitted preprocessing state.

    Attributes
    ----------
    numeric, categorical, datetime : tuple of str
        Source columns by type.
    categories : mapping of str to tuple of str
        Levels kept per categorical column, in code order (``other`` last when pooled).
    seen_levels : mapping of str to tuple of str
        Every level seen in training (capped), to tell pooled from unseen levels.
    snapshot_date : str or None
        ISO date that datetime columns are measured against.
    quantiles : mapping of str to tuple of float
        (q10, median, q90) of each numeric/datetime feature on training rows.
    binary : tuple of str
        Numeric features that only took the values 0 and 1 in training.
    feature_names : tuple of str
        Output column order.
    informative_missing : tuple of str
        Features whose missingness itself goes with a different churn rate in training
        (``explain_points.informative_missing``): only there is "missing" a reason.
    """

    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    datetime: tuple[str, ...]
    categories: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    seen_levels: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    snapshot_date: str | None = None
    quantiles: Mapping[str, tuple[float, float, float]] = field(default_factory=dict)
    binary: tuple[str, ...] = ()
    feature_names: tuple[str, ...] = ()
    informative_missing: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe dictionary."""
        d = asdict(self)
        d["categories"] = {k: list(v) for k, v in self.categories.items()}
        d["seen_levels"] = {k: list(v) for k, v in self.seen_levels.items()}
        d["quantiles"] = {k: [_json_float(x) for x in v] for k, v in self.quantiles.items()}
        for key in ("numeric", "categorical", "datetime", "binary", "feature_names",
                    "informative_missing"):
            d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Preprocessor:
        """Rebuild from :meth:`to_dict` output."""
        return cls(
            numeric=tuple(d["numeric"]),
            categorical=tuple(d["categorical"]),
            datetime=tuple(d["datetime"]),
            categories={k: tuple(str(x) for x in v) for k, v in d["categories"].items()},
            seen_levels={k: tuple(str(x) for x in v) for k, v in d.get("seen_levels", {}).items()},
            snapshot_date=d.get("snapshot_date"),
            quantiles={
                k: tuple(float("nan") if x is None else float(x) for x in v)
                for k, v in d.get("quantiles", {}).items()
            },
            binary=tuple(d.get("binary", ())),
            feature_names=tuple(d["feature_names"]),
            informative_missing=tuple(str(c) for c in d.get("informative_missing", ())),
        )


def _json_float(x: float) -> float | None:
    return None if x is None or not np.isfinite(x) else float(x)


def _as_text(series: pd.Series) -> pd.Series:
    """Return text values stripped, with missing kept as NaN (object dtype).

    Each distinct value is converted once (a million rows hold few distinct
    categories). Mixed Python types go value by value, because factorising
    would merge ``1``, ``1.0`` and ``True``, whose texts differ.
    """
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes, uniques = series.cat.codes.to_numpy(), series.cat.categories
    elif pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        codes, uniques = pd.factorize(series)
    else:
        out = series.astype("object")
        mask = out.notna()
        out = out.where(~mask, out[mask].map(lambda v: str(v).strip()))
        return out.where(out != "", np.nan)
    texts = np.array([str(v).strip() for v in uniques] + [""], dtype=object)
    texts[texts == ""] = np.nan
    return pd.Series(texts[codes], index=series.index, dtype=object)


def to_numeric(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Coerce to float64; return the values and a mask of entries that failed to parse.

    ``inf`` and ``-inf`` become missing and are reported in the mask too.
    """
    if pd.api.types.is_bool_dtype(series):
        values = series.astype("float64")
    elif pd.api.types.is_numeric_dtype(series):
        values = pd.Series(np.asarray(series, dtype="float64"), index=series.index)
    else:
        values = pd.to_numeric(series, errors="coerce").astype("float64")
    bad = values.isna() & series.notna()
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        bad = bad | infinite
        values = values.mask(infinite)
    return values, bad


def _to_days(series: pd.Series, snapshot: pd.Timestamp) -> pd.Series:
    parsed = pd.to_datetime(series, errors="coerce", format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    delta = (snapshot - parsed).dt.total_seconds() / 86400.0
    return delta.astype("float64")


def _snapshot(frame: pd.DataFrame, datetime_cols: tuple[str, ...], given: str | None) -> str | None:
    if not datetime_cols:
        return given
    if given:
        return str(pd.Timestamp(given).date())
    latest = None
    for col in datetime_cols:
        parsed = pd.to_datetime(frame[col], errors="coerce", format="mixed")
        m = parsed.max()
        if pd.notna(m) and (latest is None or m > latest):
            latest = m
    return None if latest is None else str(pd.Timestamp(latest).date())


def fit_preprocessor(frame: pd.DataFrame, schema: Any, *, max_levels: int = 50) -> Preprocessor:
    """Fit preprocessing on training rows.

    Parameters
    ----------
    frame : DataFrame
        Training rows only (never validation or test rows).
    schema : Schema
        Gives ``numeric``, ``categorical``, ``datetime``, ``features`` and ``snapshot_date``.
    max_levels : int
        Most frequent levels kept per categorical column; the rest pool into ``other``.

    Returns
    -------
    Preprocessor
    """
    numeric = tuple(schema.numeric)
    categorical = tuple(schema.categorical)
    datetime_cols = tuple(schema.datetime)
    snapshot = _snapshot(frame, datetime_cols, getattr(schema, "snapshot_date", None))
    categories: dict[str, tuple[str, ...]] = {}
    seen: dict[str, tuple[str, ...]] = {}
    for col in categorical:
        counts = _as_text(frame[col]).value_counts()
        kept = [str(v) for v in counts.index[:max_levels]]
        if len(counts) > max_levels:
            kept.append(OTHER)
        categories[col] = tuple(kept)
        seen[col] = tuple(str(v) for v in counts.index[:MAX_SEEN_LEVELS])
    quantiles: dict[str, tuple[float, float, float]] = {}
    binary: list[str] = []
    snap_ts = pd.Timestamp(snapshot) if snapshot else None
    for col in numeric + datetime_cols:
        values = to_numeric(frame[col])[0] if col in numeric else _to_days(frame[col], snap_ts)
        finite = values.dropna().to_numpy()
        if finite.size:
            q = np.quantile(finite, [0.1, 0.5, 0.9])
            quantiles[col] = (float(q[0]), float(q[1]), float(q[2]))
            if col in numeric and np.isin(np.unique(finite), (0.0, 1.0)).all():
                binary.append(col)
        else:
            quantiles[col] = (float("nan"),) * 3
    names = tuple(c for c in schema.features if c in set(numeric + categorical + datetime_cols))
    return Preprocessor(
        numeric=numeric,
        categorical=categorical,
        datetime=datetime_cols,
        categories=categories,
        seen_levels=seen,
        snapshot_date=snapshot,
        quantiles=quantiles,
        binary=tuple(binary),
        feature_names=names,
    )


def transform(pre: Preprocessor, frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Build the model's feature frame from raw columns.

    Parameters
    ----------
    pre : Preprocessor
        Fitted state.
    frame : DataFrame
        Raw rows with (at least) every column in ``pre.feature_names``.

    Returns
    -------
    X : DataFrame
        Columns ``pre.feature_names``: float64 or Categorical; same index as ``frame``.
    problems : list of Problem
        ``NOT_NUMBERS`` for text in numeric columns, ``UNSEEN_CATEGORY`` for levels
        never seen in training (both treated as missing).

    Raises
    ------
    KeyError
        When a feature column is absent (callers align columns first, see ``score.py``).
    """
    problems: list[Problem] = []
    out: dict[str, pd.Series] = {}
    snap = pd.Timestamp(pre.snapshot_date) if pre.snapshot_date else None
    for col in pre.feature_names:
        raw = frame[col]
        if col in pre.categorical:
            out[col] = _categorical(col, raw, pre, problems)
        elif col in pre.datetime:
            out[col] = _to_days(raw, snap)
        else:
            values, bad = to_numeric(raw)
            if bad.any():
                problems.append(_made_missing("NOT_NUMBERS", col, bad, raw,
                                              "values are not numbers"))
            out[col] = values
    X = pd.DataFrame(out, index=frame.index)
    return X, problems


def _made_missing(code: str, col: str, mask: pd.Series, values: pd.Series, what: str) -> Problem:
    """A warning that the values under ``mask`` were treated as missing."""
    rows, count = example_rows(mask.to_numpy())
    return Problem(code=code, severity="warning", message=f"{col}: {count:,} {what}",
                   column=col, rows=rows, count=count, values=example_values(values[mask]),
                   action="treated as missing")


def _categorical(col: str, raw: pd.Series, pre: Preprocessor, problems: list[Problem]) -> pd.Series:
    levels = pre.categories[col]
    text = _as_text(raw)
    known = set(levels)
    seen = set(pre.seen_levels.get(col, levels))
    not_kept = text.notna() & ~text.isin(known)
    if not_kept.any():
        unseen = not_kept & ~text.isin(seen)
        # Levels seen in training but not kept were pooled into "other" there.
        text = text.mask(not_kept & ~unseen, OTHER if OTHER in known else np.nan)
        if unseen.any():
            problems.append(_made_missing("UNSEEN_CATEGORY", col, unseen, text,
                                          "values are levels never seen in training"))
            text = text.mask(unseen, np.nan)
    return pd.Series(pd.Categorical(text, categories=list(levels)), index=raw.index)
