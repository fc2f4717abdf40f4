"""Planning a campaign: reproducible stratified control groups, balance and power."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core.campaigns import CONTROL, plan_campaign
from churn_core.campaigns.assign import assign_groups, balance_table, risk_deciles
from churn_core.export import to_csv_bytes
from churn_core.problems import ChurnDataError


def at_risk_list(n: int = 5000, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """An at-risk list shaped like ``export.at_risk_table`` and a feature table."""
    rng = np.random.default_rng(seed)
    score = rng.uniform(0.05, 0.95, n)
    ids = [f"C{i:06d}" for i in range(n)]
    table = pd.DataFrame({
        "CustomerID": ids, "churn_probability": score,
        "risk_tier": np.where(score >= 0.5, "high", "medium"), "at_risk": score >= 0.2,
        "segment": rng.choice(["Loyal", "New", "Bargain"], n),
        "reason_1": "Complain: yes (raises risk)", "reason_2": "", "reason_3": "",
        "suggested_action": "Call to resolve the open complaint"})
    features = pd.DataFrame({"CustomerID": ids, "Tenure": 30 - 20 * score + rng.normal(0, 3, n),
                             "Complain": (rng.uniform(size=n) < score).astype(int),
                             "City": rng.choice(["a", "b"], n)})
    return table, features


def test_same_name_and_data_give_a_byte_identical_list():
    table, features = at_risk_list()
    first = plan_campaign(table, name="Dec win-back", features=features)
    again = plan_campaign(table.sample(frac=1.0, random_state=3), name="Dec win-back",
                          features=features.sample(frac=1.0, random_state=4))
    assert to_csv_bytes(first.members) == to_csv_bytes(again.members)


def test_list_keeps_the_at_risk_columns_and_adds_group():
    table, _ = at_risk_list()
    plan = plan_campaign(table, name="x")
    # at_risk would be true on every row of the campaign list: it is left out
    assert list(plan.members.columns) == [*(c for c in table.columns if c != "at_risk"), "group"]
    assert len(plan.members) == int(table["at_risk"].sum())
    assert plan.members["churn_probability"].is_monotonic_decreasing
    assert set(plan.members["group"]) == {"contact", "control"}


def test_another_name_draws_an_independent_control_group():
    table, _ = at_risk_list()
    a = plan_campaign(table, name="campaign A").members.set_index("CustomerID")["group"]
    b = plan_campaign(table, name="campaign B").members.set_index("CustomerID")["group"]
    in_a, in_b = a == CONTROL, b.reindex(a.index) == CONTROL
    n = len(a)
    overlap = int((in_a & in_b).sum())
    expected = in_a.sum() * in_b.sum() / n           # about 1 % of the list if independent
    assert abs(overlap - expected) < 4 * np.sqrt(expected)
    assert not in_a.equals(in_b)


def test_every_stratum_holds_its_share_of_control():
    table, _ = at_risk_list()
    plan = plan_campaign(table, name="strata", holdout=0.1)
    m = plan.members.assign(decile=plan.deciles)
    per = m.groupby(["decile", "segment"])["group"].agg(
        n="size", control=lambda g: int((g == CONTROL).sum()))
    assert ((per["control"] - 0.1 * per["n"]).abs() <= 1).all()
    assert abs(plan.n_control - 0.1 * len(m)) <= 1


def test_assign_groups_share_and_determinism():
    ids = np.array([str(i) for i in range(1003)])
    strata = np.zeros(1003, dtype=int)
    a = assign_groups(ids, strata, name="n", holdout=0.25)
    assert a.sum() in (250, 251)
    assert (a == assign_groups(ids, strata, name="n", holdout=0.25)).all()
    assert not (a == assign_groups(ids, strata, name="n", holdout=0.25, draw=1)).all()


def test_balance_is_below_the_limit_on_a_large_list():
    table, features = at_risk_list()
    plan = plan_campaign(table, name="balanced", features=features)
    assert {"churn_probability", "Tenure", "Complain"} <= set(plan.balance["variable"])
    assert "City" not in set(plan.balance["variable"])        # text is not compared
    assert (plan.balance["smd"].abs() < 0.1).all()
    assert plan.balance["balanced"].all()
    assert not any(p.code == "CAMPAIGN_IMBALANCED" for p in plan.problems)


def test_balance_table_standardised_mean_difference():
    values = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0, np.nan, 6.0]})
    control = np.array([False, False, False, True, True, True])
    row = balance_table(values, control).iloc[0]
    a, b = np.array([1.0, 2, 3]), np.array([4.0, 6])
    smd = (a.mean() - b.mean()) / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2)
    assert row["smd"] == pytest.approx(smd)
    assert not row["balanced"]


def test_small_list_warns_that_it_cannot_learn_much():
    table, _ = at_risk_list(300)
    plan = plan_campaign(table, name="small", holdout=0.05,
                         economics={"success_rate": 0.1})
    codes = {p.code for p in plan.problems}
    assert "CAMPAIGN_UNDERPOWERED" in codes
    assert plan.power.mde > plan.power.expected_uplift


def test_deciles_have_near_equal_sizes_riskiest_first():
    d = risk_deciles(np.linspace(1, 0, 95))
    assert d[0] == 1 and d[-1] == 10
    sizes = np.bincount(d)[1:]
    assert sizes.max() - sizes.min() <= 1


@pytest.mark.parametrize(("change", "code"), [
    (lambda t: t.assign(CustomerID=["C1"] * len(t)), "CAMPAIGN_DUPLICATE_IDS"),
    (lambda t: t.assign(CustomerID=[""] + list(t["CustomerID"][1:])), "CAMPAIGN_BLANK_IDS"),
    (lambda t: t.assign(at_risk=False), "CAMPAIGN_EMPTY"),
    (lambda t: t.drop(columns=["churn_probability"]), "CAMPAIGN_NOT_AT_RISK_LIST"),
])
def test_unusable_lists_are_refused_with_a_code(change, code):
    table, _ = at_risk_list(200)
    with pytest.raises(ChurnDataError) as exc:
        plan_campaign(change(table), name="bad")
    assert exc.value.problems[0].code == code


def test_duplicate_ids_name_rows_and_values():
    table, _ = at_risk_list(50)
    table.loc[table.index[[0, 1]], "CustomerID"] = "DUP"
    table["at_risk"] = True
    with pytest.raises(ChurnDataError) as exc:
        plan_campaign(table, name="dup")
    p = exc.value.problems[0]
    assert p.column == "CustomerID" and p.rows == (1, 2) and p.values == ("DUP",)


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"name": "  "}, "CAMPAIGN_NAME_MISSING"),
    ({"name": "x", "holdout": 0.0}, "CAMPAIGN_BAD_HOLDOUT"),
    ({"name": "x", "holdout": 0.9}, "CAMPAIGN_BAD_HOLDOUT"),
    ({"name": "x", "features": pd.DataFrame({"Tenure": [1.0]})}, "CAMPAIGN_FEATURES_NO_ID"),
])
def test_bad_settings_are_refused(kwargs, code):
    table, _ = at_risk_list(200)
    with pytest.raises(ChurnDataError) as exc:
        plan_campaign(table, **kwargs)
    assert exc.value.problems[0].code == code
