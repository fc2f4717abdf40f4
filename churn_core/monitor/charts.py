"""Plotly figures for the Monitor page, built from :func:`runs.history_frame` and
:attr:`drift.DriftReport.table` (pure functions, no UI)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from churn_core.charts import ACCENT, CHURNED, NEUTRAL, RETAINED

_LAYOUT = {"margin": {"l": 60, "r": 20, "t": 50, "b": 50}}


def _label(history: pd.DataFrame) -> list[str]:
    return [f"{t[:16].replace('T', ' ')} ({r[:6]})"
            for t, r in zip(history["created_at"], history["run_id"], strict=True)]


def score_distribution(history: pd.DataFrame) -> go.Figure:
    """Box per run from the stored score quantiles (whiskers: 5th and 95th percentiles)."""
    fig = go.Figure(go.Box(
        x=_label(history), q1=history["score_q0.25"], median=history["score_q0.5"],
        q3=history["score_q0.75"], lowerfence=history["score_q0.05"],
        upperfence=history["score_q0.95"], marker_color=ACCENT, name="churn probability",
        hoverinfo="x+y"))
    fig.update_layout(title="Score distribution by run (box: quartiles; whiskers: 5-95 %)",
                      xaxis_title="run", yaxis_title="churn probability",
                      yaxis_range=[0, 1], **_LAYOUT)
    return fig


def auc_over_time(history: pd.DataFrame) -> go.Figure:
    """Estimated ROC-AUC with its 95 % interval, and realised ROC-AUC where outcomes exist."""
    x = _label(history)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=history["estimated_auc_high"], mode="lines",
                             line={"width": 0}, showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=x, y=history["estimated_auc_low"], mode="lines",
                             line={"width": 0}, fill="tonexty",
                             fillcolor="rgba(31,119,180,0.15)", name="95 % interval"))
    fig.add_trace(go.Scatter(x=x, y=history["estimated_auc"], mode="lines+markers",
                             line={"color": RETAINED}, name="estimated (no labels)"))
    realised = history["realised_auc"].notna()
    if realised.any():
        fig.add_trace(go.Scatter(x=[v for v, k in zip(x, realised, strict=True) if k],
                                 y=history.loc[realised, "realised_auc"], mode="markers",
                                 marker={"color": CHURNED, "size": 10, "symbol": "diamond"},
                                 name="realised (outcomes known)"))
    fig.update_layout(title="ROC-AUC over runs: estimated vs realised", xaxis_title="run",
                      yaxis_title="ROC-AUC", **_LAYOUT)
    return fig


def drift_effects(table: pd.DataFrame) -> go.Figure:
    """Each column's effect size relative to its minimum (1 = the smallest that counts)."""
    ratio = (table["effect"] / table["min_effect"]).fillna(0.0)
    order = ratio.sort_values().index
    colors = [CHURNED if d else NEUTRAL for d in table.loc[order, "drifted"]]
    fig = go.Figure(go.Bar(x=ratio[order], y=table.loc[order, "feature"], orientation="h",
                           marker_color=colors,
                           hovertext=[f"{n} {e:.3f}" for n, e in
                                      zip(table.loc[order, "effect_name"],
                                          table.loc[order, "effect"].fillna(0.0), strict=True)]))
    fig.add_vline(x=1.0, line_dash="dash", line_color=NEUTRAL)
    fig.update_layout(title="Effect size per column (red: drifted; dashed: minimum)",
                      xaxis_title="effect size / minimum that counts", yaxis_title="column",
                      height=max(300, 22 * len(table) + 100), **_LAYOUT)
    return fig
