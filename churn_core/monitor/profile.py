"""Compact reference distributions (JSON) that drift is measured against.

A *reference profile* summarises each column of a table in a few kilobytes so
that a model bundle's manifest or the store can hold it:

``continuous`` numbers
    the sorted values themselves up to :data:`EXACT_MAX_VALUES` non-missing
    values, else a quantile sketch of :data:`SKETCH_POINTS` evenly spaced
    quantiles (its CDF is off by at most 1/1000, far below what a two-sample
    test can resolve at the sizes a bundle is trained on), plus mean and SD.
``discrete`` numbers
    (at most :data:`DISCRETE_MAX_VALUES` distinct values, such as 1-5 scores or
    counts) the count of every value.
``categorical`` text
    the count of the :data:`CATEGORY_MAX_LEVELS` most frequent levels, the rows
    in rarer levels (``other``) and how many levels were seen once
    (``singletons``).

Every column also keeps its row and missing counts. ``scores`` (the model's
probabilities on held-out rows) are profiled like a continuous column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from churn_core.features import Preprocessor, transform

if TYPE_CHECKING:
    from churn_core.analysis import Analysis
    from churn_core.training import TrainResult

PROFILE_FORMAT = "churn-radar-reference"
PROFILE_VERSION = 1
EXACT_MAX_VALUES = 2000
SKETCH_POINTS = 1001
DISCRETE_MAX_VALUES = 20
CATEGORY_MAX_LEVELS = 200
SCORE_KEY = "(score)"


def numeric_values(series: pd.Series) -> np.ndarray:
    """Float values of a column: text that is not a number and infinities become NaN."""
    if pd.api.types.is_bool_dtype(series):
        values = series.astype("float64").to_numpy()
    elif pd.api.types.is_numeric_dtype(series):
        values = np.asarray(series, dtype="float64")
    else:
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64")
    return np.where(np.isfinite(values), values, np.nan)


def text_values(series: pd.Series) -> pd.Series:
    """Stripped text of a column (object dtype), missing and blank as NaN."""
    text = series.astype("string").str.strip()
    return text.where(text.notna() & (text != ""), None).astype(object)


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def numeric_profile(values: np.ndarray) -> dict[str, Any]:
    """Profile of a numeric column (``continuous`` or ``discrete``, see the module doc)."""
    values = np.asarray(values, dtype="float64")
    present = values[~np.isnan(values)]
    out: dict[str, Any] = {"rows": int(values.size), "missing": int(values.size - present.size),
                           "mean": float(present.mean()) if present.size else None,
                           "sd": float(present.std()) if present.size else None}
    present = np.sort(present)  # sorted once: unique values and quantiles are then cheap
    uniq, counts = np.unique(present, return_counts=True)
    if 0 < uniq.size <= DISCRETE_MAX_VALUES:
        return {"kind": "discrete", **out, "values": uniq.tolist(), "counts": counts.tolist()}
    if present.size <= EXACT_MAX_VALUES:
        return {"kind": "continuous", **out, "sorted": present.tolist()}
    probs = np.linspace(0.0, 1.0, SKETCH_POINTS)
    return {"kind": "continuous", **out, "quantiles": np.quantile(present, probs).tolist()}


def categorical_profile(text: pd.Series) -> dict[str, Any]:
    """Profile of a text column: level counts (most frequent first), ``other`` and singletons."""
    counts = text.dropna().value_counts(sort=True)
    kept = counts.iloc[:CATEGORY_MAX_LEVELS]
    return {"kind": "categorical", "rows": int(len(text)), "missing": int(text.isna().sum()),
            "levels": [str(v) for v in kept.index], "counts": [int(c) for c in kept],
            "other": int(counts.iloc[CATEGORY_MAX_LEVELS:].sum()),
            "singletons": int((counts == 1).sum())}


def reference_profile(
    frame: pd.DataFrame,
    *,
    scores: Iterable[float] | None = None,
    categorical: Iterable[str] = (),
) -> dict[str, Any]:
    """Summarise every column of ``frame`` (and optionally the model's scores) as JSON.

    Parameters
    ----------
    frame : DataFrame
        The reference rows, usually the training rows in the form
        :func:`feature_view` gives them (numbers as floats, categories as text).
    scores : array-like of float, optional
        Churn probabilities of reference rows the model did not train on
        (validation/test or cross-fitted scores; in-sample scores are more extreme
        than any fresh data's and would make the score look drifted).
    categorical : iterable of str
        Columns to treat as categories even when they hold numbers.

    Returns
    -------
    dict
        ``{"format", "version", "rows", "columns": {name: column profile},
        "score": column profile or None}``; JSON-safe (no NaN).
    """
    forced = set(categorical)
    columns: dict[str, Any] = {}
    for col in frame.columns:
        series = frame[col]
        if _is_numeric(series) and col not in forced:
            columns[str(col)] = numeric_profile(numeric_values(series))
        else:
            columns[str(col)] = categorical_profile(text_values(series))
    score = None
    if scores is not None:
        score = numeric_profile(np.asarray(list(scores), dtype="float64"))
    return {"format": PROFILE_FORMAT, "version": PROFILE_VERSION, "rows": int(len(frame)),
            "columns": columns, "score": score}


def check_profile(profile: Mapping[str, Any]) -> None:
    """Raise ``ValueError`` unless ``profile`` is a reference profile this version reads."""
    if not isinstance(profile, Mapping) or profile.get("format") != PROFILE_FORMAT:
        raise ValueError("not a churn-radar reference profile")
    if profile.get("version") != PROFILE_VERSION:
        raise ValueError(f"reference profile version {profile.get('version')!r} is not "
                         f"supported (expected {PROFILE_VERSION})")


def feature_view(preprocessor: Preprocessor, frame: pd.DataFrame,
                 X: pd.DataFrame | None = None) -> pd.DataFrame:
    """The model's features as drift sees them: numbers and dates (in days before the
    model's snapshot date) as floats, categories as their raw text (so that levels
    never seen in training stay visible instead of becoming missing).

    ``frame`` must hold every feature column (align it with
    :func:`churn_core.score.align_columns` first). ``X``, when given, is
    ``transform(preprocessor, frame)`` already computed (same rows, same order).
    """
    if X is None:
        X, _ = transform(preprocessor, frame)
    out = {}
    for col in preprocessor.feature_names:
        if col in preprocessor.categorical:
            out[col] = text_values(frame[col])
        else:
            out[col] = X[col].astype("float64")
    return pd.DataFrame(out, index=frame.index)


def categorical_columns(preprocessor: Preprocessor) -> tuple[str, ...]:
    """Columns of :func:`feature_view` that are categories (for :func:`reference_profile`)."""
    return tuple(preprocessor.categorical)


def training_reference(analysis: Analysis) -> dict[str, Any]:
    """The reference profile of a trained analysis, to save in its bundle.

    Features come from the labelled rows (in :func:`feature_view` form); the score from
    their out-of-fold scores, which models that never saw each row gave it.
    Intended use at training time::

        manifest["reference_profile"] = training_reference(analysis)

    Parameters
    ----------
    analysis : churn_core.pipeline.Analysis

    Returns
    -------
    dict
        As :func:`reference_profile`.
    """
    return reference_of_training(analysis.result, analysis.dataset.frame)


def reference_of_training(result: TrainResult, frame: pd.DataFrame) -> dict[str, Any]:
    """:func:`training_reference` from the training result and the dataset's rows alone
    (what :func:`churn_core.pipeline.fit_all` computes while it explains).

    Parameters
    ----------
    result : churn_core.training.TrainResult
    frame : DataFrame
        The dataset's rows (``Dataset.frame``), as trained on.

    Returns
    -------
    dict
        As :func:`reference_profile`.
    """
    pre = result.preprocessor
    # The labelled rows the shipped model learnt from, and their out-of-fold scores: what
    # the model gives customers it has not seen.
    X = result.X.iloc[result.rows] if result.X is not None else None
    view = feature_view(pre, frame.iloc[result.rows], X)
    return reference_profile(view, scores=np.asarray(result.oof),
                             categorical=categorical_columns(pre))
