"""Segments page (and Explore's breakdown by segment): segment the loaded table, or the
trained analysis, with the columns and number of segments the user chose.

Before any model is trained the table is segmented on its own; once a model is trained
the analysis' segments are shown with the risk-tier mix of the customers to act on (at the
threshold in use) and the model's drivers. The user's choice (:class:`SegmentChoice`) is
kept for the session's table and used by the next training too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from churn_core import pipeline
from churn_core.pipeline import ChurnDataError, SegmentReport
from ui.flows.model import set_analysis
from ui.state import StateKeys, get, put

K = StateKeys


@dataclass(frozen=True)
class SegmentChoice:
    """The user's choice: columns to segment on (None = the behaviour columns) and the
    number of segments (None = chosen automatically)."""

    features: tuple[str, ...] | None = None
    k: int | None = None


@dataclass(frozen=True)
class SegmentsView:
    """What the Segments page shows, and what it was computed from.

    Attributes
    ----------
    key : str
        Dataset key, model key, threshold and choice it was computed for.
    report : SegmentReport
    trained : bool
        True when the segments are the trained analysis' (risk tiers and model drivers).
    options, default : tuple of str
        Every column the user may segment on, and the behaviour columns used by default.
    """

    key: str
    report: SegmentReport
    trained: bool
    options: tuple[str, ...]
    default: tuple[str, ...]


def choice() -> SegmentChoice:
    """The user's current choice (automatic until one is made)."""
    return get(K.SEGMENT_CHOICE) or SegmentChoice()


def _key(analysis: Any, chosen: SegmentChoice) -> str:
    threshold = get(K.THRESHOLD)
    value = f"{threshold.value:.6f}" if analysis is not None and threshold is not None else ""
    model = get(K.MODEL_KEY) if analysis is not None else ""
    return f"{get(K.DATASET_KEY)}|{model}|{value}|{chosen.features}|{chosen.k}"


def current_view() -> SegmentsView | None:
    """The segments of the current table or analysis, computed once per key and kept in
    state; None (with ``SEGMENT_PROBLEMS`` set) when they cannot be formed."""
    check = get(K.CHECK)
    if check is None:
        return None
    analysis = get(K.ANALYSIS)
    chosen = choice()
    key = _key(analysis, chosen)
    view = get(K.SEGMENTS)
    if view is not None and view.key == key:
        return view
    try:
        if analysis is not None and analysis.segments is not None:
            report = pipeline.segment_report(analysis, threshold=get(K.THRESHOLD))
        else:
            report = pipeline.segment_customers(
                check.dataset, features=chosen.features, k=chosen.k,
                feature_labels=get(K.FEATURE_LABELS) or None)
    except ChurnDataError as exc:
        put(K.SEGMENT_PROBLEMS, list(exc.problems))
        put(K.SEGMENTS, None)
        return None
    if view is not None and view.key.split("|")[0] == key.split("|")[0]:
        options, default = view.options, view.default
    else:
        options, default = pipeline.segment_columns(check.dataset)
    view = SegmentsView(key, report, analysis is not None and analysis.segments is not None,
                        options, default)
    put(K.SEGMENTS, view)
    put(K.SEGMENT_PROBLEMS, None)
    return view


def apply_choice(features: tuple[str, ...] | None, k: int | None) -> bool:
    """Segment again with other columns or another k; with a trained model its segments
    are refitted (the model itself is unchanged). True on success."""
    chosen = SegmentChoice(tuple(features) if features else None, k)
    analysis = get(K.ANALYSIS)
    if analysis is not None:
        try:
            analysis = pipeline.resegment(analysis, k, features=chosen.features)
        except ChurnDataError as exc:
            put(K.SEGMENT_PROBLEMS, list(exc.problems))
            return False
        threshold = get(K.THRESHOLD)
        set_analysis(analysis)
        put(K.THRESHOLD, threshold)  # re-segmenting keeps the threshold in use
    before = get(K.SEGMENT_CHOICE)
    put(K.SEGMENT_CHOICE, chosen)
    if current_view() is not None:
        return True
    problems = get(K.SEGMENT_PROBLEMS)  # keep showing the segments that worked
    put(K.SEGMENT_CHOICE, before)
    current_view()
    put(K.SEGMENT_PROBLEMS, problems)
    return False
