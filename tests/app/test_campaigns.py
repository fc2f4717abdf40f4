"""Campaigns page: start from the current list, upload outcomes, read the report, history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core.campaigns import start_campaign, upload_outcomes
from churn_core.campaigns.records import connect
from tests.app.conftest import assert_clean
from tests.unit.test_campaigns_assign import at_risk_list
from ui.state import StateKeys

ECON = {"value_retained": 200.0, "offer_cost": 20.0, "contact_cost": 2.0, "success_rate": 0.3}


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store.db"


def table_with(at, column: str) -> pd.DataFrame:
    """The first table on the page that has ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def open_page(page, store, **kwargs):
    at = page("campaigns.py", run=False, **kwargs)
    at.session_state[StateKeys.CAMPAIGN_STORE] = str(store)
    return at.run()


def outcome_csv(plan, *, seed=0) -> bytes:
    rng = np.random.default_rng(seed)
    m = plan.members
    p = m["churn_probability"] * np.where(m["group"] == "contact", 0.7, 1.0)
    churned = np.where(rng.uniform(size=len(m)) < p, "Yes", "No")
    frame = pd.DataFrame({"CustomerID": list(m["CustomerID"]) + ["NOT-ON-LIST"],
                          "Churned": list(churned) + ["No"]})
    return frame.to_csv(index=False).encode("utf-8")


def test_empty_store_says_how_to_start(page, store):
    at = open_page(page, store)
    assert_clean(at)
    assert any("No campaigns yet" in i.value for i in at.info)


def test_upload_outcomes_and_read_the_report(page, store):
    table, features = at_risk_list(2000)
    plan = start_campaign(table, name="Dec win-back", features=features, economics=ECON,
                          store=store)
    at = open_page(page, store)
    assert_clean(at)
    assert any("appears once outcomes" in i.value for i in at.info)
    at.file_uploader(key=StateKeys.W_OUTCOME_UPLOAD).upload(
        "outcomes.csv", outcome_csv(plan), "text/csv").run()
    next(b for b in at.button if b.label == "Record outcomes").click().run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Refused (not on the list)"] == "1"
    assert metrics["Members with an outcome"] == "100.0%"
    assert metrics["Retention uplift"].endswith("points")
    assert "Customers saved" in metrics and "Profit after costs" in metrics
    assert any(b.key == "download_campaign_report" for b in at.get("download_button"))
    assert len(at.get("plotly_chart")) == 4
    conn = connect(store)
    assert conn.execute("SELECT count(*) FROM campaign_outcomes").fetchone()[0] == \
        len(plan.members)


def test_history_lists_every_campaign_and_switches(page, store):
    for k, name in enumerate(["first", "second"]):
        table, _ = at_risk_list(500, seed=k)
        plan = start_campaign(table, name=name, store=store)
        frame = pd.read_csv(pd.io.common.BytesIO(outcome_csv(plan)))
        upload_outcomes(frame, name=name, store=store)
    at = open_page(page, store)
    assert_clean(at)
    history = table_with(at, "n_outcomes")
    assert list(history["name"]) == ["second", "first"]
    at.selectbox(key=StateKeys.W_CAMPAIGN_PICK).set_value("first").run()
    assert_clean(at)
    assert any(m.label == "Retention uplift" for m in at.metric)


def test_start_a_campaign_from_the_current_model(page, store, sample_check, sample_analysis):
    at = open_page(page, store, check=sample_check, analysis=sample_analysis)
    assert_clean(at)
    at.text_input(key=StateKeys.W_CAMPAIGN_NAME).input("app campaign")
    at.number_input(key=StateKeys.W_CAMPAIGN_HOLDOUT).set_value(0.2)
    next(b for b in at.button if b.label == "Start campaign").click().run()
    assert_clean(at)
    plan = at.session_state[StateKeys.CAMPAIGN_STARTED]
    assert plan.name == "app campaign" and plan.n_control > 0
    assert any(b.key == "download_campaign_list" for b in at.get("download_button"))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Control group"] == f"{plan.n_control:,}"
    row = connect(store).execute("SELECT model_hash, threshold FROM campaigns").fetchone()
    assert len(row["model_hash"]) == 64
    assert row["threshold"] == pytest.approx(sample_analysis.threshold.value)
    assert list(table_with(at, "n_outcomes")["name"]) == ["app campaign"]


def test_a_nameless_campaign_is_refused_with_a_message(page, store, sample_check,
                                                       sample_analysis):
    at = open_page(page, store, check=sample_check, analysis=sample_analysis)
    next(b for b in at.button if b.label == "Start campaign").click().run()
    assert_clean(at)
    assert at.error
    codes = table_with(at, "code")["code"].tolist()
    assert codes == ["CAMPAIGN_NAME_MISSING"]
    assert at.session_state[StateKeys.CAMPAIGN_STARTED] is None


def test_learn_uplift_for_the_next_campaign(page, store, sample_check, sample_analysis):
    from ui.campaign_widgets import campaign_inputs

    inputs = campaign_inputs(sample_analysis, 0.2, ECON)
    plan = start_campaign(inputs.table, name="learn", holdout=0.5, features=inputs.features,
                          economics=ECON, store=store)
    # The members are current customers: their outcome a month later is drawn from their
    # churn probability, and the offer saves 40 % of the contacted who would have left.
    m = plan.members.copy()
    rng = np.random.default_rng(0)
    m["y"] = (rng.uniform(size=len(m)) < m["churn_probability"].clip(0.05, 0.95)).astype(int)
    saved = (m["group"] == "contact") & (rng.uniform(size=len(m)) < 0.4)
    upload_outcomes(pd.DataFrame({"CustomerID": m["CustomerID"],
                                  "churn": np.where(saved, 0, m["y"]).astype(int)}),
                    name="learn", store=store)
    at = open_page(page, store, check=sample_check, analysis=sample_analysis)
    next(b for b in at.button if b.label == "Learn uplift from this campaign").click().run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert "Best profit, ranked by uplift" in metrics
    assert metrics["Members learned from"] == f"{len(plan.members):,}"
    assert any(b.key == "download_uplift_list" for b in at.get("download_button"))


def _alerts_like_script(store_path: str) -> None:
    """What pages/alerts.py does with the widget: a table-based start form."""
    import streamlit as st

    from tests.unit.test_campaigns_assign import at_risk_list
    from ui.campaign_widgets import start_campaign_form
    from ui.state import StateKeys, init_state

    init_state()
    st.session_state[StateKeys.CAMPAIGN_STORE] = store_path
    table, features = at_risk_list(1000)
    start_campaign_form(table, features=features, model_hash="f" * 64, threshold=0.2,
                        economics={"value_retained": 100.0, "offer_cost": 5.0})


def test_table_based_form_as_alerts_will_call_it(store):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_alerts_like_script, args=(str(store),), default_timeout=60)
    at.run()
    at.text_input(key=StateKeys.W_CAMPAIGN_NAME).input("from alerts")
    next(b for b in at.button if b.label == "Start campaign").click().run()
    assert_clean(at)
    plan = at.session_state[StateKeys.CAMPAIGN_STARTED]
    table, _ = at_risk_list(1000)
    assert plan.name == "from alerts" and len(plan.members) == int(table["at_risk"].sum())
    row = connect(store).execute("SELECT model_hash, economics FROM campaigns").fetchone()
    assert row["model_hash"] == "f" * 64 and "offer_cost" in row["economics"]
    assert any(b.key == "download_campaign_list" for b in at.get("download_button"))
