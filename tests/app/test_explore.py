"""Explore page."""

from __future__ import annotations

from tests.app.conftest import assert_clean
from ui.state import StateKeys


def test_explore_needs_data(page):
    at = page("explore.py")
    assert_clean(at)
    assert at.info


def test_explore_renders_and_switches_column(page, sample_check):
    at = page("explore.py", check=sample_check)
    assert_clean(at)
    box = at.selectbox(key=StateKeys.W_EXPLORE_COLUMN)
    box.set_value("PreferredPaymentMode").run()
    assert_clean(at)
    assert at.session_state[StateKeys.W_EXPLORE_COLUMN] == "PreferredPaymentMode"
