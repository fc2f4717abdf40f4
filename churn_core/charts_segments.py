"""Plotly figure builders for segments (pure functions over ``SegmentReport`` tables).

Segment names are long ("Lapsed, one-time, low spend"), so every chart that lists
segments puts them on the vertical axis (horizontal bars), wrapped at
:data:`WRAP` characters: eight segments never overlap their labels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from churn_core.chart_style import (
    ACCENT,
    CHURNED,
    NEUTRAL,
    RETAINED,
    TIER_COLORS,
    base_figure,
    percent_axis,
    text,
    wrap,
)

WRAP = 26
_fig = base_figure


def _top(values: pd.Series) -> float:
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    return float(v.max()) if v.size else 1.0


def _labels(summary: pd.DataFrame) -> list[str]:
    return [wrap(n, WRAP) for n in summary["name"]]


def _height(rows: int) -> int:
    return max(280, 58 * rows + 120)


def choice(table: pd.DataFrame, chosen_k: int) -> go.Figure:
    """How each number of segments scored (``SegmentModel.choice``): the score and its
    parts, k too small to act on greyed out."""
    fig = _fig("Choosing the number of segments", "number of segments",
               "score (higher = better)", height=320)
    fig.update_xaxes(dtick=1)
    parts = (("score", "score", ACCENT), ("silhouette", "clarity (silhouette)", NEUTRAL),
             ("separation", "churn separation", CHURNED))
    for col, name, color in parts:
        fig.add_trace(go.Scatter(x=table["k"], y=table[col], mode="lines+markers", name=name,
                                 line={"color": color, "dash": "solid" if col == "score"
                                       else "dot"}))
    small = table[~table["eligible"].astype(bool)]
    if len(small):
        fig.add_trace(go.Scatter(x=small["k"], y=small["score"], mode="markers",
                                 marker={"symbol": "x", "size": 12, "color": NEUTRAL},
                                 name="a segment under 5 % of customers"))
    fig.add_vline(x=chosen_k, line_dash="dot", line_color=NEUTRAL,
                  annotation_text=f"chosen: {chosen_k}")
    return fig


def overview(summary: pd.DataFrame, overall: float | None = None) -> go.Figure:
    """Share of customers and churn rate (with its 95 % interval) per segment, side by
    side on one segment axis (``SegmentReport.summary``)."""
    y = _labels(summary)
    fig = _fig("Segments: size and churn rate", "", "segment", showlegend=False,
               height=_height(len(summary)),
               xaxis={**percent_axis(_top(summary["share"]), title="share of customers",
                                     most=5), "domain": [0.0, 0.44]},
               xaxis2={**percent_axis(max(_top(summary["churn_hi"]), overall or 0.0),
                                      title="churn rate, 95 % interval", most=5),
                       "domain": [0.56, 1.0], "anchor": "y"})
    fig.add_trace(go.Bar(x=summary["share"], y=y, orientation="h", marker_color=RETAINED,
                         name="share", customdata=summary["size"],
                         hovertemplate="%{y}: %{x:.1%} (%{customdata:,} customers)"
                         "<extra></extra>"))
    rate = summary["churn_rate"]
    fig.add_trace(go.Bar(
        x=rate, y=y, orientation="h", marker_color=CHURNED, name="churn rate", xaxis="x2",
        error_x={"type": "data", "symmetric": False,
                 "array": (summary["churn_hi"] - rate).to_numpy(),
                 "arrayminus": (rate - summary["churn_lo"]).to_numpy()},
        hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    if overall is not None and np.isfinite(overall):
        fig.add_shape(type="line", xref="x2", yref="paper", x0=overall, x1=overall, y0=0, y1=1,
                      line={"dash": "dot", "color": NEUTRAL})
        fig.add_annotation(x=overall, xref="x2", y=1.0, yref="paper", yanchor="bottom",
                           text=f"overall {overall:.0%}", showarrow=False)
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def tier_mix(tiers: pd.DataFrame) -> go.Figure:
    """Segments x risk tier: the share of each segment's customers to act on in the
    high, medium and low tier, stacked (``SegmentReport.tiers``)."""
    y = _labels(tiers)
    fig = _fig("Segments x risk tier (customers to act on)", "", "segment", barmode="stack",
               height=_height(len(tiers)),
               xaxis=percent_axis(1.0, title="share of the segment's customers", most=6))
    for tier in ("high", "medium", "low"):
        fig.add_trace(go.Bar(x=tiers[f"{tier}_share"], y=y, orientation="h", name=tier,
                             marker_color=TIER_COLORS[tier], customdata=tiers[tier],
                             hovertemplate="%{y}<br>" + tier + ": %{x:.1%} "
                             "(%{customdata:,} customers)<extra></extra>"))
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig


def profile(profile_table: pd.DataFrame, segment: int, *, top: int = 8) -> go.Figure:
    """One segment's profile: how far its mean of each column is from everybody's, in
    standard deviations (``SegmentReport.profile``), the largest differences first."""
    part = profile_table[profile_table["segment"] == segment]
    part = part.reindex(part["z"].abs().sort_values(ascending=False).index).head(top)
    name = str(part["name"].iloc[0]) if len(part) else ""
    fig = _fig(name, "difference from the average customer (standard deviations)",
               "segment column", height=max(220, 34 * len(part) + 120))
    colors = [CHURNED if z > 0 else RETAINED for z in part["z"]]
    hover = [f"{text(lab)}: {m:,.3g} here vs {o:,.3g} overall" for lab, m, o in
             zip(part["label"], part["mean"], part["overall"], strict=True)]
    fig.add_trace(go.Bar(x=part["z"], y=[wrap(v, 32) for v in part["label"]], orientation="h",
                         marker_color=colors, hovertext=hover, hoverinfo="text"))
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(range=[-3.2, 3.2], zeroline=True)
    return fig


def segment_map(points: pd.DataFrame) -> go.Figure:
    """Customers on a 2-D map (PCA of the segment columns), coloured by segment."""
    fig = _fig("Customers on a 2-D map of the segment columns", "component 1", "component 2",
               height=480, legend={"orientation": "h", "y": -0.2})
    for _, part in points.groupby("segment", sort=True):
        fig.add_trace(go.Scattergl(x=part["x"], y=part["y"], mode="markers",
                                   marker={"size": 4, "opacity": 0.6},
                                   name=text(part["name"].iloc[0])))
    return fig


def churn_by_segment(summary: pd.DataFrame, overall: float | None = None) -> go.Figure:
    """Churn rate per segment with its 95 % interval, horizontal (Explore page)."""
    y = _labels(summary)
    rate = summary["churn_rate"]
    fig = _fig("Churn rate by segment", "", "segment", height=_height(len(summary)),
               xaxis=percent_axis(max(_top(summary["churn_hi"]), overall or 0.0),
                                  title="churn rate, 95 % interval"))
    fig.add_trace(go.Bar(
        x=rate, y=y, orientation="h", marker_color=CHURNED, customdata=summary["labelled"],
        error_x={"type": "data", "symmetric": False,
                 "array": (summary["churn_hi"] - rate).to_numpy(),
                 "arrayminus": (rate - summary["churn_lo"]).to_numpy()},
        hovertemplate="%{y}: %{x:.1%} of %{customdata:,}<extra></extra>"))
    if overall is not None and np.isfinite(overall):
        fig.add_vline(x=overall, line_dash="dot", line_color=NEUTRAL,
                      annotation_text=f"overall {overall:.0%}")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig
