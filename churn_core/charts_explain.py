"""Plotly figures of the explanations, in percentage points of churn probability.

Inputs come from :mod:`churn_core.explain_points` (contributions rescaled from SHAP
log-odds so that they add up to the calibrated probability); every feature is named by
its label in words, never by its raw column name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from churn_core.chart_style import CHURNED, NEUTRAL, RETAINED, base_figure, text, wrap

__all__ = ["beeswarm", "dependence", "importance", "waterfall"]
MAX_POINTS = 50_000
POINTS = "pp = percentage points"


def _sample(n: int, max_points: int, seed: int) -> np.ndarray:
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


def _name(feature: object, labels: Mapping[str, str] | None) -> str:
    return text((labels or {}).get(str(feature), str(feature)))


def importance(table: pd.DataFrame, *, top: int = 20) -> go.Figure:
    """Mean absolute contribution per feature in points (``point_importance`` output)."""
    t = table.head(top).iloc[::-1]
    fig = base_figure("What drives churn risk overall", f"average effect on churn ({POINTS})",
                      "feature",
                      height=max(300, 24 * len(t) + 110), xaxis_ticksuffix=" pp")
    fig.add_trace(go.Bar(x=t["mean_abs_points"], y=[text(v) for v in t["label"]],
                         orientation="h", marker_color=CHURNED, hovertext=t["direction"],
                         hovertemplate="%{y}: %{x:.1f} points<br>%{hovertext}<extra></extra>"))
    return fig


def _color_values(values: pd.Series) -> np.ndarray:
    """Feature values scaled to 0..1 by rank within the column (categories by code)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        v = values.cat.codes.to_numpy(dtype=float)
        v[v < 0] = np.nan
    else:
        v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    ranks = pd.Series(v).rank(pct=True).to_numpy()
    return np.where(np.isnan(ranks), 0.5, ranks)


def beeswarm(points: pd.DataFrame, values: pd.DataFrame, features: Sequence[str], *,
             labels: Mapping[str, str] | None = None, max_points: int = MAX_POINTS,
             seed: int = 42) -> go.Figure:
    """Beeswarm summary in points: one jittered row of dots per feature, WebGL.

    Dots are coloured by the feature value's rank (blue = low, red = high); at most
    ``max_points`` dots in all. ``labels`` maps a feature to its name in words.
    """
    feats = list(features)[::-1]
    per = max(max_points // max(len(feats), 1), 1)
    rows = _sample(len(points), per, seed)
    rng = np.random.default_rng(seed)
    fig = base_figure("How each feature moves risk (each dot is a customer)",
                      f"effect on churn ({POINTS})", "feature",
                      height=max(350, 28 * len(feats) + 120), xaxis_ticksuffix=" pp")
    for i, f in enumerate(feats):
        c = points[f].to_numpy(dtype=float)[rows]
        col = _color_values(values[f].iloc[rows])
        fig.add_trace(go.Scattergl(
            x=c, y=i + rng.uniform(-0.3, 0.3, size=c.size), mode="markers",
            marker={"size": 4, "color": col, "colorscale": "RdBu_r", "cmin": 0, "cmax": 1,
                    "showscale": i == 0,
                    "colorbar": {"title": "feature value", "tickvals": [0, 1],
                                 "ticktext": ["low", "high"]}},
            name=_name(f, labels), showlegend=False, hoverinfo="x+name"))
    fig.update_yaxes(tickvals=list(range(len(feats))), ticktext=[_name(f, labels) for f in feats])
    fig.add_vline(x=0, line_color=NEUTRAL)
    return fig


def dependence(points: pd.DataFrame, values: pd.DataFrame, feature: str, *,
               label: str | None = None, max_points: int = MAX_POINTS,
               seed: int = 42) -> go.Figure:
    """A feature's value against its effect in points for a sample of customers, WebGL."""
    rows = _sample(len(points), max_points, seed)
    x = values[feature].iloc[rows]
    if isinstance(x.dtype, pd.CategoricalDtype):
        x = x.astype("object").where(x.notna(), "(missing)").astype(str)
    c = points[feature].to_numpy(dtype=float)[rows]
    name = label or str(feature)
    fig = base_figure(f"Effect of {name} on churn risk", name,
                      f"effect on churn ({POINTS})", yaxis_ticksuffix=" pp")
    # Two single-colour traces: a colour string per point makes plotly validate each one.
    for up, colour, what in ((True, CHURNED, "raises risk"), (False, RETAINED, "lowers risk")):
        pick = (c > 0) == up
        fig.add_trace(go.Scattergl(x=x[pick], y=c[pick], mode="markers", name=what,
                                   marker={"size": 5, "opacity": 0.5, "color": colour},
                                   hoverinfo="x+y"))
    fig.add_hline(y=0, line_color=NEUTRAL)
    return fig


def waterfall(table: pd.DataFrame, *, base_probability: float) -> go.Figure:
    """One customer's probability built up from the average customer's, in points.

    ``table`` is ``explain_points.row_points`` output (``text`` and ``points``); the bars
    start at ``100 * base_probability`` and end at the customer's probability.
    """
    t = table.iloc[::-1]
    names = [wrap(s, 40) for s in t["text"]]
    start = 100.0 * float(base_probability)
    end = start + float(t["points"].sum())
    fig = base_figure("Why this customer got this score", "churn probability (%)", "reason",
                      height=max(300, 38 * len(t) + 150), xaxis_ticksuffix=" %")
    fig.add_trace(go.Waterfall(
        orientation="h",
        y=[f"average customer ({start:.0f} %)", *names, f"this customer ({end:.0f} %)"],
        x=[start, *t["points"].to_numpy(dtype=float), 0.0],
        measure=["absolute", *["relative"] * len(t), "total"],
        text=[f"{start:.1f} %", *[f"{v:+.1f} pp" for v in t["points"]], f"{end:.1f} %"],
        textposition="outside", cliponaxis=False,
        increasing={"marker": {"color": CHURNED}}, decreasing={"marker": {"color": RETAINED}},
        totals={"marker": {"color": NEUTRAL}}))
    fig.update_yaxes(automargin=True)
    return fig
