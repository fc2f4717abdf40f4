"""Uplift learning: a two-model XGBoost learner and the comparison of rankings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core.campaigns import start_campaign, upload_outcomes
from churn_core.campaigns.uplift import (
    compare_rankings,
    learn_from_campaign,
    rank_by_uplift,
    realised_gain,
)
from churn_core.problems import ChurnDataError


def campaign_data(n: int = 4000, seed: int = 0):
    """Risk follows ``z``; the offer only works where ``x`` > 0 (and not for the riskiest)."""
    rng = np.random.default_rng(seed)
    x, z = rng.normal(size=n), rng.normal(size=n)
    risk = 1 / (1 + np.exp(-(z - 0.3)))
    contact = rng.uniform(size=n) < 0.5
    effect = np.where(x > 0, 0.6, 0.0)
    p = np.where(contact, risk * (1 - effect), risk)
    churned = (rng.uniform(size=n) < p).astype(float)
    X = pd.DataFrame({"x": x, "z": z})
    return X, contact, churned, risk


def test_realised_gain_counts_what_happened():
    score = np.array([4, 3, 2, 1])
    contact = np.array([True, False, True, False])
    churned = np.array([0.0, 1, 1, 1])
    g = realised_gain(score, contact, churned, bins=2)
    # top half: control churned 1/1, contact 0/1 -> 1.0 x 2 members = 2 saved
    assert list(g["members"]) == [2, 4]
    assert g["saved"].iloc[0] == pytest.approx(2.0)
    assert g["saved"].iloc[1] == pytest.approx((1.0 - 0.5) * 4)


def test_uplift_ranking_beats_risk_where_the_riskiest_are_not_saved():
    X, contact, churned, risk = campaign_data()
    result = compare_rankings(X, contact, churned, risk,
                              economics={"value_retained": 100, "offer_cost": 5})
    top = result.curve.iloc[3]      # contacting 40 % of members
    assert top["saved_by_uplift"] > top["saved_by_risk"]
    assert result.best("uplift")["profit_by_uplift"] > result.best("risk")["profit_by_risk"]
    predicted = result.model.predict(X)
    assert predicted[X["x"] > 0].mean() > predicted[X["x"] <= 0].mean() + 0.05


def test_too_small_a_control_group_is_refused():
    X, contact, churned, risk = campaign_data(400)
    contact[:] = True
    contact[:10] = False
    with pytest.raises(ChurnDataError) as exc:
        compare_rankings(X, contact, churned, risk)
    assert exc.value.problems[0].code == "UPLIFT_TOO_SMALL"


def test_learn_from_a_stored_campaign_and_rank_the_next_list(tmp_path):
    X, _, _, risk = campaign_data(3000, seed=1)
    ids = pd.Series([f"C{i:05d}" for i in range(len(X))])
    table = pd.DataFrame({"CustomerID": ids, "churn_probability": risk, "at_risk": True,
                          "segment": ""})
    plan = start_campaign(table, name="first", holdout=0.5, store=tmp_path / "s.db",
                          economics={"value_retained": 100, "offer_cost": 5})
    rng = np.random.default_rng(2)
    m = plan.members.merge(X.assign(CustomerID=ids), on="CustomerID")
    p = np.where(m["group"] == "contact", m["churn_probability"] * np.where(m["x"] > 0, 0.4, 1),
                 m["churn_probability"])
    outcome = pd.DataFrame({"CustomerID": m["CustomerID"],
                            "churn": (rng.uniform(size=len(m)) < p).astype(int)})
    upload_outcomes(outcome, name="first", store=tmp_path / "s.db")
    result = learn_from_campaign("first", X, ids, store=tmp_path / "s.db")
    assert result.n_members == len(X)
    ranked = rank_by_uplift(table, result.model, X, ids)
    assert ranked["expected_uplift"].is_monotonic_decreasing
    top = ranked.head(500).merge(X.assign(CustomerID=ids), on="CustomerID")
    assert (top["x"] > 0).mean() > 0.8
    with pytest.raises(ChurnDataError) as exc:
        learn_from_campaign("first", X, pd.Series([f"other {i}" for i in range(len(X))]),
                            store=tmp_path / "s.db")
    assert exc.value.problems[0].code == "UPLIFT_NO_FEATURES"
