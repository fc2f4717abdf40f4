"""Explore page: churn broken down by segment."""

from __future__ import annotations

from tests.app.conftest import assert_clean
from ui.state import StateKeys

K = StateKeys


def test_explore_breaks_churn_down_by_segment(page, sample_check):
    at = page("explore.py", check=sample_check)
    assert_clean(at)
    assert not any(c.key == "chart_explore_segments" for c in at.get("plotly_chart"))
    at.toggle(key=K.W_EXPLORE_SEGMENTS).set_value(True).run()
    assert_clean(at)
    assert any(c.key == "chart_explore_segments" for c in at.get("plotly_chart"))
    assert at.session_state[K.SEGMENTS].report.model.k >= 3
