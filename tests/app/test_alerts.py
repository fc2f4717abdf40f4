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


def test_value_column_band_and_campaign_from_the_list(page, sample_check, sample_analysis,
                                                       tmp_path, monkeypatch):
    monkeypatch.setenv("CHURN_RADAR_HOME", str(tmp_path))
    at = page("alerts.py", check=sample_check, analysis=sample_analysis)
    assert_clean(at)
    same = next(m.value for m in at.metric if m.label.startswith("Expected profit"))
    # Each customer's own value: profit and the list's value at risk follow it.
    at.selectbox(key=StateKeys.W_VALUE_SOURCE).select("CashbackAmount").run()
    assert_clean(at)
    value = at.session_state[StateKeys.VALUE_CHOICE]
    assert value.column == "CashbackAmount" and value.values.values.std() > 0
    assert next(m.value for m in at.metric if m.label.startswith("Expected profit")) != same
    listed = next(d.value for d in at.dataframe if "churn_probability" in d.value.columns)
    assert "value_at_risk" in listed.columns
    # How sure is the profit: the band and the tornado, on request.
    next(b for b in at.button if b.label == "Compute the band").click().run()
    assert_clean(at)
    assert at.session_state[StateKeys.PROFIT_BAND] is not None
    # A campaign with a control group, straight from the list.
    at.text_input(key=StateKeys.W_CAMPAIGN_NAME).input("from alerts")
    next(b for b in at.button if b.label == "Start campaign").click().run()
    assert_clean(at)
    plan = at.session_state[StateKeys.CAMPAIGN_STARTED]
    listed = int(next(m.value for m in at.metric if m.label == "On the list").replace(",", ""))
    assert plan.name == "from alerts" and plan.n_contact + plan.n_control == listed


def test_pseudonymous_ids_need_a_key(page, sample_check, sample_analysis, monkeypatch):
    monkeypatch.delenv("CHURN_RADAR_ID_SECRET", raising=False)
    at = page("alerts.py", check=sample_check, analysis=sample_analysis)
    at.checkbox(key=StateKeys.W_PSEUDONYMISE).check().run()
    assert_clean(at)
    assert any("need a key" in e.value for e in at.error)
    monkeypatch.setenv("CHURN_RADAR_ID_SECRET", "a-long-enough-secret-key")
    at.run()
    assert_clean(at)
    assert not any("need a key" in e.value for e in at.error)


def test_budget_caps_the_list(page, sample_check, sample_analysis):
    at = page("alerts.py", check=sample_check, analysis=sample_analysis)
    at.slider(key=StateKeys.W_THRESHOLD).set_value(0.0).run()
    at.number_input(key=StateKeys.W_BUDGET).set_value(550.0).run()  # 25 contacts at 22 each
    assert_clean(at)
    assert _flagged(at) == 25
