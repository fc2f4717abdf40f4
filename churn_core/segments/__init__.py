"""Customer segments a marketer can act on: behaviour columns, K-Means, k chosen for
clarity, churn separation and balance, names in words, profiles and actions.

One module per step:

- :mod:`~churn_core.segments.types`: :class:`SegmentModel` (stored in the model bundle)
  and :class:`SegmentReport` (what the Segments page shows);
- :mod:`~churn_core.segments.behaviour`: which columns to segment on and their labels;
- :mod:`~churn_core.segments.model`: scaling fitted on the training rows, K-Means, the map;
- :mod:`~churn_core.segments.choice`: the number of segments (3..8, each >= 5 % of rows);
- :mod:`~churn_core.segments.naming`: names in words;
- :mod:`~churn_core.segments.profile`: size, churn rate, profile, drivers, actions;
- :mod:`~churn_core.segments.report`: all of it for one segmentation.

This module holds the entry points: :func:`fit_segments`, :func:`assign_segments` and
:func:`segment_table` (segments x risk tier).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from churn_core.problems import ChurnDataError, Problem
from churn_core.progress import Progress
from churn_core.segments.behaviour import (
    behaviour_columns,
    feature_label,
    feature_role,
    segment_frame,
)
from churn_core.segments.choice import K_RANGE, MIN_SHARE, choose_k
from churn_core.segments.model import encode, fit_centres, fit_scaling, nearest, projection
from churn_core.segments.naming import segment_names
from churn_core.segments.profile import segment_means, segment_profile, segment_summary
from churn_core.segments.report import build_report, tier_table
from churn_core.segments.types import SegmentModel, SegmentReport
from churn_core.threads import one_thread

__all__ = ["K_RANGE", "MIN_SHARE", "SegmentModel", "SegmentReport", "assign_segments",
           "behaviour_columns", "build_report", "check_k", "fit_segments", "projection",
           "segment_frame", "segment_profile", "segment_summary", "segment_table"]

log = logging.getLogger(__name__)

NAME_ROWS = 200_000


def check_k(k: int | None) -> None:
    """Raise ``SEGMENTS_TOO_FEW`` for a number of segments under 2 (None = chosen)."""
    if k is not None and k < 2:
        raise ChurnDataError([Problem("SEGMENTS_TOO_FEW", "error", "Ask for 2 segments or more.",
                                      values=(str(k),), action="choose 2 to 8 segments")])


def _too_few(k: int, n: int) -> ChurnDataError:
    return ChurnDataError([Problem(
        "SEGMENTS_TOO_MANY", "error", f"{k} segments need at least {10 * k} rows; there are "
        f"{n:,}.", values=(str(k),), action="ask for fewer segments, or let the number be chosen")])


def _fit_big_enough(model: SegmentModel, X: pd.DataFrame, k: int, E: np.ndarray, *,
                    enforce: bool, tries: int = 3) -> SegmentModel | None:
    """Centres for ``k`` segments that each hold at least :data:`MIN_SHARE` of the rows.

    A few far-away customers can pull a centre of their own; their rows are left out of
    the K-Means fit (still assigned to the nearest centre afterwards) and the fit is
    repeated, at most ``tries`` times. None when the segments stay too small.
    """
    keep = np.ones(len(X), dtype=bool)
    for _ in range(tries):
        fitted = fit_centres(model, X.loc[keep], k, sample=E)
        labels = assign_segments(fitted, X)
        shares = np.bincount(labels, minlength=k) / len(X)
        if not enforce or shares.min() >= MIN_SHARE:
            return fitted
        small = np.flatnonzero(shares < MIN_SHARE)
        log.info("k=%d: %d segment(s) under %.0f %% of rows; fitting again without them", k,
                 small.size, 100 * MIN_SHARE)
        keep &= ~np.isin(labels, small)
        if keep.sum() < 10 * k:
            return None
    return None


@one_thread
def fit_segments(
    X: pd.DataFrame,
    *,
    features: Sequence[str] | None = None,
    k: int | None = None,
    y: pd.Series | np.ndarray | None = None,
    k_range: range = K_RANGE,
    sample: int = 5000,
    seed: int = 42,
    labels: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> SegmentModel:
    """Fit named customer segments on the training rows of a feature frame.

    Parameters
    ----------
    X : pandas.DataFrame
        Feature frame of the training rows (``features.transform`` output, or
        :func:`segment_frame` before a model is trained).
    features : sequence of str, optional
        Columns to segment on; default: the behaviour columns
        (:func:`~churn_core.segments.behaviour.behaviour_columns`).
    k : int, optional
        Number of segments (2 or more); None = chosen over ``k_range`` by
        :func:`~churn_core.segments.choice.choose_k`.
    y : array-like, optional
        0/1 churn label of the rows (NaN = unknown): how well segments separate churn
        counts in the choice of k.
    k_range : range, default 3..8
    sample : int, default 5000
        Rows used to choose k.
    seed : int, default 42
        Seed of the sampling, K-Means and the map.
    labels : mapping, optional
        Feature labels (an event-log build's templates); default: the names in words.
    progress : callable(fraction, message), optional

    Returns
    -------
    SegmentModel

    Raises
    ------
    ChurnDataError
        ``SEGMENTS_NO_VARIATION`` (no usable column), ``SEGMENTS_UNKNOWN_FEATURE`` (a
        pick that is not a feature), ``SEGMENTS_TOO_MANY`` (fewer than 10 rows per segment).
    """
    report = progress or (lambda f, m: None)
    X = X.reset_index(drop=True)
    yv = None if y is None else np.asarray(y, dtype=float)
    smallest = k if k is not None else min(k_range)
    check_k(k)
    if len(X) < 10 * smallest:
        raise _too_few(smallest, len(X))
    cols = behaviour_columns(X, chosen=features)
    model = fit_scaling(X, cols, seed=seed, labels={c: feature_label(c, labels) for c in cols},
                        roles={c: feature_role(c) for c in cols})
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(X), size=min(len(X), sample), replace=False))
    E = encode(model, X.iloc[rows])
    report(0.05, "Encoding the segment columns")
    profiles = len(np.unique(E, axis=0))
    if (k or min(k_range)) > profiles:
        raise ChurnDataError([Problem(
            "SEGMENTS_TOO_FEW_PROFILES", "error", f"These columns take only {profiles} "
            f"different combinations of values, too few for {k or min(k_range)} segments.",
            values=tuple(map(str, cols)), action="pick more columns, or ask for fewer segments")])
    k_range = range(min(k_range), min(max(k_range), profiles) + 1)
    table = pd.DataFrame(columns=model.choice.columns)
    order = [k] if k is not None else []
    if k is None:
        chosen, table = choose_k(E, None if yv is None else yv[rows], k_range=k_range,
                                 seed=seed, progress=lambda f, m: report(0.05 + 0.7 * f, m))
        # the chosen k first, then the others by score, should its final fit leave a
        # segment under the minimum size
        ranked = table.sort_values(["eligible", "score", "k"], ascending=[False, False, True])
        order = [chosen] + [int(v) for v in ranked["k"] if int(v) != chosen]
    fitted = None
    for kk in order:
        report(0.8, f"Fitting {kk} segments")
        fitted = _fit_big_enough(model, X, kk, E, enforce=k is None)
        if fitted is not None:
            break
    if fitted is None:  # no k keeps every segment big enough: the chosen one as it is
        fitted = fit_centres(model, X, order[0], sample=E)
    assert fitted is not None
    model = replace(fitted, choice=table.reset_index(drop=True))
    name_rows = X if len(X) <= NAME_ROWS else X.iloc[np.sort(rng.choice(
        len(X), size=NAME_ROWS, replace=False))]
    means, _, z = segment_means(model, name_rows, assign_segments(model, name_rows))
    model = replace(model, names=segment_names(model, z, means))
    report(1.0, f"{model.k} segments")
    return model


@one_thread
def assign_segments(model: SegmentModel, X: pd.DataFrame) -> np.ndarray:
    """The segment number (0..k-1) of each row: the nearest centre.

    Raises
    ------
    ValueError
        If a column the model uses is missing from X.
    """
    return nearest(np.asarray(model.centers, dtype=np.float64), encode(model, X))


def segment_table(model: SegmentModel, segment_of: np.ndarray, tiers: np.ndarray
                  ) -> pd.DataFrame:
    """Segments x risk tier: how many of each segment's customers to act on are in the
    high, medium and low tier (counts and shares of the segment).

    Parameters
    ----------
    model : SegmentModel
    segment_of : numpy.ndarray
        Segment of each customer to act on.
    tiers : numpy.ndarray
        ``"high"`` / ``"medium"`` / ``"low"`` of the same customers
        (:func:`churn_core.threshold.risk_tiers`).

    Returns
    -------
    pandas.DataFrame
        ``segment, name, customers, high, medium, low, high_share, medium_share, low_share``.
    """
    return tier_table(model, segment_of, tiers)
