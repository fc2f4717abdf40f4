"""Plotly figure builders over the library's result tables (pure functions, no UI).

Every builder takes a DataFrame or result object produced elsewhere in
``churn_core`` and returns a :class:`plotly.graph_objects.Figure`. Colours are
fixed so that churned/retained and the risk tiers look the same on every
chart; scatter plots use WebGL (``Scattergl``) and sample down to
``MAX_POINTS`` so that no figure ships more than ~50k points to the browser.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from churn_core.chart_style import (
    ACCENT,
    CHURNED,
    LABEL_COLORS,
    LAYOUT,
    NEUTRAL,
    RETAINED,
    TIER_COLORS,
    base_figure,
    category_axis,
    percent_axis,
    text,
)

__all__ = ["ACCENT", "CHURNED", "LABEL_COLORS", "MAX_POINTS", "NEUTRAL", "RETAINED",
           "TIER_COLORS", "calibration", "churn_rate_by", "confusion", "cutoff_summary",
           "distribution_by_label", "label_correlation", "lift_gain", "missingness",
           "pr_curve", "profit_curve", "roc_curve", "score_histogram", "tier_counts"]
MAX_POINTS = 50_000
MISSING_LEVEL = "(missing)"
_fig = base_figure  # the campaign charts' name for it
# a legend in one row between the title and the plot: beside it, it takes half of a
# narrow chart's width
_TOP_LEGEND = {"legend": {"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom"},
               "margin": {"l": 60, "r": 20, "t": 90, "b": 50}}


def _sample(n: int, max_points: int, seed: int) -> np.ndarray:
    """Row positions to draw: all of them, or a random subset of ``max_points``."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


# -- exploration -----------------------------------------------------------------------------
def churn_rate_by(table: pd.DataFrame, column: str, *, overall: float | None = None,
                  numeric: bool = False) -> go.Figure:
    """Churn rate per level with its 95 % interval (``eda.churn_rate_by`` output).

    Categories are bars with error bars; binned numbers a line with a band, and the
    "(missing)" bin a separate marker that no line joins to the numbers.
    """
    top = float(np.nanmax(table["hi"])) if len(table) else 1.0
    if overall is not None and np.isfinite(overall):
        top = max(top, float(overall))
    fig = base_figure(f"Churn rate by {column}", column, "",
                      # no legend: the "(missing)" tick names the marker, and beside or
                      # above a narrow chart three entries crowd the plot or its title
                      yaxis=percent_axis(top, title="churn rate"), showlegend=False)
    levels = table["level"].astype(str)
    hover = [f"{lv}: {r:.1%} of {n:,}" for lv, r, n in zip(levels, table["rate"], table["n"],
                                                          strict=True)]
    if numeric:
        gap = (levels == MISSING_LEVEL).to_numpy()
        bins, miss = table[~gap], table[gap]
        x = levels[~gap]
        fig.add_trace(go.Scatter(x=x, y=bins["hi"], mode="lines", line={"width": 0},
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=bins["lo"], mode="lines", line={"width": 0},
                                 fill="tonexty", fillcolor="rgba(214,39,40,0.15)",
                                 name="95 % interval", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=x, y=bins["rate"], mode="lines+markers",
                                 line={"color": CHURNED}, name="churn rate",
                                 hovertext=[h for h, g in zip(hover, gap, strict=True) if not g],
                                 hoverinfo="text"))
        if len(miss):
            fig.add_trace(go.Scatter(
                x=[MISSING_LEVEL], y=miss["rate"], mode="markers", name="value missing",
                marker={"color": NEUTRAL, "size": 11, "symbol": "diamond"},
                error_y={"type": "data", "symmetric": False,
                         "array": (miss["hi"] - miss["rate"]).to_numpy(),
                         "arrayminus": (miss["rate"] - miss["lo"]).to_numpy()},
                hovertext=[h for h, g in zip(hover, gap, strict=True) if g], hoverinfo="text"))
    else:
        fig.add_trace(go.Bar(
            x=levels, y=table["rate"], marker_color=CHURNED, name="churn rate",
            error_y={"type": "data", "symmetric": False,
                     "array": (table["hi"] - table["rate"]).to_numpy(),
                     "arrayminus": (table["rate"] - table["lo"]).to_numpy()},
            hovertext=hover, hoverinfo="text"))
    if overall is not None and np.isfinite(overall):
        # label at the left end: the "(missing)" marker sits at the right
        fig.add_hline(y=overall, line_dash="dot", line_color=NEUTRAL,
                      annotation_text=f"overall {overall:.1%}", annotation_position="top left")
    fig.update_xaxes(**category_axis(levels))
    return fig


def distribution_by_label(sample: pd.DataFrame, column: str) -> go.Figure:
    """Histogram of a column split by churned/stayed (``eda.distribution_by_label`` output)."""
    fig = base_figure(f"Distribution of {column}", column, "share of customers (%)",
                      barmode="overlay", yaxis_tickformat=".0%", **_TOP_LEGEND)
    for label, color in LABEL_COLORS.items():
        values = sample.loc[sample["label"] == label, "value"]
        fig.add_trace(go.Histogram(x=values, name=label, marker_color=color, opacity=0.6,
                                   histnorm="probability"))
    return fig


def missingness(table: pd.DataFrame, *, top: int = 30) -> go.Figure:
    """Share of missing values per column (``eda.missingness`` output)."""
    t = table[table["missing"] > 0].head(top).iloc[::-1]
    fig = base_figure("Missing values per column", "missing (%)", "column",
                      height=max(250, 22 * len(t) + 100), xaxis_ticksuffix=" %")
    fig.add_trace(go.Bar(x=t["missing_pct"], y=[text(c) for c in t["column"]], orientation="h",
                         marker_color=NEUTRAL, hovertext=[f"{m:,} missing" for m in t["missing"]]))
    return fig


def label_correlation(table: pd.DataFrame, *, top: int = 25) -> go.Figure:
    """Association of each feature with churn (``eda.label_correlation`` output), two panels.

    Numbers: signed point-biserial correlation (-1..1, red = higher goes with churn);
    categories: Cramér's V (0..1, no sign). They are different scales, so each has its own
    panel and axis.
    """
    t = table.head(top)
    num = t[t["method"] != "cramers_v"].iloc[::-1]
    cat = t[t["method"] == "cramers_v"].iloc[::-1]
    # one panel above the other, each as tall as its bars: titles and labels never collide
    heights = [max(len(num), 1), max(len(cat), 1)]
    fig = make_subplots(rows=2, cols=1, vertical_spacing=0.18,
                        row_heights=[h / sum(heights) for h in heights],
                        subplot_titles=("Number columns", "Category columns"))
    fig.add_trace(go.Bar(x=num["correlation"], y=[text(c) for c in num["column"]],
                         orientation="h", name="correlation",
                         hovertext=["higher values go with churn" if v > 0 else
                                    "lower values go with churn" for v in num["correlation"]],
                         marker_color=[CHURNED if v > 0 else RETAINED
                                       for v in num["correlation"]]), row=1, col=1)
    fig.add_trace(go.Bar(x=cat["correlation"], y=[text(c) for c in cat["column"]],
                         orientation="h", name="Cramér's V", marker_color=ACCENT),
                  row=2, col=1)
    fig.update_xaxes(title_text="correlation (-1 to 1)",
                     row=1, col=1, automargin=True)
    fig.update_xaxes(title_text="Cramér's V (0 to 1)", row=2, col=1,
                     automargin=True, rangemode="tozero")
    fig.update_yaxes(title_text="number column", row=1, col=1, automargin=True)
    fig.update_yaxes(title_text="category column", row=2, col=1, automargin=True)
    fig.update_layout(title="Association with churn", showlegend=False,
                      height=max(360, 22 * sum(heights) + 220), **LAYOUT)
    return fig


# -- segments --------------------------------------------------------------------------------
def roc_curve(roc: pd.DataFrame, *, auc: float, baseline_auc: float | None = None) -> go.Figure:
    """ROC curve (``Evaluation.roc``) with the chance diagonal."""
    fig = base_figure(f"ROC curve (AUC {auc:.3f})", "false positive rate (%)",
                      "true positive rate (%)", xaxis_tickformat=".0%", yaxis_tickformat=".0%")
    fig.add_trace(go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines", name="model",
                             line={"color": CHURNED}))
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="chance",
                             line={"color": NEUTRAL, "dash": "dot"}))
    if baseline_auc is not None and np.isfinite(baseline_auc):
        fig.add_annotation(x=0.7, y=0.1, showarrow=False,
                           text=f"baseline (logistic) AUC {baseline_auc:.3f}")
    return fig


def pr_curve(pr: pd.DataFrame, *, pr_auc: float, base_rate: float) -> go.Figure:
    """Precision-recall curve (``Evaluation.pr``) with the base rate."""
    fig = base_figure(f"Precision-recall (AP {pr_auc:.3f})", "recall (%)", "precision (%)",
                      xaxis_tickformat=".0%", yaxis_tickformat=".0%")
    fig.add_trace(go.Scatter(x=pr["recall"], y=pr["precision"], mode="lines", name="model",
                             line={"color": CHURNED}))
    fig.add_hline(y=base_rate, line_dash="dot", line_color=NEUTRAL,
                  annotation_text=f"base rate {base_rate:.1%}")
    return fig


def calibration(table: pd.DataFrame) -> go.Figure:
    """Predicted vs observed churn rate per bin (``Evaluation.calibration``)."""
    fig = base_figure("Calibration", "predicted churn probability (%)",
                      "observed churn rate (%)", xaxis_tickformat=".0%", yaxis_tickformat=".0%")
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect",
                             line={"color": NEUTRAL, "dash": "dot"}))
    fig.add_trace(go.Scatter(x=table["mean_predicted"], y=table["observed_rate"],
                             mode="lines+markers", name="model", line={"color": CHURNED},
                             hovertext=[f"{c:,} customers" for c in table["count"]]))
    return fig


def lift_gain(table: pd.DataFrame) -> go.Figure:
    """Lift per decile (bars) and cumulative gain (line) (``Evaluation.lift``)."""
    fig = base_figure("Lift and cumulative gain by risk decile", "risk decile (1 = riskiest tenth)",
                      "lift",
               yaxis2={**percent_axis(1.0, title="share of churners caught"),
                       "overlaying": "y", "side": "right", "showgrid": False},
               legend={"orientation": "h", "y": -0.25})
    fig.add_trace(go.Bar(x=table["decile"], y=table["lift"], name="lift", marker_color=CHURNED))
    fig.add_trace(go.Scatter(x=table["decile"], y=table["cumulative_gain"], yaxis="y2",
                             mode="lines+markers", name="cumulative gain",
                             line={"color": RETAINED}))
    fig.add_hline(y=1, line_dash="dot", line_color=NEUTRAL)
    return fig


def confusion(tp: int, fp: int, fn: int, tn: int, *, threshold: float) -> go.Figure:
    """2x2 confusion matrix at one threshold."""
    z = [[tp, fn], [fp, tn]]
    text = [[f"caught churners<br>{tp:,}", f"missed churners<br>{fn:,}"],
            [f"false alarms<br>{fp:,}", f"correctly left alone<br>{tn:,}"]]
    fig = base_figure(f"Confusion matrix at threshold {threshold:.2f} (test customers)",
               "predicted", "actual")
    fig.add_trace(go.Heatmap(z=z, x=["flagged", "not flagged"], y=["churned", "stayed"],
                             text=text, texttemplate="%{text}", colorscale="Blues",
                             showscale=False, hoverinfo="skip"))
    fig.update_yaxes(autorange="reversed")
    return fig


# -- threshold and alerts --------------------------------------------------------------------
BEST_COLOR = "#2ca02c"


def profit_curve(profit: pd.DataFrame, *, best: float, current: float) -> go.Figure:
    """Expected profit by threshold (``ThresholdCurve.profit`` output) with the optimum marked."""
    fig = base_figure("Expected campaign profit by threshold", "threshold (churn probability)",
               "expected profit")
    fig.add_trace(go.Scatter(x=profit["threshold"], y=profit["profit"], mode="lines",
                             line={"color": ACCENT}, name="profit"))
    # Lines and labels go straight into the layout: add_vline/add_hline cost ~50 ms per
    # slider move at 1M customers, this costs almost nothing.
    paper_y = {"xref": "x", "yref": "paper", "y0": 0, "y1": 1}
    fig.update_layout(
        shapes=[
            {"type": "line", "x0": best, "x1": best, **paper_y,
             "line": {"color": BEST_COLOR, "dash": "dash"}},
            {"type": "line", "x0": current, "x1": current, **paper_y,
             "line": {"color": CHURNED}},
            {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "yref": "y", "y0": 0, "y1": 0,
             "line": {"color": NEUTRAL, "dash": "dot"}},
        ],
        annotations=[
            {"x": best, "y": 0, "xref": "x", "yref": "paper", "text": f"best {best:.2f}",
             "showarrow": False, "xanchor": "left", "yanchor": "bottom"},
            {"x": current, "y": 1, "xref": "x", "yref": "paper",
             "text": f"chosen {current:.2f}", "showarrow": False, "xanchor": "left",
             "yanchor": "top"},
        ],
        xaxis_range=[0, 1],
    )
    top = float(profit["profit"].max()) if len(profit) else 0.0
    if top > 0:  # flagging everyone can lose far more than the best campaign earns
        low = max(float(profit["profit"].min()), -top)
        fig.update_yaxes(range=[1.1 * min(low, 0.0), 1.1 * top])
    return fig


def tier_counts(counts: pd.Series) -> go.Figure:
    """Customers per risk tier (index high/medium/low)."""
    tiers = [t for t in ("high", "medium", "low") if t in counts.index]
    fig = base_figure("Customers per risk tier", "risk tier", "customers")
    fig.add_trace(go.Bar(x=tiers, y=[int(counts[t]) for t in tiers],
                         marker_color=[TIER_COLORS[t] for t in tiers],
                         text=[f"{int(counts[t]):,}" for t in tiers], textposition="auto"))
    return fig


def score_histogram(scores: np.ndarray, *, threshold: float, bins: int = 50) -> go.Figure:
    """Distribution of churn probabilities with the threshold.

    Binned here, so the browser gets ``bins`` bars (about 2 KB) instead of every
    score (12 MB at a million customers).
    """
    counts, edges = np.histogram(np.asarray(scores, dtype=float), bins=bins, range=(0.0, 1.0))
    fig = base_figure("Churn probability of every customer", "churn probability (%)",
                      "customers", xaxis_tickformat=".0%")
    fig.add_trace(go.Bar(x=(edges[:-1] + edges[1:]) / 2, y=counts, width=1.0 / bins,
                         marker_color=RETAINED, name="customers"))
    fig.update_layout(
        shapes=[{"type": "line", "x0": threshold, "x1": threshold, "xref": "x",
                 "yref": "paper", "y0": 0, "y1": 1, "line": {"color": CHURNED}}],
        annotations=[{"x": threshold, "y": 1, "xref": "x", "yref": "paper",
                      "text": f"threshold {threshold:.2f}", "showarrow": False,
                      "xanchor": "left", "yanchor": "top"}],
        xaxis_range=[0, 1])
    return fig


# -- event log -------------------------------------------------------------------------------
def cutoff_summary(table: pd.DataFrame) -> go.Figure:
    """Active customers (bars) and churn rate (line) per cutoff (``events.cutoff_summary``)."""
    rates = pd.to_numeric(table["churn_rate"], errors="coerce")
    top = float(np.nanmax(rates)) if rates.notna().any() else 1.0
    counts = pd.to_numeric(table["active_customers"], errors="coerce")
    most = float(counts.max()) if counts.notna().any() else 1.0
    fig = base_figure("Customers and churn rate per cutoff", "cutoff", "active customers",
                      # room above the tallest bar: the top tick label is never clipped
                      yaxis={"range": [0, 1.12 * max(most, 1.0)], "rangemode": "tozero"},
                      yaxis2={**percent_axis(top, title="churn rate"), "overlaying": "y",
                              "side": "right", "showgrid": False},
                      legend={"orientation": "h", "y": -0.25},
                      margin={"l": 60, "r": 60, "t": 70, "b": 60})
    x = pd.to_datetime(table["cutoff"])
    known = table["outcome_known"].astype(bool).to_numpy()
    fig.add_trace(go.Bar(x=x, y=table["active_customers"], name="active customers",
                         marker_color=np.where(known, RETAINED, "#c7c7c7").tolist()))
    fig.add_trace(go.Scatter(x=x, y=table["churn_rate"], yaxis="y2", mode="lines+markers",
                             name="churn rate", line={"color": CHURNED}))
    return fig
