"""Segment profiles: size, churn rate, value, risk tiers, drivers and a suggested action."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core.pipeline import load_and_check, segment_customers
from churn_core.segments import assign_segments, fit_segments, segment_table
from churn_core.segments.profile import (
    ACTIONS,
    NO_CUSTOMERS,
    NO_DRIVER,
    model_drivers,
    suggest_action,
)
from churn_core.segments.report import build_report
from tests.unit.test_segments import planted_table


@pytest.fixture(scope="module")
def fitted():
    X, truth, y = planted_table()
    model = fit_segments(X, y=y, sample=1200, seed=1)
    return X, truth, y, model, assign_segments(model, X)


def test_report_before_a_model(fitted):
    X, _, y, model, labels = fitted
    value = X["SpendAmount"].to_numpy()
    rep = build_report(model, X, labels, y, value=value, value_source="average spend amount")
    s = rep.summary
    assert s["size"].sum() == len(X) and s["share"].sum() == pytest.approx(1)
    assert (s["churn_lo"] <= s["churn_rate"]).all() and (s["churn_rate"] <= s["churn_hi"]).all()
    for i in range(model.k):  # value = the mean value of the segment's rows
        assert s["value"].iloc[i] == pytest.approx(value[labels == i].mean())
    assert rep.tiers is None and s["high"].isna().all()
    assert rep.drivers_source == "profile"
    assert all(d and ("high " in d or "low " in d) for d in s["drivers"])
    assert set(s["action"]) <= set(ACTIONS.values())
    riskiest = s.sort_values("churn_rate").iloc[-1]
    assert riskiest["action"] in (ACTIONS["win_back"], ACTIONS["reactivate"])
    assert rep.overall_rate == pytest.approx(np.mean(y))
    assert len(rep.points) == len(X)


def test_report_with_tiers_and_model_drivers(fitted):
    X, _, y, model, labels = fitted
    rng = np.random.default_rng(0)
    pop = np.flatnonzero(y == 0)
    tiers = rng.choice(["high", "medium", "low"], pop.size)
    contributions = pd.DataFrame(rng.normal(0, 0.01, (pop.size, 3)),
                                 columns=["DaySinceLastOrder", "OrderCount", "SpendAmount"])
    lapsed = labels[pop] == labels[np.argmax(X["DaySinceLastOrder"].to_numpy())]
    contributions.loc[lapsed, "DaySinceLastOrder"] += 1.0
    rep = build_report(model, X, labels, y, tiers=tiers, tier_segments=labels[pop],
                       contributions=contributions, contribution_segments=labels[pop])
    t = rep.tiers
    assert t["customers"].sum() == pop.size
    assert (t[["high", "medium", "low"]].sum(axis=1) == t["customers"]).all()
    assert np.allclose(t[["high_share", "medium_share", "low_share"]].sum(axis=1), 1)
    assert rep.drivers_source == "model"
    segment = labels[np.argmax(X["DaySinceLastOrder"].to_numpy())]
    assert rep.summary["drivers"].iloc[segment].startswith("Day since last order")
    assert rep.summary["high"].notna().all()


def test_segment_table_counts_each_tier():
    X, _, _ = planted_table(k=3, n=100)
    model = fit_segments(X, k=3, seed=0)
    seg = np.array([0, 0, 1, 2, 2, 2])
    tiers = np.array(["high", "low", "medium", "high", "high", "low"])
    t = segment_table(model, seg, tiers)
    assert t[["customers", "high", "medium", "low"]].to_numpy().tolist() == [
        [2, 1, 0, 1], [1, 0, 1, 0], [3, 2, 0, 1]]


def test_model_drivers_rank_positive_contributions():
    c = pd.DataFrame({"a": [1.0, 1.0, -1.0, -1.0], "b": [0.5, 0.5, 2.0, -1.0],
                      "c": [-1.0, -1.0, -1.0, -1.0]})
    out = model_drivers(c, np.array([0, 0, 1, 3]), 4, labels={"a": "Alpha"})
    assert out == ["Alpha, B", "B", NO_CUSTOMERS, NO_DRIVER]


def test_actions_follow_churn_and_value():
    assert suggest_action(0.4, 0.2, 100, 50) == ACTIONS["win_back"]
    assert suggest_action(0.4, 0.2, 10, 50) == ACTIONS["reactivate"]
    assert suggest_action(0.05, 0.2, 100, 50) == ACTIONS["reward"]
    assert suggest_action(0.05, 0.2, 10, 50) == ACTIONS["grow"]
    assert suggest_action(0.2, 0.2) == ACTIONS["nurture"]


def test_segment_a_loaded_table_before_training(sample_csv):
    check = load_and_check(sample_csv)
    rep = segment_customers(check.dataset)
    assert 3 <= rep.model.k <= 8
    assert rep.summary["size"].sum() == len(check.dataset.frame)
    assert rep.value_source == "average cashback amount"  # the table's money column
    again = segment_customers(check.dataset, features=["Tenure", "OrderCount"], k=3)
    assert again.model.features == ("Tenure", "OrderCount") and again.model.k == 3


def test_training_uses_the_chosen_columns_and_the_bundle_assigns_new_rows(sample_csv):
    from churn_core.model import TrainConfig
    from churn_core.pipeline import (
        bundle_to_zip,
        fit_all,
        load_bundle_bytes,
        make_bundle,
        resegment,
        score_frame,
        segment_report,
    )

    check = load_and_check(sample_csv)
    config = TrainConfig(cv_folds=2, search=False, n_estimators=60, side_models=False)
    analysis = fit_all(check.dataset, config=config, k=3,
                       segment_features=["Tenure", "CashbackAmount"])
    assert analysis.segments.features == ("Tenure", "CashbackAmount")
    assert analysis.segments.k == 3
    again = resegment(analysis, features=["Tenure", "OrderCount", "CashbackAmount"], k=4)
    assert again.segments.k == 4 and again.result is analysis.result  # the model is kept
    rep = segment_report(again)
    assert rep.tiers["customers"].sum() == len(again.population)
    bundle = load_bundle_bytes(bundle_to_zip(make_bundle(again)))
    assert bundle.segments.names == again.segments.names
    frame = check.dataset.frame.head(50)
    scored = score_frame(bundle, frame, explain_rows="none")
    names = np.asarray(again.segments.names, dtype=object)
    rows = scored.rows if scored.rows is not None else np.arange(len(scored.table))
    assert len(rows) > 0
    assert (scored.table["segment"].to_numpy() == names[again.segment_labels[rows]]).all()
