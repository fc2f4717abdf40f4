"""Segment names: words a marketer reads, from what sets each segment apart; unique."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from churn_core.segments import assign_segments, fit_segments
from churn_core.segments.behaviour import feature_label, feature_role
from churn_core.segments.naming import TYPICAL, segment_names
from tests.unit.test_segments import planted_table

WORDS = re.compile(r"^[A-Z][a-z\- ,()]+$")


def test_planted_segments_are_named_by_their_behaviour():
    X, truth, y = planted_table()
    model = fit_segments(X, y=y, sample=1200, seed=1)
    labels = assign_segments(model, X)
    name_of = {t: model.names[np.bincount(labels[truth == t]).argmax()] for t in range(4)}
    # cluster 0: 5 days since the last order, 12 orders, 900 spent
    assert name_of[0].startswith("Recent") and "frequent" in name_of[0]
    assert "high spend" in name_of[0]
    # cluster 3: 120 days, one order, 40 spent
    assert name_of[3].startswith("Lapsed") and "one-time" in name_of[3]
    assert len(set(model.names)) == model.k
    assert all(WORDS.match(n) for n in model.names), model.names


def test_names_are_unique_even_when_segments_look_alike():
    X, _, _ = planted_table(k=2)
    model = fit_segments(X, k=2, seed=0)
    z = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0],
                  [0.0, 0.0, 0.0]])
    means = np.ones_like(z) * 5
    from dataclasses import replace
    names = segment_names(replace(model, k=5), z, means)
    assert len(set(names)) == 5
    assert names[3] == TYPICAL and all(WORDS.match(n) for n in names), names


def test_roles_and_labels_from_column_names():
    assert feature_role("DaySinceLastOrder") == "recency"
    assert feature_role("OrderCount") == "frequency"
    assert feature_role("CashbackAmount") == "money"
    assert feature_role("TotalCharges") == "money"
    assert feature_role("Tenure") == "tenure"
    assert feature_role("HourSpendOnApp") == "other"  # not money although it says "spend"
    assert feature_role("OrderAmountHikeFromlastYear") == "other"
    assert feature_role("orders_365d") == "frequency"
    assert feature_label("days_since_last_order") == "Days since the last order"
    assert feature_label("DaySinceLastOrder") == "Day since last order"
    assert feature_label("x", {"x": "{value:.0f} things"}) == "X"  # templates are not labels


def test_other_columns_are_named_in_words():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"SatisfactionScore": np.r_[rng.normal(1, 0.2, 300),
                                                 rng.normal(5, 0.2, 300)],
                      "WarehouseToHome": rng.normal(10, 1, 600)})
    model = fit_segments(X, k=2, seed=0)
    assert {"High satisfaction score", "Low satisfaction score"} <= {
        n.split(",")[0] for n in model.names}
