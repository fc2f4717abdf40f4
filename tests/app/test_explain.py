"""Explain page."""

from __future__ import annotations

from tests.app.conftest import assert_clean
from ui.state import StateKeys


def test_explain_needs_model(page, sample_check):
    at = page("explain.py", check=sample_check)
    assert_clean(at)
    assert at.info


def test_explain_renders_and_picks_customer(page, sample_check, sample_analysis):
    at = page("explain.py", check=sample_check, analysis=sample_analysis)
    assert_clean(at)
    picker = at.selectbox(key=StateKeys.W_CUSTOMER)
    picker.set_value(picker.options and sample_analysis.explanation.contributions.index[5]).run()
    assert_clean(at)
    assert any(m.label == "Churn probability" for m in at.metric)
