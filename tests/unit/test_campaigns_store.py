"""Campaigns in the store: recording, idempotent outcomes, the report, concurrent writers."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3

import numpy as np
import pandas as pd
import pytest

from churn_core.campaigns import (
    campaign_history,
    campaign_report,
    start_campaign,
    upload_outcomes,
)
from churn_core.campaigns.records import connect
from churn_core.problems import ChurnDataError
from tests.unit.test_campaigns_assign import at_risk_list

ECON = {"value_retained": 200.0, "offer_cost": 20.0, "contact_cost": 2.0, "success_rate": 0.3}


@pytest.fixture
def store(tmp_path):
    return tmp_path / "store.db"


@pytest.fixture
def started(store):
    table, features = at_risk_list(2000)
    plan = start_campaign(table, name="Dec win-back", features=features, model_hash="abc",
                          threshold=0.2, economics=ECON, store=store)
    return plan


def outcomes_for(plan, *, seed=0, effect=0.2, labels=("Yes", "No")):
    """Churn drawn from the score; contacted customers churn ``effect`` less often."""
    rng = np.random.default_rng(seed)
    m = plan.members
    p = m["churn_probability"] * np.where(m["group"] == "contact", 1 - effect, 1.0)
    churned = rng.uniform(size=len(m)) < p
    return pd.DataFrame({"CustomerID": m["CustomerID"],
                         "Churned": np.where(churned, labels[0], labels[1])})


def test_campaign_is_recorded_with_its_details(started, store):
    conn = connect(store)
    row = conn.execute("SELECT * FROM campaigns").fetchone()
    assert row["name"] == "Dec win-back" and row["model_hash"] == "abc"
    assert row["threshold"] == 0.2 and row["n_members"] == len(started.members)
    members = conn.execute("SELECT count(*), sum(grp = 'control') FROM campaign_members"
                           ).fetchone()
    assert tuple(members) == (len(started.members), started.n_control)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_taken_name_is_refused_and_nothing_is_added(started, store):
    table, _ = at_risk_list(100)
    with pytest.raises(ChurnDataError) as exc:
        start_campaign(table, name="Dec win-back", store=store)
    assert exc.value.problems[0].code == "CAMPAIGN_EXISTS"
    conn = connect(store)
    assert conn.execute("SELECT count(*) FROM campaign_members").fetchone()[0] == \
        len(started.members)


def test_outcomes_are_idempotent(started, store):
    frame = outcomes_for(started)
    first = upload_outcomes(frame, name="Dec win-back", store=store, file_name="out.csv")
    assert (first.n_new, first.n_changed, first.duplicate) == (len(frame), 0, False)
    before = campaign_report("Dec win-back", store=store).to_dict()
    again = upload_outcomes(frame.sample(frac=1.0, random_state=1), name="Dec win-back",
                            store=store, file_name="out again.csv")
    assert again.duplicate and again.n_new == 0 and again.n_changed == 0
    assert campaign_report("Dec win-back", store=store).to_dict() == before
    conn = connect(store)
    assert conn.execute("SELECT count(*) FROM campaign_uploads").fetchone()[0] == 1
    assert again.coverage == 1.0 and again.match_rate == 1.0


def test_unknown_ids_are_reported_and_refused(started, store):
    frame = outcomes_for(started).head(100)
    extra = pd.DataFrame({"CustomerID": ["X1", "X2"], "Churned": ["Yes", "No"]})
    done = upload_outcomes(pd.concat([frame, extra], ignore_index=True), name="Dec win-back",
                           store=store)
    p = next(p for p in done.problems if p.code == "OUTCOME_UNKNOWN_IDS")
    assert p.rows == (101, 102) and p.count == 2 and p.values == ("X1", "X2")
    assert done.n_unknown == 2 and done.n_matched == 100
    assert done.match_rate == pytest.approx(100 / 102)
    conn = connect(store)
    stored = {r[0] for r in conn.execute("SELECT customer_id FROM campaign_outcomes")}
    assert len(stored) == 100 and not stored & {"X1", "X2"}


def test_a_file_of_nobody_on_the_list_is_an_error(started, store):
    frame = pd.DataFrame({"CustomerID": ["X1", "X2"], "Churned": ["Yes", "No"]})
    with pytest.raises(ChurnDataError) as exc:
        upload_outcomes(frame, name="Dec win-back", store=store)
    assert exc.value.problems[0].code == "OUTCOME_NO_MATCH"


@pytest.mark.parametrize("labels", [("是", "否"), ("流失", "未流失"), (True, False), (1, 0),
                                    ("churned", "active")])
def test_label_spellings_the_reader_knows(started, store, labels):
    frame = outcomes_for(started, labels=labels)
    done = upload_outcomes(frame, name="Dec win-back", store=store)
    conn = connect(store)
    stored = conn.execute("SELECT sum(churned) FROM campaign_outcomes").fetchone()[0]
    assert stored == int((frame["Churned"] == labels[0]).sum())
    assert done.n_matched == len(frame)


def test_a_file_where_everybody_stayed_is_read(started, store):
    frame = outcomes_for(started).head(10).assign(Churned="No")
    done = upload_outcomes(frame, name="Dec win-back", store=store)
    assert done.n_new == 10


def test_ambiguous_labels_and_conflicts_are_errors(started, store):
    frame = outcomes_for(started, labels=(2, 1))
    with pytest.raises(ChurnDataError) as exc:
        upload_outcomes(frame, name="Dec win-back", store=store)
    assert exc.value.problems[0].code == "LABEL_AMBIGUOUS"
    first = outcomes_for(started).head(3)
    twice = pd.concat([first, first.assign(Churned=np.where(first["Churned"] == "Yes", "No",
                                                             "Yes"))], ignore_index=True)
    with pytest.raises(ChurnDataError) as exc:
        upload_outcomes(twice, name="Dec win-back", store=store)
    assert exc.value.problems[0].code == "OUTCOME_CONFLICT"
    assert connect(store).execute("SELECT count(*) FROM campaign_outcomes").fetchone()[0] == 0


def test_missing_churn_column_and_unknown_campaign(started, store):
    with pytest.raises(ChurnDataError) as exc:
        upload_outcomes(pd.DataFrame({"CustomerID": ["a"], "x": [1]}), name="Dec win-back",
                        store=store)
    assert exc.value.problems[0].code == "OUTCOME_NO_CHURN_COLUMN"
    with pytest.raises(ChurnDataError) as exc:
        upload_outcomes(outcomes_for(started), name="nope", store=store)
    assert exc.value.problems[0].code == "CAMPAIGN_NOT_FOUND"


def test_a_changed_outcome_replaces_the_old_one_with_a_warning(started, store):
    frame = outcomes_for(started).head(20)
    upload_outcomes(frame, name="Dec win-back", store=store)
    flipped = frame.assign(Churned=np.where(frame["Churned"] == "Yes", "No", "Yes"))
    done = upload_outcomes(flipped.head(5), name="Dec win-back", store=store)
    assert done.n_changed == 5 and any(p.code == "OUTCOME_CHANGED" for p in done.problems)


def test_report_figures_match_a_hand_count(started, store):
    frame = outcomes_for(started, seed=3)
    upload_outcomes(frame, name="Dec win-back", store=store)
    rep = campaign_report("Dec win-back", store=store, n_boot=200)
    s = rep.to_dict()
    merged = started.members.merge(frame, on="CustomerID")
    churn = merged["Churned"].eq("Yes")
    contact = merged["group"] == "contact"
    rate_t, rate_c = churn[contact].mean(), churn[~contact].mean()
    assert s["n_contact"] == contact.sum() and s["n_control"] == (~contact).sum()
    assert s["churn_rate_contact"] == pytest.approx(rate_t)
    assert s["uplift_pp"] == pytest.approx(100 * (rate_c - rate_t))
    assert s["uplift_ci_low"] < s["uplift_pp"] < s["uplift_ci_high"]
    assert s["customers_saved"] == pytest.approx((rate_c - rate_t) * contact.sum())
    cost = contact.sum() * 22.0
    assert s["campaign_cost"] == pytest.approx(cost)
    assert s["incremental_revenue"] == pytest.approx(s["customers_saved"] * 200)
    assert s["profit"] == pytest.approx(s["incremental_revenue"] - cost)
    assert s["profit_ci_low"] < s["profit"] < s["profit_ci_high"]
    assert rep.by_decile["n_contact"].sum() == s["n_contact"]
    assert set(rep.by_segment["segment"]) == {"Loyal", "New", "Bargain"}
    qini = rep.qini
    assert list(qini["decile"]) == list(range(1, 11))
    assert qini["qini"].iloc[-1] == pytest.approx(s["customers_saved"])
    assert (qini["qini_low"] <= qini["qini"]).all() and (qini["qini"] <= qini["qini_high"]).all()


def test_revenue_column_drives_incremental_revenue(started, store):
    frame = outcomes_for(started).assign(revenue=lambda f: np.where(
        f["Churned"] == "Yes", 0.0, 100.0))
    done = upload_outcomes(frame, name="Dec win-back", store=store)
    assert done.revenue_column == "revenue"
    s = campaign_report("Dec win-back", store=store, n_boot=50).to_dict()
    assert s["revenue_basis"].startswith("revenue in the outcome file")
    # Revenue is 100 per retained customer: the increment is 100 x customers saved.
    assert s["incremental_revenue"] == pytest.approx(100 * s["customers_saved"])


def test_report_before_outcomes_and_history(started, store):
    rep = campaign_report("Dec win-back", store=store, n_boot=10)
    assert rep.summary["uplift_pp"] is None or np.isnan(rep.summary["uplift_pp"])
    assert rep.to_dict()["uplift_pp"] is None
    assert any(p.code == "CAMPAIGN_NO_OUTCOMES" for p in rep.problems)
    upload_outcomes(outcomes_for(started).head(300), name="Dec win-back", store=store)
    rep = campaign_report("Dec win-back", store=store, n_boot=10)
    assert any(p.code == "CAMPAIGN_PARTIAL_OUTCOMES" for p in rep.problems)
    history = campaign_history(store=store)
    assert list(history["name"]) == ["Dec win-back"]
    assert history["n_outcomes"].iloc[0] == 300
    assert history["uplift_pp"].iloc[0] == pytest.approx(rep.summary["uplift_pp"])
    assert history["uplift_ci_high"].iloc[0] == pytest.approx(rep.summary["uplift_ci_high"])
    table, _ = at_risk_list(100, seed=9)
    start_campaign(table, name="later", store=store)
    history = campaign_history(store=store)
    assert list(history["name"]) == ["later", "Dec win-back"]
    assert np.isnan(history["uplift_pp"].iloc[0])


# -- two processes writing at once ------------------------------------------------------------
def _start_campaigns(path: str, barrier, count: int) -> None:
    """What the app does: start campaigns one after another."""
    barrier.wait()
    for k in range(count):
        table, _ = at_risk_list(300, seed=k)
        start_campaign(table, name=f"app campaign {k}", store=path)


def _upload_chunks(path: str, barrier, ids: list[str]) -> None:
    """What ``campaign outcomes`` does: upload outcome files, here in small chunks."""
    barrier.wait()
    for k in range(0, len(ids), 50):
        chunk = ids[k:k + 50]
        upload_outcomes(pd.DataFrame({"CustomerID": chunk, "Churned": ["Yes", "No"] * 25}),
                        name="Dec win-back", store=path, file_name=f"chunk {k}")


def test_two_processes_write_at_the_same_time_without_loss(started, store):
    ids = list(started.members["CustomerID"][:1000])
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_start_campaigns, args=(str(store), barrier, 12)),
             ctx.Process(target=_upload_chunks, args=(str(store), barrier, ids))]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0]
    conn = sqlite3.connect(store)
    assert conn.execute("SELECT count(*) FROM campaigns").fetchone()[0] == 13
    assert conn.execute("SELECT count(*) FROM campaign_outcomes").fetchone()[0] == 1000
    assert conn.execute("SELECT count(*) FROM campaign_uploads").fetchone()[0] == 20
    members = conn.execute("SELECT count(*) FROM campaign_members").fetchone()[0]
    assert members == len(started.members) + sum(
        int(at_risk_list(300, seed=k)[0]["at_risk"].sum()) for k in range(12))
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_riskiest_against_the_rest(started, store):
    frame = outcomes_for(started, seed=5)
    upload_outcomes(frame, name="Dec win-back", store=store)
    s = campaign_report("Dec win-back", store=store, n_boot=20).to_dict()
    merged = started.members.assign(decile=started.deciles).merge(frame, on="CustomerID")
    top = merged[merged["decile"] <= 3]
    churn = top["Churned"].eq("Yes")
    expected = churn[top["group"] == "control"].mean() - churn[top["group"] == "contact"].mean()
    assert s["riskiest_uplift_pp"] == pytest.approx(100 * expected)
    assert s["rest_uplift_ci_low"] < s["rest_uplift_pp"] < s["rest_uplift_ci_high"]


def test_numeric_ids_read_as_floats_still_match(tmp_path):
    table = pd.DataFrame({"id": [str(1000 + i) for i in range(60)],
                          "churn_probability": np.linspace(0.9, 0.3, 60), "at_risk": True})
    start_campaign(table, name="numeric", store=tmp_path / "s.db")
    ids = [1000.0 + i for i in range(60)] + [np.nan]
    frame = pd.DataFrame({"id": ids, "churned": [1, 0] * 30 + [1]})
    done = upload_outcomes(frame, name="numeric", store=tmp_path / "s.db")
    assert done.n_matched == 60 and done.n_unknown == 1
