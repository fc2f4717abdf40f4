"""ThresholdCurve against sklearn, profit with capacity, tiers and break-even."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score, precision_score, recall_score

from churn_core.threshold import (
    Economics,
    ThresholdChoice,
    ThresholdCurve,
    break_even_probability,
    risk_tiers,
)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = (rng.random(3000) < 0.2).astype(float)
    scores = np.clip(0.25 * y + rng.random(3000) * 0.75, 0, 1).round(3)  # ties on purpose
    return y, scores


def test_at_matches_sklearn(data):
    y, s = data
    curve = ThresholdCurve(y, s)
    for t in np.random.default_rng(1).random(25):
        pred = (s >= t).astype(int)
        p = curve.at(t)
        assert p.flagged == pred.sum()
        assert p.tp == int(((pred == 1) & (y == 1)).sum())
        assert p.precision == pytest.approx(precision_score(y, pred, zero_division=0))
        assert p.recall == pytest.approx(recall_score(y, pred, zero_division=0))
        assert p.f1 == pytest.approx(f1_score(y, pred, zero_division=0))


def test_nan_labels_are_dropped():
    curve = ThresholdCurve([1, 0, np.nan, 1], [0.9, 0.2, 0.5, 0.4])
    assert curve.n == 3 and curve.positives == 2
    with pytest.raises(ValueError):
        ThresholdCurve([1, 0], [0.5])


def test_best_f1_is_the_maximum(data):
    y, s = data
    curve = ThresholdCurve(y, s)
    best = curve.best_f1()
    brute = max(f1_score(y, (s >= t).astype(int)) for t in np.unique(s))
    assert best.f1 == pytest.approx(brute)


def test_targets(data):
    y, s = data
    curve = ThresholdCurve(y, s)
    r = curve.for_recall(0.8)
    assert r.recall >= 0.8
    assert curve.at(np.nextafter(r.threshold, 2)).recall < 0.8
    p = curve.for_precision(0.6)
    assert p is not None and p.precision >= 0.6
    assert curve.for_precision(1.01) is None
    top = curve.for_top(100)
    assert top.flagged >= 100 and curve.for_top(0).flagged == 0
    assert curve.for_top(10**9).flagged == len(s)


def test_table_is_thinned_and_ordered(data):
    curve = ThresholdCurve(*data)
    table = curve.table(max_points=50)
    assert len(table) <= 50
    assert table["threshold"].is_monotonic_increasing
    assert table["flagged"].is_monotonic_decreasing


def test_profit_formula_and_population(data):
    y, s = data
    curve = ThresholdCurve(y, s)
    econ = Economics(value_retained=100, offer_cost=5, success_rate=0.5, contact_cost=1)
    table = curve.profit(econ, max_points=None)
    row = table.iloc[len(table) // 2]
    p = curve.at(row["threshold"])
    assert row["profit"] == pytest.approx(p.tp * 0.5 * 100 - p.flagged * 6)
    scaled = curve.profit(econ, population=len(s) * 10, max_points=None)
    assert scaled["profit"].to_numpy() == pytest.approx(table["profit"].to_numpy() * 10)


def test_best_profit_respects_capacity(data):
    y, s = data
    curve = ThresholdCurve(y, s)
    free = curve.best_profit(Economics())
    assert free.profit == pytest.approx(curve.profit(Economics(), max_points=None)["profit"].max())
    capped = curve.best_profit(Economics(capacity=50))
    assert capped.flagged <= 50
    assert capped.profit <= free.profit
    scaled = curve.best_profit(Economics(capacity=500), population=30_000)
    assert scaled.flagged * 10 <= 500


def test_unprofitable_campaign_flags_nobody(data):
    curve = ThresholdCurve(*data)
    point = curve.best_profit(Economics(value_retained=1, offer_cost=50))
    assert point.flagged == 0 and point.profit == 0


def test_tiers_break_even_and_helpers():
    tiers = risk_tiers([0.9, 0.5, 0.3, 0.1, np.nan], 0.5)
    assert tiers.tolist() == ["high", "high", "medium", "low", "low"]
    assert risk_tiers([0.35], 0.5, medium_from=0.4).tolist() == ["low"]
    econ = Economics(value_retained=200, offer_cost=20, success_rate=0.3, contact_cost=4)
    assert break_even_probability(econ) == pytest.approx(24 / 60)
    assert break_even_probability(Economics(success_rate=0)) == float("inf")
    choice = ThresholdChoice(0.4, "best_f1", {"f1": 0.7})
    assert ThresholdChoice.from_dict(choice.to_dict()) == choice
    with pytest.raises(ValueError):
        Economics(success_rate=1.5)


def test_at_is_fast_at_a_million_rows():
    rng = np.random.default_rng(2)
    curve = ThresholdCurve(rng.random(1_000_000) < 0.2, rng.random(1_000_000))
    start = time.perf_counter()
    for t in rng.random(1000):
        curve.at(t)
    assert (time.perf_counter() - start) / 1000 < 1e-3


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.booleans(), st.floats(0, 1)), min_size=1, max_size=60),
    st.floats(-0.5, 1.5),
)
def test_counts_add_up(rows, t):
    y = np.array([r[0] for r in rows], dtype=float)
    s = np.array([r[1] for r in rows])
    p = ThresholdCurve(y, s).at(t)
    assert p.tp + p.fp + p.fn + p.tn == len(rows)
    assert p.tp + p.fp == p.flagged == int((s >= t).sum())
    assert 0 <= p.precision <= 1 and 0 <= p.recall <= 1 and 0 <= p.f1 <= 1


def test_score_histogram_sends_bins_not_every_score():
    from churn_core import charts

    scores = np.random.default_rng(0).random(100_000)
    fig = charts.score_histogram(scores, threshold=0.4)
    bars = fig.data[0]
    assert len(bars.y) == 50 and int(np.sum(bars.y)) == scores.size
    assert fig.layout.shapes[0].x0 == 0.4
    assert len(fig.to_json()) < 20_000
