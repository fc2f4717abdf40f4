"""Plotly figure builders for campaign reports (pure functions over report tables)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from churn_core.charts import ACCENT, CHURNED, NEUTRAL, RETAINED, _fig

CONTACT_COLOR = RETAINED
CONTROL_COLOR = NEUTRAL


def _errors(value: pd.Series, low: pd.Series, high: pd.Series) -> dict[str, Any]:
    return {"type": "data", "symmetric": False, "array": (high - value).to_numpy(),
            "arrayminus": (value - low).to_numpy()}


def churn_rates(summary: dict[str, Any]) -> go.Figure:
    """Churn rate of the contacted and the control group, with 95 % Wilson intervals.

    Parameters
    ----------
    summary : dict
        :attr:`CampaignReport.summary` (``churn_rate_contact``, ``churn_rate_contact_ci``, ...).
    """
    fig = _fig("Churn rate: contacted vs control", "group", "churn rate (%)",
               yaxis_tickformat=".0%")
    for grp, color in (("contact", CONTACT_COLOR), ("control", CONTROL_COLOR)):
        rate = summary.get(f"churn_rate_{grp}")
        if rate is None or not np.isfinite(rate):
            continue
        low, high = summary[f"churn_rate_{grp}_ci"]
        n = summary[f"n_{grp}"]
        fig.add_bar(x=[f"{grp} (n={n:,})"], y=[rate], marker_color=color, name=grp,
                    error_y={"type": "data", "symmetric": False, "array": [high - rate],
                             "arrayminus": [rate - low]},
                    hovertemplate="%{x}: %{y:.1%}<extra></extra>")
    fig.update_layout(showlegend=False)
    return fig


def uplift_by(table: pd.DataFrame, key: str, *, title: str) -> go.Figure:
    """Uplift in percentage points per ``key`` value, with the 95 % Newcombe interval.

    Parameters
    ----------
    table : DataFrame
        ``CampaignReport.by_decile`` or ``by_segment``.
    key : str
        ``decile`` or ``segment``.
    """
    shown = table[table["uplift_pp"].notna()]
    fig = _fig(title, key, "uplift (percentage points)")
    colors = np.where(shown["uplift_ci_low"] > 0, RETAINED,
                      np.where(shown["uplift_ci_high"] < 0, CHURNED, NEUTRAL))
    fig.add_bar(x=shown[key].astype(str), y=shown["uplift_pp"], marker_color=colors,
                error_y=_errors(shown["uplift_pp"], shown["uplift_ci_low"],
                                shown["uplift_ci_high"]),
                customdata=np.c_[shown["n_contact"], shown["n_control"]],
                hovertemplate=(f"{key} %{{x}}: %{{y:+.1f}} points<br>contact %{{customdata[0]}},"
                               " control %{customdata[1]}<extra></extra>"))
    fig.add_hline(y=0, line_color=NEUTRAL, line_width=1)
    if key == "decile":
        fig.update_xaxes(type="category", title="risk decile (1 = riskiest tenth)")
    return fig


def qini_curve(qini: pd.DataFrame) -> go.Figure:
    """Extra customers kept when contacting the riskiest deciles first, with a bootstrap band.

    A curve above the straight line (random targeting) means the riskiest were also
    the ones the offer saved; a curve that rises late means the offer worked best
    further down the list.
    """
    x = np.r_[0.0, qini["share_targeted"].to_numpy()]
    fig = _fig("Uplift (Qini) curve by risk decile", "share of the list contacted, riskiest first",
               "extra customers kept", xaxis_tickformat=".0%")
    fig.add_scatter(x=x, y=np.r_[0.0, qini["qini_high"].to_numpy()], mode="lines",
                    line={"width": 0}, showlegend=False, hoverinfo="skip")
    fig.add_scatter(x=x, y=np.r_[0.0, qini["qini_low"].to_numpy()], mode="lines",
                    line={"width": 0}, fill="tonexty", fillcolor="rgba(148,103,189,0.2)",
                    name="95 % bootstrap band", hoverinfo="skip")
    fig.add_scatter(x=x, y=np.r_[0.0, qini["qini"].to_numpy()], mode="lines+markers",
                    line={"color": ACCENT}, name="by risk",
                    hovertemplate="%{x:.0%} contacted: %{y:,.0f} kept<extra></extra>")
    fig.add_scatter(x=x, y=np.r_[0.0, qini["random"].to_numpy()], mode="lines",
                    line={"color": NEUTRAL, "dash": "dash"}, name="random order")
    return fig


def ranking_profit(curve: pd.DataFrame) -> go.Figure:
    """Profit of contacting the top share of a campaign's members, ranked by risk or by uplift.

    Parameters
    ----------
    curve : DataFrame
        :attr:`churn_core.campaigns.uplift.UpliftComparison.curve`.
    """
    x = np.r_[0.0, curve["share"].to_numpy()]
    fig = _fig("Profit by ranking, on the finished campaign's outcomes",
               "share of the list contacted", "profit", xaxis_tickformat=".0%")
    fig.add_scatter(x=x, y=np.r_[0.0, curve["profit_by_risk"].to_numpy()], mode="lines+markers",
                    name="ranked by risk", line={"color": CHURNED})
    fig.add_scatter(x=x, y=np.r_[0.0, curve["profit_by_uplift"].to_numpy()],
                    mode="lines+markers", name="ranked by expected uplift",
                    line={"color": RETAINED})
    fig.add_hline(y=0, line_color=NEUTRAL, line_width=1)
    return fig
