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
    assert any(m.label == "Churn probability on the list" for m in at.metric)
    assert any(m.label == "Average customer" for m in at.metric)
    reasons = next(d.value for d in at.dataframe if "points" in d.value.columns)
    # effects in percentage points, never log-odds: they stay within -100..100
    assert reasons["points"].abs().max() <= 100
    assert any("percentage points" in c.value for c in at.caption)
