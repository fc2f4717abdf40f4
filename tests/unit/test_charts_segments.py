"""Segment charts: every builder renders, with axis titles and units; names never collide."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from churn_core import charts_segments as cs
from churn_core.segments import assign_segments, fit_segments, segment_table
from churn_core.segments.report import build_report
from tests.unit.test_segments import planted_table


@pytest.fixture(scope="module")
def report():
    X, _, y = planted_table(k=5, n=200)
    model = fit_segments(X, y=y, k=8, seed=0)  # eight segments: the longest labels
    labels = assign_segments(model, X)
    rng = np.random.default_rng(0)
    tiers = rng.choice(["high", "medium", "low"], len(X))
    return build_report(model, X, labels, y, tiers=tiers, tier_segments=labels), model


def _title(axis) -> str:
    return axis.title.text or ""


def test_every_builder_has_titles_and_units(report):
    rep, model = report
    auto = fit_segments(planted_table()[0], seed=0)
    figs = {
        "overview": cs.overview(rep.summary, rep.overall_rate),
        "tiers": cs.tier_mix(rep.tiers),
        "profile": cs.profile(rep.profile, 0),
        "choice": cs.choice(auto.choice, auto.k),
        "map": cs.segment_map(rep.points),
        "explore": cs.churn_by_segment(rep.summary, rep.overall_rate),
    }
    for name, fig in figs.items():
        assert isinstance(fig, go.Figure) and fig.data, name
        fig.to_json()  # renders
    over = figs["overview"].layout
    assert _title(over.xaxis).startswith("share of customers") and "%" in over.xaxis.tickformat
    assert "churn rate" in _title(over.xaxis2) and "%" in over.xaxis2.tickformat
    assert all(t.yaxis in (None, "y") for t in figs["overview"].data)  # one segment axis
    assert "share" in _title(figs["tiers"].layout.xaxis)
    assert figs["tiers"].layout.xaxis.tickformat == ".0%"
    assert "standard deviations" in _title(figs["profile"].layout.xaxis)
    assert _title(figs["choice"].layout.xaxis) == "number of segments"
    assert "churn rate" in _title(figs["explore"].layout.xaxis)
    assert "%" in figs["explore"].layout.xaxis.tickformat


def test_eight_segment_names_sit_on_the_vertical_axis_wrapped(report):
    rep, model = report
    assert model.k == 8
    for fig in (cs.overview(rep.summary), cs.tier_mix(rep.tiers),
                cs.churn_by_segment(rep.summary)):
        bars = [t for t in fig.data if isinstance(t, go.Bar)]
        assert all(t.orientation == "h" for t in bars)
        for label in bars[0].y:
            assert all(len(line) <= cs.WRAP for line in str(label).split("<br>"))
        assert len(set(bars[0].y)) == model.k


def test_names_are_wrapped_and_escaped(report):
    rep, _ = report
    summary = rep.summary.head(2).assign(
        name=["Frequent, high spend, long-standing customers", "High <b>x</b> spend"])
    y = list(cs.overview(summary).data[0].y)
    assert y[0] == "Frequent, high spend,<br>long-standing customers"
    assert "<b>" not in y[1]


def test_tier_table_chart_counts(report):
    rep, model = report
    t = segment_table(model, np.zeros(3, dtype=int), np.array(["high", "low", "low"]))
    fig = cs.tier_mix(t)
    assert [tr.name for tr in fig.data] == ["high", "medium", "low"]
