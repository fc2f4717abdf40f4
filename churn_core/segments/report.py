"""The Segments page's tables in one :class:`SegmentReport`: named segments with their
size, churn rate, value, risk-tier mix, top drivers and a suggested action, the feature
profile, the segments x risk tier view and a 2-D map."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from churn_core.segments.model import projection
from churn_core.segments.profile import (
    model_drivers,
    profile_drivers,
    segment_profile,
    segment_summary,
    suggest_action,
)
from churn_core.segments.types import SegmentModel, SegmentReport

TIERS = ("high", "medium", "low")


def tier_table(model: SegmentModel, segment_of: np.ndarray, tiers: np.ndarray) -> pd.DataFrame:
    """Segments x risk tier of the customers to act on.

    Returns
    -------
    pandas.DataFrame
        One row per segment: ``segment, name, customers, high, medium, low`` (counts),
        ``high_share, medium_share, low_share`` (of the segment's customers).
    """
    segment_of = np.asarray(segment_of, dtype=np.int64)
    tiers = np.asarray(tiers, dtype=object)
    out = pd.DataFrame({"segment": np.arange(model.k), "name": list(model.names)})
    out["customers"] = np.bincount(segment_of, minlength=model.k)
    for tier in TIERS:
        out[tier] = np.bincount(segment_of[tiers == tier], minlength=model.k)
    for tier in TIERS:
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{tier}_share"] = np.where(out["customers"] > 0,
                                            out[tier] / out["customers"], np.nan)
    return out


def build_report(model: SegmentModel, X: pd.DataFrame, labels: np.ndarray,
                 y: pd.Series | np.ndarray | None = None, *,
                 value: np.ndarray | None = None, value_source: str = "",
                 tiers: np.ndarray | None = None, tier_segments: np.ndarray | None = None,
                 contributions: pd.DataFrame | None = None,
                 contribution_segments: np.ndarray | None = None,
                 feature_labels: Mapping[str, str] | None = None,
                 max_points: int = 20_000) -> SegmentReport:
    """Everything the Segments page shows about a segmentation.

    Parameters
    ----------
    model : SegmentModel
    X : pandas.DataFrame
        Feature frame of the rows (the labelled history and current customers).
    labels : numpy.ndarray
        Segment of every row of ``X``.
    y : array-like, optional
        0/1 churn label of the rows (NaN = unknown).
    value : numpy.ndarray, optional
        What each row of ``X`` is worth; ``value_source`` says where it comes from.
    tiers, tier_segments : numpy.ndarray, optional
        Risk tier and segment of every customer to act on (once a model is trained).
    contributions, contribution_segments : optional
        Model contributions (rows x features) of the explained customers and their segments.
    feature_labels : mapping, optional
        Labels of the model's features (event-log builds) for the drivers.
    max_points : int
        Rows on the 2-D map.

    Returns
    -------
    SegmentReport
    """
    labels = np.asarray(labels, dtype=np.int64)
    summary = segment_summary(model, X, labels, y)
    labelled = summary["labelled"].sum()
    overall = float(summary["churners"].sum() / labelled) if labelled else float("nan")
    summary["lift"] = summary["churn_rate"] / overall if overall > 0 else np.nan
    overall_value = float("nan")
    if value is not None:
        v = np.asarray(value, dtype=float)
        sums = np.bincount(labels, weights=np.nan_to_num(v), minlength=model.k)
        counts = np.bincount(labels[np.isfinite(v)], minlength=model.k)
        with np.errstate(invalid="ignore", divide="ignore"):
            summary["value"] = np.where(counts > 0, sums / counts, np.nan)
        overall_value = float(np.nanmean(v)) if np.isfinite(v).any() else float("nan")
    else:
        summary["value"] = np.nan
    tier_view = None
    if tiers is not None and tier_segments is not None:
        tier_view = tier_table(model, tier_segments, tiers)
        summary["customers_to_act_on"] = tier_view["customers"].to_numpy()
        for tier in TIERS:
            summary[tier] = tier_view[f"{tier}_share"].to_numpy()
    else:
        summary["customers_to_act_on"] = np.nan
        for tier in TIERS:
            summary[tier] = np.nan
    profile = segment_profile(model, X, labels)
    if contributions is not None and contribution_segments is not None and len(contributions):
        drivers = model_drivers(contributions, contribution_segments, model.k,
                                labels=feature_labels)
        source = "model"
    else:
        drivers, source = profile_drivers(profile, model.k), "profile"
    summary["drivers"] = drivers
    summary["action"] = [suggest_action(r, overall, v, overall_value)
                         for r, v in zip(summary["churn_rate"], summary["value"], strict=True)]
    points = projection(model, X, labels, max_points=max_points, seed=model.seed)
    return SegmentReport(model=model, summary=summary, profile=profile, tiers=tier_view,
                         points=points, value_source=value_source if value is not None else "",
                         drivers_source=source, overall_rate=overall)
