"""Segments of a checked table and of a trained analysis (what the facade hands out).

Before any model is trained, :func:`segment_customers` segments the loaded table on its
own (:func:`~churn_core.segments.behaviour.segment_frame`); once a model is trained the
analysis carries its segments (fitted by ``pipeline.fit_all`` on the training rows),
:func:`segment_report` adds the risk-tier mix of the customers to act on and the model's
drivers per segment, and :func:`resegment` refits them with other columns or another k.
Scoring a file with a saved bundle assigns its rows with
:func:`~churn_core.segments.assign_segments` on the bundle's :class:`SegmentModel`.

Not imported by the package ``__init__``: it needs :class:`~churn_core.analysis.Analysis`,
which itself holds a :class:`SegmentModel`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from churn_core.analysis import Analysis
from churn_core.dataset import Dataset
from churn_core.problems import ChurnDataError
from churn_core.segments import assign_segments, fit_segments
from churn_core.segments.behaviour import behaviour_columns, feature_role, segment_frame
from churn_core.segments.report import build_report
from churn_core.segments.types import SegmentModel, SegmentReport
from churn_core.threshold import ThresholdChoice, risk_tiers

__all__ = ["VALUE_COLUMN", "resegment", "segment_columns", "segment_customers",
           "segment_report", "segment_value"]

VALUE_COLUMN = "customer_value"
MAP_POINTS = 20_000


def segment_columns(dataset: Dataset) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(every feature the user may segment on, the behaviour columns used by default)."""
    X = segment_frame(dataset)
    try:
        default = behaviour_columns(X)
    except ChurnDataError:  # no column varies: the user must pick
        default = ()
    return tuple(map(str, X.columns)), default


def segment_value(frame: pd.DataFrame, X: pd.DataFrame, model: SegmentModel
                  ) -> tuple[np.ndarray | None, str]:
    """What each row is worth: the table's ``customer_value`` column when it has one,
    else the first money column segmented on (spend, cashback); (None, "") without."""
    if VALUE_COLUMN in frame.columns:
        v = pd.to_numeric(frame[VALUE_COLUMN], errors="coerce").to_numpy(dtype=float)
        if np.isfinite(v).any():
            return v, f"column {VALUE_COLUMN!r}"
    for col in model.numeric:
        if feature_role(col) == "money":
            v = pd.to_numeric(X[col], errors="coerce").to_numpy(dtype=float)
            return v, f"average {model.label(col).lower()}"
    return None, ""


def segment_customers(dataset: Dataset, *, features: Sequence[str] | None = None,
                      k: int | None = None, feature_labels: Mapping[str, str] | None = None,
                      seed: int = 42) -> SegmentReport:
    """Segment a checked table before any model is trained.

    Segments are fitted on the labelled rows (the rows a model would train on) and every
    row is assigned; churn rates come from the label.

    Raises
    ------
    ChurnDataError
        See :func:`~churn_core.segments.fit_segments`.
    """
    X = segment_frame(dataset)
    labelled = dataset.labelled if dataset.labelled.any() else np.ones(len(X), dtype=bool)
    y = dataset.y.to_numpy(dtype=float)
    model = fit_segments(X.loc[labelled], features=features, k=k, y=y[labelled], seed=seed,
                         labels=feature_labels)
    labels = assign_segments(model, X)
    value, source = segment_value(dataset.frame.reset_index(drop=True), X, model)
    return build_report(model, X, labels, y, value=value, value_source=source,
                        feature_labels=feature_labels, max_points=MAP_POINTS)


def segment_report(analysis: Analysis, *, threshold: ThresholdChoice | None = None
                   ) -> SegmentReport:
    """The segments of a trained analysis, with the risk-tier mix of the customers to act
    on (at ``threshold``, default the analysis' own) and the model's drivers per segment.

    Raises
    ------
    ValueError
        When the analysis has no segments.
    """
    model = analysis.segments
    if model is None:
        raise ValueError("this analysis has no segments")
    choice = threshold or analysis.threshold
    pop = analysis.population
    tiers = risk_tiers(pop.scores, float(choice.value),
                       medium_from=choice.detail.get("medium_from"))
    contributions = analysis.explanation.contributions
    at = pop.X.index.get_indexer(contributions.index)
    keep = at >= 0
    value, source = segment_value(analysis.dataset.frame.reset_index(drop=True),
                                  analysis.X.reset_index(drop=True), model)
    return build_report(model, analysis.X, analysis.segment_labels, analysis.dataset.y,
                        value=value, value_source=source, tiers=tiers,
                        tier_segments=analysis.population_segments,
                        contributions=contributions.loc[keep],
                        contribution_segments=np.asarray(analysis.population_segments)[at[keep]],
                        feature_labels=analysis.feature_labels, max_points=MAP_POINTS)


def resegment(analysis: Analysis, k: int | None = None, *,
              features: Sequence[str] | None = None) -> Analysis:
    """The same analysis with its segments refitted on the training rows (``features``
    default: the behaviour columns; ``k`` None = chosen)."""
    r = analysis.result
    model = fit_segments(analysis.X.iloc[r.rows], features=features, k=k,
                         y=analysis.dataset.y.to_numpy(dtype=float)[r.rows],
                         seed=int(r.params.get("seed") or 42), labels=analysis.feature_labels)
    labels = assign_segments(model, analysis.X)
    pop = analysis.population
    pop_labels = labels[pop.rows] if pop.rows is not None else assign_segments(model, pop.X)
    return replace(analysis, segments=model, segment_labels=labels,
                   population_segments=pop_labels)
