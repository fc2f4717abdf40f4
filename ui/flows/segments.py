"""Segments page: re-segment the current analysis."""

from __future__ import annotations

from churn_core import pipeline
from ui.flows.model import set_analysis
from ui.state import StateKeys, get


def resegment(k: int | None) -> None:
    """Refit the segments of the current analysis with ``k`` segments (None = chosen)."""
    set_analysis(pipeline.resegment(get(StateKeys.ANALYSIS), k))
