"""Explore page: churn broken down by segment (the segments of the Segments page)."""

from __future__ import annotations

from churn_core.pipeline import SegmentReport
from ui.flows.segments import current_view


def segment_breakdown() -> SegmentReport | None:
    """The current segments (of the loaded table, or of the trained model) with their
    churn rates; None when no segments can be formed (``SEGMENT_PROBLEMS`` says why)."""
    view = current_view()
    return view.report if view is not None else None
