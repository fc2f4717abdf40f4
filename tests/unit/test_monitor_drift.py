"""Drift: false alarms on identical distributions, power on a small shift, levels, missingness."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from churn_core.monitor.drift import DriftReport, compare
from churn_core.monitor.profile import SKETCH_POINTS, reference_profile
from churn_core.monitor.stattests import holm, ks_against_sketch


def sample(rng: np.random.Generator, n: int, *, shift: float = 0.0) -> pd.DataFrame:
    """Four kinds of column: continuous with 5 % missing, discrete counts, few and many levels."""
    x = rng.normal(shift, 1, n)
    x[rng.random(n) < 0.05] = np.nan
    return pd.DataFrame({"x": x, "d": rng.poisson(3, n).astype(float),
                         "c": rng.choice(["a", "b", "c", "d"], n, p=[.4, .3, .2, .1]),
                         "r": rng.choice([f"l{i}" for i in range(30)], n)})


def run(rng: np.random.Generator, n: int, *, shift: float = 0.0) -> DriftReport:
    ref = reference_profile(sample(rng, n), scores=rng.beta(2, 5, n))
    return compare(ref, sample(rng, n, shift=shift), scores=rng.beta(2, 5, n))


@pytest.mark.parametrize(("n", "runs"), [(100, 200), (1_000, 200), (100_000, 12)])
def test_false_alarms_at_most_two_percent(n, runs):
    # Reference and current drawn from one distribution: any flag is a false alarm.
    # Holm at a 1 % family-wise level bounds the rate by 1 % (expected 2 of 200 runs).
    rng = np.random.default_rng(n)
    reports = [run(rng, n) for _ in range(runs)]
    alarms = sum(bool(r.drifted_features or r.score_drifted) for r in reports)
    assert alarms <= 0.02 * runs, alarms
    if n == 100_000:
        # At this size the tests reject trivial differences; the effect sizes keep a wide
        # margin under their minimums, so flags stay rare however many runs are made.
        worst = max(f.effect / f.min_effect
                    for r in reports for f in (*r.features, r.score))
        assert worst < 0.5, worst


def test_shift_of_a_fifth_sd_is_detected_at_ten_thousand_rows():
    rng = np.random.default_rng(7)
    trials = 30
    hits = sum(run(rng, 10_000, shift=0.2).drifted_features == ["x"] for _ in range(trials))
    assert hits >= 0.9 * trials, hits


def test_new_level_vanished_level_and_missingness_are_flagged():
    rng = np.random.default_rng(3)
    ref = sample(rng, 10_000)
    cur = sample(rng, 10_000)
    cur.loc[:499, "c"] = "brand new"                  # 5 % of rows in a level never seen
    cur.loc[cur["r"] == "l3", "r"] = "l4"             # l3 vanishes
    cur.loc[:1999, "d"] = np.nan                      # missing share 0 % -> 20 %
    report = compare(reference_profile(ref), cur)
    rows = {f.feature: f for f in report.features}
    assert rows["c"].drifted and rows["c"].new_levels == ("brand new",)
    assert rows["c"].new_share == pytest.approx(0.05)
    assert "l3" in rows["r"].vanished_levels
    assert rows["d"].drifted and "missing share" in rows["d"].why
    assert not rows["x"].drifted


def test_small_shift_on_huge_sample_is_not_flagged():
    # 100,000 rows: a 0.03-SD shift is "significant" but too small to act on.
    rng = np.random.default_rng(5)
    report = compare(reference_profile(sample(rng, 100_000)), sample(rng, 100_000, shift=0.03))
    x = next(f for f in report.features if f.feature == "x")
    assert x.p_adjusted < 0.01 and x.effect < 0.1 and not x.drifted


def test_profile_is_compact_json_and_report_round_trips():
    rng = np.random.default_rng(1)
    frame = sample(rng, 50_000)
    profile = reference_profile(frame, scores=rng.random(50_000))
    text = json.dumps(profile, allow_nan=False)
    assert len(text) < 120_000  # two 1,001-point sketches and a few counts
    assert len(profile["columns"]["x"]["quantiles"]) == SKETCH_POINTS
    assert profile["columns"]["d"]["kind"] == "discrete"
    report = compare(json.loads(text), frame.head(5_000), scores=rng.random(5_000))
    again = DriftReport.from_dict(json.loads(json.dumps(report.to_dict(), allow_nan=False)))
    assert again.drifted_features == report.drifted_features
    assert list(again.table["feature"]) == list(report.table["feature"])


def test_sketch_ks_agrees_with_scipy():
    from scipy.stats import ks_2samp

    rng = np.random.default_rng(2)
    ref, cur = rng.gamma(2, 1, 20_000), rng.gamma(2.1, 1, 3_000)
    q = np.quantile(ref, np.linspace(0, 1, SKETCH_POINTS))
    d, p = ks_against_sketch(q, ref.size, cur)
    exact = ks_2samp(ref, cur, method="asymp")
    assert d == pytest.approx(exact.statistic, abs=0.002)
    assert p == pytest.approx(exact.pvalue, rel=0.3, abs=1e-4)


def test_holm_matches_definition():
    p = np.array([0.01, 0.04, np.nan, 0.03, 0.2])
    adj = holm(p)
    assert np.isnan(adj[2])
    assert adj[[0, 3, 1, 4]] == pytest.approx([0.04, 0.09, 0.09, 0.2])


def test_missing_column_is_drift():
    rng = np.random.default_rng(0)
    report = compare(reference_profile(sample(rng, 500)), sample(rng, 500).drop(columns="c"))
    assert "c" in report.drifted_features


def test_report_stored_by_an_older_version_still_reads():
    rng = np.random.default_rng(4)
    stored = compare(reference_profile(sample(rng, 300)), sample(rng, 300)).to_dict()
    for row in stored["features"]:
        del row["min_effect"]  # a field added after the first release
    stored["config"]["retired_option"] = 1
    again = DriftReport.from_dict(stored)
    assert len(again.features) == 4 and np.isnan(again.features[0].min_effect)
