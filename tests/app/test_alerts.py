"""Alerts page: threshold, money inputs, at-risk table and downloads."""

from __future__ import annotations

from tests.app.conftest import assert_clean
from ui.state import StateKeys


def _flagged(at) -> int:
    value = next(m.value for m in at.metric if m.label == "On the list")
    return int(value.replace(",", ""))


def test_alerts_needs_model(page):
    at = page("alerts.py")
    assert_clean(at)
    assert at.info


def test_threshold_changes_flagged_count(page, sample_check, sample_analysis):
    at = page("alerts.py", check=sample_check, analysis=sample_analysis)
    assert_clean(at)
    at.slider(key=StateKeys.W_THRESHOLD).set_value(0.2).run()
    low = _flagged(at)
    at.slider(key=StateKeys.W_THRESHOLD).set_value(0.8).run()
    assert_clean(at)
    assert _flagged(at) < low
    assert at.session_state[StateKeys.THRESHOLD].value == 0.8
    assert at.session_state[StateKeys.THRESHOLD].method == "Set by hand"


def test_money_inputs_and_profit_button(page, sample_check, sample_analysis):
    at = page("alerts.py", check=sample_check, analysis=sample_analysis)
    at.number_input(key=StateKeys.W_CAPACITY).set_value(100).run()
    next(b for b in at.button if b.label == "Most profitable").click().run()
    assert_clean(at)
    assert at.session_state[StateKeys.THRESHOLD].method == "Most profitable"
    # The capacity caps the list itself: never more than 100 customers on it.
    assert _flagged(at) <= 100
    at.slider(key=StateKeys.W_THRESHOLD).set_value(0.0).run()
    assert _flagged(at) == 100
    assert any("the team can contact 100" in w.value for w in at.warning)


def test_download_buttons_present(page, sample_check, sample_analysis):
    at = page("alerts.py", check=sample_check, analysis=sample_analysis)
    assert_clean(at)
    keys = {b.key for b in at.get("download_button")}
    assert {"download_at_risk", "download_bundle"} <= keys
