"""Preprocessing fitted on the training rows of every partition, without moving them.

Each partition sends back a small summary of its training rows (level counts of the
categories, a sample of each number for the quantiles, whether a number only took 0
and 1, the latest date); the summaries are merged into the same
:class:`~churn_core.features.Preprocessor` the single-machine path fits. Category
levels and their counts are exact; quantiles come from a sample of about
``QUANTILE_SAMPLE`` values per column.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from churn_core.features import MAX_SEEN_LEVELS, OTHER, Preprocessor, _as_text, to_numeric
from churn_core.labels import encode_label
from churn_core.schema import Schema, parse_dates

from .parts import TRAIN, row_split

QUANTILE_SAMPLE = 200_000
MAX_LEVELS = 50  # as features.fit_preprocessor


@dataclass(frozen=True)
class TableCounts:
    """Row counts of the whole table, found while fitting."""

    rows: int
    labelled: int
    train: int
    train_churned: int


def partition_summary(part: pd.DataFrame, schema: Schema, seed: int, by_id: bool,
                      per_part: int) -> dict[str, Any]:
    """What one partition contributes to the preprocessing (training rows only)."""
    y = encode_label(part[schema.label_column], schema).to_numpy()
    train = (row_split(part, schema, seed, by_id=by_id) == TRAIN) & ~np.isnan(y)
    rows = part[train]
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {"rows": len(part), "labelled": int((~np.isnan(y)).sum()),
                           "train": int(train.sum()), "train_churned": int((y[train] == 1).sum()),
                           "levels": {}, "values": {}, "binary": {}, "latest": {}}
    for col in schema.categorical:
        out["levels"][col] = _as_text(rows[col]).value_counts()
    for col in schema.numeric:
        values = to_numeric(rows[col])[0].dropna().to_numpy()
        out["binary"][col] = bool(np.isin(np.unique(values), (0.0, 1.0)).all())
        out["values"][col] = _sample(values, per_part, rng)
    for col in schema.datetime:
        # the latest date of every row (as the single-machine schema measures it), and a
        # sample of the training rows' dates in seconds
        every = parse_dates(part[col])
        out["latest"][col] = every.max() if every.notna().any() else None
        dates = every[train].dropna()
        if getattr(dates.dt, "tz", None) is not None:
            dates = dates.dt.tz_localize(None)
        seconds = dates.astype("datetime64[s]").astype("int64").to_numpy().astype("float64")
        out["values"][col] = _sample(seconds, per_part, rng)
    return out


def _sample(values: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    return values if values.size <= size else rng.choice(values, size, replace=False)


def _snapshot(summaries: list[dict[str, Any]], schema: Schema) -> str | None:
    if schema.snapshot_date or not schema.datetime:
        return schema.snapshot_date
    latest = [s["latest"][c] for s in summaries for c in schema.datetime
              if s["latest"][c] is not None]
    return str(pd.Timestamp(max(latest)).date()) if latest else None


def merge_summaries(summaries: list[dict[str, Any]], schema: Schema
                    ) -> tuple[Preprocessor, Schema, TableCounts]:
    """The fitted preprocessing, the schema with the table's snapshot date, and counts."""
    categories: dict[str, tuple[str, ...]] = {}
    seen: dict[str, tuple[str, ...]] = {}
    for col in schema.categorical:
        counts = pd.concat([s["levels"][col] for s in summaries])
        counts = counts.groupby(level=0, sort=False).sum()
        # most frequent first, ties by text, so the order never depends on partitioning
        order = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
        kept = [str(k) for k, _ in order[:MAX_LEVELS]]
        if len(order) > MAX_LEVELS:
            kept.append(OTHER)
        categories[col] = tuple(kept)
        seen[col] = tuple(str(k) for k, _ in order[:MAX_SEEN_LEVELS])
    snapshot = _snapshot(summaries, schema)
    snap_s = pd.Timestamp(snapshot).timestamp() if snapshot else None
    quantiles: dict[str, tuple[float, float, float]] = {}
    binary = []
    for col in schema.numeric + schema.datetime:
        values = np.concatenate([s["values"][col] for s in summaries])
        if col in schema.datetime and snap_s is not None:
            values = (snap_s - values) / 86400.0  # days before the snapshot
        if values.size:
            q = np.quantile(values, [0.1, 0.5, 0.9])
            quantiles[col] = (float(q[0]), float(q[1]), float(q[2]))
            if col in schema.numeric and all(s["binary"][col] for s in summaries):
                binary.append(col)
        else:
            quantiles[col] = (float("nan"),) * 3
    kinds = set(schema.numeric + schema.categorical + schema.datetime)
    pre = Preprocessor(numeric=tuple(schema.numeric), categorical=tuple(schema.categorical),
                       datetime=tuple(schema.datetime), categories=categories,
                       seen_levels=seen, snapshot_date=snapshot, quantiles=quantiles,
                       binary=tuple(binary),
                       feature_names=tuple(c for c in schema.features if c in kinds))
    counts = TableCounts(*(sum(s[k] for s in summaries)
                           for k in ("rows", "labelled", "train", "train_churned")))
    return pre, replace(schema, snapshot_date=snapshot or schema.snapshot_date), counts


def fit_preprocessor_dask(frame: Any, schema: Schema, *, seed: int, by_id: bool
                          ) -> tuple[Preprocessor, Schema, TableCounts]:
    """Fit the preprocessing on the training rows of a Dask DataFrame (see module notes)."""
    import dask

    per_part = max(100, QUANTILE_SAMPLE // max(frame.npartitions, 1))
    tasks = [dask.delayed(partition_summary)(part, schema, seed, by_id, per_part)
             for part in frame.to_delayed()]
    return merge_summaries(list(dask.compute(*tasks)), schema)
