"""Plotly figures of the money analysis: the profit curve with its band, and the tornado.

Pure functions over :class:`~churn_core.money.bootstrap.ProfitBand` and the
table of :func:`~churn_core.money.sensitivity.sensitivity_table`; colours
follow :mod:`churn_core.charts`.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from churn_core.charts import ACCENT, CHURNED, NEUTRAL, RETAINED
from churn_core.money.bootstrap import ProfitBand

_LAYOUT = {"margin": {"l": 70, "r": 20, "t": 60, "b": 50}}
BAND_FILL = "rgba(31, 119, 180, 0.2)"


def _money(currency: str) -> str:
    return f"expected profit ({currency})" if currency else "expected profit (money)"


def profit_band_figure(band: ProfitBand, *, currency: str = "",
                       by_share: bool = True) -> go.Figure:
    """Profit by customers contacted, with the bootstrap band, optima, capacity and budget.

    Parameters
    ----------
    band : ProfitBand
    currency : str
        Unit written on the money axis (e.g. "EUR"); empty: "money".
    by_share : bool, default True
        x axis as the share of customers contacted (%), else their number.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    t = band.table
    curve = band.curve
    x = t["share"] * 100 if by_share else t["contacted"]
    unit = 100 / (curve.n * curve.scale) if by_share else 1.0
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=t["high"], mode="lines", line={"width": 0},
                             hoverinfo="skip", showlegend=False))
    fig.add_trace(go.Scatter(x=x, y=t["low"], mode="lines", line={"width": 0},
                             fill="tonexty", fillcolor=BAND_FILL,
                             name=f"{band.level:.0%} bootstrap band"))
    fig.add_trace(go.Scatter(x=x, y=t["profit"], mode="lines", line={"color": RETAINED},
                             name="expected profit"))
    fig.add_hline(y=0, line={"color": NEUTRAL, "width": 1})
    free, best = curve.best, curve.best_constrained
    fig.add_trace(go.Scatter(
        x=[best.contacted * unit], y=[best.profit], mode="markers",
        marker={"color": CHURNED, "size": 11, "symbol": "diamond"},
        error_y={"type": "data", "symmetric": False,
                 "array": [max(band.best_profit_high - best.profit, 0.0)],
                 "arrayminus": [max(best.profit - band.best_profit_low, 0.0)]},
        name="best within limits" if best.limited_by else "best"))
    if best.limited_by:
        fig.add_trace(go.Scatter(x=[free.contacted * unit], y=[free.profit], mode="markers",
                                 marker={"color": ACCENT, "size": 9}, name="best without limits"))
        fig.add_vline(x=curve.limit * unit, line={"color": NEUTRAL, "dash": "dash"},
                      annotation_text=f"{best.limited_by} limit")
    xt = "customers contacted (% of all, riskiest first)" if by_share else \
        "customers contacted (riskiest first)"
    if curve.ranking == "value_at_risk":
        xt = xt.replace("riskiest", "most value at risk")
    fig.update_layout(title="Profit is reliable" if band.reliable else "No profit is reliable",
                      xaxis_title=xt, yaxis_title=_money(currency),
                      xaxis_ticksuffix=" %" if by_share else "",
                      legend={"orientation": "h", "y": -0.2}, **_LAYOUT)
    return fig


def tornado_figure(table: pd.DataFrame, *, currency: str = "") -> go.Figure:
    """Tornado chart: the best profit with each input low and high (largest swing on top).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`churn_core.money.sensitivity.sensitivity_table`.
    currency : str
        Unit written on the money axis.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    t = table.iloc[::-1]               # plotly draws the first category at the bottom
    base = float(t["best_base"].iloc[0]) if len(t) else 0.0

    def label(r: pd.Series) -> str:
        if r["input"] == "value":
            return f"{r['label']} (x{r['low']:.2f} / x{r['high']:.2f})"
        return f"{r['label']} ({r['low']:.3g} / {r['high']:.3g})"

    names = [label(r) for _, r in t.iterrows()]
    fig = go.Figure()
    for side, color in (("low", RETAINED), ("high", CHURNED)):
        fig.add_trace(go.Bar(y=names, x=t[f"best_{side}"] - base, base=base, orientation="h",
                             marker_color=color, name=f"input {side}",
                             customdata=t[f"best_{side}"],
                             hovertemplate="%{y}: profit %{customdata:,.0f}<extra></extra>"))
    fig.add_vline(x=base, line={"color": NEUTRAL, "width": 1})
    fig.update_layout(title="What moves the best profit most", barmode="overlay",
                      xaxis_title=f"best {_money(currency)}", yaxis_title="input (low / high)",
                      **_LAYOUT)
    return fig
