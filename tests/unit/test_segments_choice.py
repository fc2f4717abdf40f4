"""The choice of k: 3..8 on real tables, every segment at least 5 % of rows, ties to fewer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core.events import ChurnDefinition, build_tables, propose_mapping
from churn_core.events.modeling import event_overrides
from churn_core.pipeline import check_frame, load_and_check
from churn_core.segments import MIN_SHARE, assign_segments, fit_segments, segment_frame
from churn_core.segments import choice as choice_module
from churn_core.segments.choice import balance, choose_k, separation


def _fit(check, labels=None):
    ds = check.dataset
    X = segment_frame(ds)
    rows = ds.labelled
    model = fit_segments(X.loc[rows], y=ds.y[rows], labels=labels)
    shares = np.bincount(assign_segments(model, X.loc[rows]), minlength=model.k) / rows.sum()
    return model, shares


def test_sample_table(sample_csv):
    model, shares = _fit(load_and_check(sample_csv))
    assert 3 <= model.k <= 8 and shares.min() >= MIN_SHARE
    assert set(model.features) == {"Tenure", "OrderCount", "DaySinceLastOrder", "CashbackAmount"}


def test_ecommerce_workbook(ecom_xlsx):
    model, shares = _fit(load_and_check(ecom_xlsx))
    assert 3 <= model.k <= 8 and shares.min() >= MIN_SHARE
    assert "CustomerID" not in model.features and "Churn" not in model.features


def test_event_log_build_uses_recency_frequency_money(online_retail_csv, tmp_path):
    built = build_tables(online_retail_csv, propose_mapping(online_retail_csv),
                         ChurnDefinition(window_days=90))
    check = check_frame(built.training, overrides=event_overrides(built.training))
    model, shares = _fit(check, built.feature_labels)
    assert 3 <= model.k <= 8 and shares.min() >= MIN_SHARE
    assert model.features == ("days_since_last_order", "orders_365d", "revenue_365d",
                              "tenure_days")
    assert model.roles["days_since_last_order"] == "recency"
    assert model.label("revenue_365d") == "Spend in the last 365 days"


def test_a_tiny_far_cluster_never_gets_a_segment_of_its_own():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(0, 1, (3000, 3)), columns=["Recency", "OrderCount", "Spend"])
    X.iloc[:45] += 25  # 1.5 % of rows far away
    model = fit_segments(X)
    shares = np.bincount(assign_segments(model, X), minlength=model.k) / len(X)
    assert shares.min() >= MIN_SHARE


def _fake_scores(scores: dict[int, float], smallest: dict[int, float] | None = None):
    def fake(E, y, k, *, seed):
        small = (smallest or {}).get(k, 0.2)
        return {"k": k, "silhouette": scores[k], "separation": 0.0, "balance": 0.0,
                "smallest_share": small, "eligible": small >= MIN_SHARE, "score": scores[k]}
    return fake


def test_ties_within_a_hundredth_go_to_the_smaller_k(monkeypatch):
    E = np.zeros((200, 2))
    scores = {3: 0.800, 4: 0.805, 5: 0.70, 6: 0.6, 7: 0.5, 8: 0.4}
    monkeypatch.setattr(choice_module, "score_k", _fake_scores(scores))
    assert choose_k(E, None)[0] == 3
    scores[5] = 0.82
    assert choose_k(E, None)[0] == 5


def test_too_small_segments_rule_a_k_out(monkeypatch):
    E = np.zeros((200, 2))
    scores = {3: 0.5, 4: 0.9, 5: 0.6, 6: 0.5, 7: 0.5, 8: 0.5}
    monkeypatch.setattr(choice_module, "score_k", _fake_scores(scores, {4: 0.01}))
    k, table = choose_k(E, None)
    assert k == 5 and not table.loc[table["k"] == 4, "eligible"].item()
    monkeypatch.setattr(choice_module, "score_k", _fake_scores(
        scores, {3: 0.04, 4: 0.01, 5: 0.02, 6: 0.01, 7: 0.01, 8: 0.01}))
    assert choose_k(E, None)[0] == 3  # none eligible: the largest smallest segment


def test_separation_and_balance():
    labels = np.repeat([0, 1], 50)
    assert separation(labels, labels.astype(float), 2) == pytest.approx(1.0)
    assert separation(labels, np.tile([0.0, 1.0], 50), 2) == pytest.approx(0.0)
    assert separation(labels, None, 2) == 0.0
    assert balance(labels, 2) == pytest.approx(1.0)
    assert balance(np.r_[np.zeros(99, int), 1], 2) < 0.1
