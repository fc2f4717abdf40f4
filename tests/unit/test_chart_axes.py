"""Every chart builder's figure: axis titles set, percentage axes in %, round ticks.

The builders are found by introspection (every public function of every chart module),
so a new builder without an example here fails the first test instead of going unchecked.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from churn_core.chart_style import percent_axis, percent_ticks

MODULES = ("churn_core.charts", "churn_core.charts_explain", "churn_core.charts_campaigns",
           "churn_core.charts_segments", "churn_core.money.charts", "churn_core.monitor.charts")
RNG = np.random.default_rng(0)
PERCENT_WORDS = ("%", "rate", "share")


def _builders() -> dict[str, Callable]:
    found = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for attr, fn in vars(module).items():
            if inspect.isfunction(fn) and not attr.startswith("_") and fn.__module__ == name:
                found[f"{name.removeprefix('churn_core.')}.{attr}"] = fn
    return found


def _money_inputs():
    from churn_core.money import Campaign, profit_band, sensitivity_table

    y = (RNG.random(1500) < 0.2).astype(float)
    s = 1 / (1 + np.exp(-(0.5 * (y - 0.2) + RNG.normal(0, 0.2, 1500)) / 0.2))
    campaign = Campaign(capacity=100)
    return profit_band(y, s, 200.0, campaign, resamples=50, seed=0), \
        sensitivity_table(y, s, 200.0, campaign)


def _history() -> pd.DataFrame:
    n = 4
    frame = pd.DataFrame({"created_at": [f"2026-0{i + 1}-01T08:00:00" for i in range(n)],
                          "run_id": [f"run{i:04d}xx" for i in range(n)],
                          "estimated_auc": [0.80, 0.79, 0.81, 0.78],
                          "estimated_auc_low": [0.77] * n, "estimated_auc_high": [0.83] * n,
                          "realised_auc": [np.nan, 0.8, np.nan, 0.77]})
    for q, v in (("0.05", 0.02), ("0.25", 0.1), ("0.5", 0.2), ("0.75", 0.35), ("0.95", 0.7)):
        frame[f"score_q{q}"] = v
    return frame


def _segment_report(k: int = 8) -> dict[str, pd.DataFrame]:
    """The tables of a ``SegmentReport`` with eight long segment names."""
    names = [f"Lapsed, one-time, low spend customers {i}" for i in range(k)]
    rate = RNG.random(k) * 0.4
    summary = pd.DataFrame({"segment": range(k), "name": names, "size": RNG.integers(50, 900, k),
                            "labelled": [100] * k, "churn_rate": rate, "churn_lo": rate * 0.8,
                            "churn_hi": rate * 1.2})
    summary["share"] = summary["size"] / summary["size"].sum()
    tiers = pd.DataFrame({"segment": range(k), "name": names, "customers": [10] * k,
                          "high": [2] * k, "medium": [3] * k, "low": [5] * k,
                          "high_share": [0.2] * k, "medium_share": [0.3] * k,
                          "low_share": [0.5] * k})
    profile = pd.DataFrame([{"feature": f, "label": f, "segment": s, "name": names[s],
                             "mean": 1.0, "overall": 0.5, "z": RNG.normal()}
                            for f in ("Tenure", "OrderCount") for s in range(k)])
    choice = pd.DataFrame({"k": range(3, 9), "silhouette": [0.3] * 6, "separation": [0.2] * 6,
                           "balance": [0.9] * 6, "smallest_share": [0.1] * 5 + [0.02],
                           "eligible": [True] * 5 + [False], "score": np.linspace(0.7, 0.8, 6)})
    points = pd.DataFrame({"x": RNG.normal(size=40), "y": RNG.normal(size=40),
                           "segment": [i % k for i in range(40)],
                           "name": [names[i % k] for i in range(40)]})
    return {"summary": summary, "tiers": tiers, "profile": profile, "choice": choice,
            "points": points}


def _examples() -> dict[str, Callable[[], go.Figure]]:
    from churn_core import charts, charts_campaigns, charts_explain, charts_segments
    from churn_core.money import charts as money
    from churn_core.monitor import charts as monitor

    rates = pd.DataFrame({"level": ["0-5", "5-10", "10-20", "(missing)"],
                          "rate": [0.3, 0.2, 0.1, 0.25], "lo": [0.25, 0.15, 0.07, 0.18],
                          "hi": [0.35, 0.25, 0.13, 0.31], "n": [100, 200, 300, 50]})
    pts = pd.DataFrame(RNG.normal(0, 3, (300, 3)), columns=["Tenure", "City", "orders_90d"])
    values = pd.DataFrame({"Tenure": RNG.integers(0, 30, 300).astype(float),
                           "City": pd.Categorical(RNG.choice(["a", "b"], 300)),
                           "orders_90d": RNG.random(300)})
    uplift = pd.DataFrame({"decile": range(1, 6), "uplift_pp": [5.0, 3, 1, -1, 0],
                           "uplift_ci_low": [1.0, -1, -3, -5, -4],
                           "uplift_ci_high": [9.0, 7, 5, 3, 4], "n_contact": [50] * 5,
                           "n_control": [10] * 5})
    band, tornado = _money_inputs()
    seg = _segment_report()
    return {
        "charts_segments.choice": lambda: charts_segments.choice(seg["choice"], 6),
        "charts_segments.overview": lambda: charts_segments.overview(seg["summary"], 0.2),
        "charts_segments.tier_mix": lambda: charts_segments.tier_mix(seg["tiers"]),
        "charts_segments.profile": lambda: charts_segments.profile(seg["profile"], 0),
        "charts_segments.segment_map": lambda: charts_segments.segment_map(seg["points"]),
        "charts_segments.churn_by_segment": lambda: charts_segments.churn_by_segment(
            seg["summary"], 0.2),
        "charts.churn_rate_by": lambda: charts.churn_rate_by(rates, "Tenure", overall=0.2,
                                                             numeric=True),
        "charts.distribution_by_label": lambda: charts.distribution_by_label(
            pd.DataFrame({"label": ["Churned", "Stayed"] * 50, "value": RNG.random(100)}),
            "Tenure"),
        "charts.missingness": lambda: charts.missingness(
            pd.DataFrame({"column": ["a", "b"], "missing": [5, 1], "missing_pct": [5.0, 1.0]})),
        "charts.label_correlation": lambda: charts.label_correlation(pd.DataFrame(
            {"column": ["a", "b", "c"], "method": ["point-biserial", "cramers_v",
                                                   "point-biserial"],
             "correlation": [0.3, 0.2, -0.1]})),
        "charts.roc_curve": lambda: charts.roc_curve(
            pd.DataFrame({"fpr": [0, 0.5, 1], "tpr": [0, 0.8, 1]}), auc=0.8, baseline_auc=0.7),
        "charts.pr_curve": lambda: charts.pr_curve(
            pd.DataFrame({"recall": [0, 0.5, 1], "precision": [1, 0.6, 0.2]}), pr_auc=0.6,
            base_rate=0.2),
        "charts.calibration": lambda: charts.calibration(pd.DataFrame(
            {"mean_predicted": [0.1, 0.5], "observed_rate": [0.12, 0.45], "count": [10, 10]})),
        "charts.lift_gain": lambda: charts.lift_gain(pd.DataFrame(
            {"decile": range(1, 11), "lift": np.linspace(3, 0.2, 10),
             "cumulative_gain": np.linspace(0.3, 1, 10)})),
        "charts.confusion": lambda: charts.confusion(10, 5, 3, 80, threshold=0.4),
        "charts.profit_curve": lambda: charts.profit_curve(pd.DataFrame(
            {"threshold": np.linspace(0, 1, 11), "profit": np.linspace(-50, 100, 11)}),
            best=0.3, current=0.4),
        "charts.tier_counts": lambda: charts.tier_counts(
            pd.Series({"high": 10, "medium": 20, "low": 70})),
        "charts.score_histogram": lambda: charts.score_histogram(RNG.random(500), threshold=0.4),
        "charts.cutoff_summary": lambda: charts.cutoff_summary(pd.DataFrame(
            {"cutoff": ["2026-01-01", "2026-02-01", "2026-03-01"],
             "active_customers": [1000, 1100, 1150], "churn_rate": [0.28, 0.19, 0.09],
             "outcome_known": [True, True, False]})),
        "charts_explain.importance": lambda: charts_explain.importance(pd.DataFrame(
            {"feature": ["Tenure"], "label": ["Tenure"], "mean_abs_points": [3.0],
             "direction": ["lower raises risk"]})),
        "charts_explain.beeswarm": lambda: charts_explain.beeswarm(
            pts, values, ["Tenure", "City"], labels={"Tenure": "Tenure", "City": "City"}),
        "charts_explain.dependence": lambda: charts_explain.dependence(pts, values, "City",
                                                                       label="City"),
        "charts_explain.waterfall": lambda: charts_explain.waterfall(pd.DataFrame(
            {"text": ["Tenure is 1 (raises risk)", "2 other features"],
             "points": [12.0, -3.0]}), base_probability=0.16),
        "charts_campaigns.churn_rates": lambda: charts_campaigns.churn_rates(
            {"churn_rate_contact": 0.1, "churn_rate_contact_ci": (0.08, 0.12), "n_contact": 900,
             "churn_rate_control": 0.15, "churn_rate_control_ci": (0.1, 0.2), "n_control": 100}),
        "charts_campaigns.uplift_by": lambda: charts_campaigns.uplift_by(
            uplift, "decile", title="Uplift by risk decile"),
        "charts_campaigns.qini_curve": lambda: charts_campaigns.qini_curve(pd.DataFrame(
            {"share_targeted": [0.5, 1.0], "qini": [5.0, 8.0], "qini_low": [2.0, 4.0],
             "qini_high": [8.0, 12.0], "random": [4.0, 8.0]})),
        "charts_campaigns.ranking_profit": lambda: charts_campaigns.ranking_profit(pd.DataFrame(
            {"share": [0.5, 1.0], "profit_by_risk": [10.0, 5.0],
             "profit_by_uplift": [12.0, 5.0]})),
        "money.charts.profit_band_figure": lambda: money.profit_band_figure(band,
                                                                           currency="EUR"),
        "money.charts.tornado_figure": lambda: money.tornado_figure(tornado, currency="EUR"),
        "monitor.charts.score_distribution": lambda: monitor.score_distribution(_history()),
        "monitor.charts.auc_over_time": lambda: monitor.auc_over_time(_history()),
        "monitor.charts.drift_effects": lambda: monitor.drift_effects(pd.DataFrame(
            {"feature": ["a", "b"], "effect": [0.3, 0.01], "min_effect": [0.1, 0.1],
             "drifted": [True, False], "effect_name": ["PSI", "PSI"]})),
    }


EXAMPLES = _examples()


def test_every_chart_builder_has_an_example():
    assert set(_builders()) == set(EXAMPLES)


def _axes(fig: go.Figure) -> dict[str, dict]:
    layout = fig.layout.to_plotly_json()
    axes = {k: v for k, v in layout.items() if k.startswith(("xaxis", "yaxis"))}
    used = set()
    for trace in fig.data:
        used.add("xaxis" + (getattr(trace, "xaxis", None) or "x")[1:])
        used.add("yaxis" + (getattr(trace, "yaxis", None) or "y")[1:])
    for name in used:
        axes.setdefault(name, {})
    return axes


def _title(axis: dict) -> str:
    title = axis.get("title") or {}
    return (title.get("text") if isinstance(title, dict) else str(title)) or ""


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_axis_titles_are_set_and_percentages_have_units(name):
    fig = EXAMPLES[name]()
    fig.to_json()  # renders without error
    assert fig.layout.title.text, f"{name}: no title"
    for key, axis in _axes(fig).items():
        title = _title(axis)
        assert title.strip(), f"{name}: {key} has no title"
        if any(w in title.lower() for w in PERCENT_WORDS):
            unit = str(axis.get("tickformat", "")) + str(axis.get("ticksuffix", ""))
            assert "%" in unit or "pp" in unit, f"{name}: {key} '{title}' shows no % unit"
        ticks = axis.get("tickvals")
        if ticks is not None and "%" in str(axis.get("tickformat", "")):
            steps = np.diff(np.asarray(ticks, dtype=float)) * 100
            assert np.allclose(steps, np.round(steps, 1)), f"{name}: {key} ticks {ticks}"


def test_percent_axis_has_round_ticks_and_room_above():
    assert percent_ticks(0.28) == [0.0, 0.1, 0.2, 0.3]  # not 0/9/19/28 %
    assert percent_ticks(0.05) == [0.0, 0.01, 0.02, 0.03, 0.04, 0.05]
    assert percent_ticks(1.0) == [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    axis = percent_axis(0.28, title="churn rate")
    assert axis["range"][1] > axis["tickvals"][-1]  # the top tick label is not clipped
    assert axis["title"]["text"] == "churn rate (%)" and axis["tickformat"] == ".0%"


def test_second_axes_use_round_percent_ticks():
    from churn_core import charts

    for fig in (EXAMPLES["charts.cutoff_summary"](),
                EXAMPLES["charts.lift_gain"]()):
        ticks = fig.layout.yaxis2.tickvals
        assert ticks is not None and all(round(t * 100) % 5 == 0 for t in ticks)
    cut = EXAMPLES["charts.cutoff_summary"]()
    assert cut.layout.yaxis.range[1] > 1150  # room above the tallest bar
    assert charts.MISSING_LEVEL == "(missing)"


def test_missing_bin_is_a_separate_marker_not_joined_by_the_line():
    fig = EXAMPLES["charts.churn_rate_by"]()
    line = next(t for t in fig.data if t.name == "churn rate")
    assert "(missing)" not in list(line.x)
    missing = next(t for t in fig.data if t.name == "value missing")
    assert list(missing.x) == ["(missing)"] and missing.mode == "markers"


def test_correlation_and_cramers_v_are_on_separate_axes():
    fig = EXAMPLES["charts.label_correlation"]()
    corr, cramer = fig.data
    assert corr.xaxis != cramer.xaxis
    assert set(corr.y) == {"a", "c"} and list(cramer.y) == ["b"]


