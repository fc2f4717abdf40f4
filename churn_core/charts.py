"""Plotly figure builders over the library's result tables (pure functions, no UI).

Every builder takes a DataFrame or result object produced elsewhere in
``churn_core`` and returns a :class:`plotly.graph_objects.Figure`. Colours are
fixed so that churned/retained and the risk tiers look the same on every
chart; scatter plots use WebGL (``Scattergl``) and sample down to
``MAX_POINTS`` so that no figure ships more than ~50k points to the browser.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

CHURNED = "#d62728"
RETAINED = "#1f77b4"
NEUTRAL = "#7f7f7f"
ACCENT = "#9467bd"
TIER_COLORS = {"high": "#d62728", "medium": "#ff7f0e", "low": "#2ca02c"}
LABEL_COLORS = {"Churned": CHURNED, "Stayed": RETAINED}
MAX_POINTS = 50_000
# No explicit template: naming one ("plotly_white") made plotly validate the whole template
# for every figure, 25 ms each, twice per slider move on the Alerts page. Inside the app the
# default template is Streamlit's own, which matches the page.
_LAYOUT = {"margin": {"l": 60, "r": 20, "t": 50, "b": 50}}


def _fig(title: str, x: str, y: str, **layout: object) -> go.Figure:
    # titles carry column names from the user's file; plotly reads <a href>, <b>... in them
    fig = go.Figure()
    fig.update_layout(title=html.escape(title, quote=False), xaxis_title=html.escape(
        x, quote=False), yaxis_title=html.escape(y, quote=False), **{**_LAYOUT, **layout})
    return fig


def _sample(n: int, max_points: int, seed: int) -> np.ndarray:
    """Row positions to draw: all of them, or a random subset of ``max_points``."""
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=max_points, replace=False))


# -- exploration -----------------------------------------------------------------------------
def churn_rate_by(table: pd.DataFrame, column: str, *, overall: float | None = None,
                  numeric: bool = False) -> go.Figure:
    """Churn rate per level with its 95 % interval (``eda.churn_rate_by`` output).

    Categories are bars with error bars; binned numbers a line with a band.
    """
    fig = _fig(f"Churn rate by {column}", column, "churn rate", yaxis_tickformat=".0%")
    levels = table["level"].astype(str)
    hover = [f"{lv}: {r:.1%} of {n:,}" for lv, r, n in zip(levels, table["rate"], table["n"],
                                                          strict=True)]
    if numeric:
        fig.add_trace(go.Scatter(x=levels, y=table["hi"], mode="lines", line={"width": 0},
                                 showlegend=False, hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=levels, y=table["lo"], mode="lines", line={"width": 0},
                                 fill="tonexty", fillcolor="rgba(214,39,40,0.15)",
                                 name="95 % interval", hoverinfo="skip"))
        fig.add_trace(go.Scatter(x=levels, y=table["rate"], mode="lines+markers",
                                 line={"color": CHURNED}, name="churn rate",
                                 hovertext=hover, hoverinfo="text"))
    else:
        fig.add_trace(go.Bar(
            x=levels, y=table["rate"], marker_color=CHURNED, name="churn rate",
            error_y={"type": "data", "symmetric": False,
                     "array": (table["hi"] - table["rate"]).to_numpy(),
                     "arrayminus": (table["rate"] - table["lo"]).to_numpy()},
            hovertext=hover, hoverinfo="text"))
    if overall is not None and np.isfinite(overall):
        fig.add_hline(y=overall, line_dash="dot", line_color=NEUTRAL,
                      annotation_text=f"overall {overall:.1%}")
    fig.update_xaxes(type="category")
    return fig


def distribution_by_label(sample: pd.DataFrame, column: str) -> go.Figure:
    """Histogram of a column split by churned/stayed (``eda.distribution_by_label`` output)."""
    fig = _fig(f"Distribution of {column}", column, "share of customers", barmode="overlay")
    for label, color in LABEL_COLORS.items():
        values = sample.loc[sample["label"] == label, "value"]
        fig.add_trace(go.Histogram(x=values, name=label, marker_color=color, opacity=0.6,
                                   histnorm="probability"))
    return fig


def missingness(table: pd.DataFrame, *, top: int = 30) -> go.Figure:
    """Share of missing values per column (``eda.missingness`` output)."""
    t = table[table["missing"] > 0].head(top).iloc[::-1]
    fig = _fig("Missing values per column", "% missing", "", height=max(250, 22 * len(t) + 100))
    fig.add_trace(go.Bar(x=t["missing_pct"], y=t["column"].astype(str), orientation="h",
                         marker_color=NEUTRAL, hovertext=[f"{m:,} missing" for m in t["missing"]]))
    return fig


def label_correlation(table: pd.DataFrame, *, top: int = 25) -> go.Figure:
    """Correlation of each feature with churn (``eda.label_correlation`` output)."""
    t = table.head(top).iloc[::-1]
    colors = [CHURNED if v > 0 else RETAINED for v in t["correlation"]]
    fig = _fig("Association with churn", "correlation (numbers) / Cramér's V (categories)", "",
               height=max(250, 22 * len(t) + 100))
    fig.add_trace(go.Bar(x=t["correlation"], y=t["column"].astype(str), orientation="h",
                         marker_color=colors, hovertext=t["method"]))
    return fig


# -- segments --------------------------------------------------------------------------------
def silhouette(table: pd.DataFrame, chosen_k: int | None = None) -> go.Figure:
    """Silhouette score per candidate k (``SegmentModel.silhouette``)."""
    fig = _fig("Choosing the number of segments", "k (segments)", "silhouette (higher = clearer)")
    fig.add_trace(go.Scatter(x=table["k"], y=table["silhouette"], mode="lines+markers",
                             line={"color": ACCENT}, name="silhouette"))
    if chosen_k is not None:
        fig.add_vline(x=chosen_k, line_dash="dot", line_color=NEUTRAL,
                      annotation_text=f"k = {chosen_k}")
    return fig


def segment_sizes(summary: pd.DataFrame, overall: float | None = None) -> go.Figure:
    """Segment size (bars) and churn rate (markers) (``segments.segment_summary`` output)."""
    names = [f"{s}: {n}" for s, n in zip(summary["segment"], summary["name"], strict=True)]
    fig = _fig("Segments: size and churn rate", "", "customers",
               yaxis2={"title": "churn rate", "overlaying": "y", "side": "right",
                       "tickformat": ".0%", "rangemode": "tozero"})
    fig.add_trace(go.Bar(x=names, y=summary["size"], marker_color=RETAINED, name="customers"))
    fig.add_trace(go.Scatter(x=names, y=summary["churn_rate"], yaxis="y2", mode="markers",
                             marker={"color": CHURNED, "size": 12}, name="churn rate"))
    if overall is not None and np.isfinite(overall):
        fig.add_hline(y=overall, yref="y2", line_dash="dot", line_color=CHURNED,
                      annotation_text=f"overall {overall:.1%}")
    return fig


def segment_profile(profile: pd.DataFrame, *, top: int = 25) -> go.Figure:
    """Heat map of feature x segment z-scores (``segments.segment_profile`` output).

    Shows the ``top`` features that differ most between segments.
    """
    z = profile.pivot_table(index="feature", columns="segment", values="z", sort=False)
    mean = profile.pivot_table(index="feature", columns="segment", values="mean", sort=False)
    keep = z.abs().max(axis=1).sort_values(ascending=False).index[:top]
    z, mean = z.loc[keep], mean.loc[keep]
    names = profile.drop_duplicates("segment").set_index("segment")["name"]
    x = [f"{s}: {names.get(s, '')}" for s in z.columns]
    fig = _fig("Segment profiles (difference from average, in standard deviations)", "", "",
               height=max(300, 24 * len(z) + 140))
    fig.add_trace(go.Heatmap(z=z.to_numpy(), x=x, y=[str(i) for i in z.index],
                             zmid=0, colorscale="RdBu_r", zmin=-2, zmax=2,
                             customdata=mean.to_numpy(),
                             hovertemplate="%{y}<br>%{x}<br>z %{z:.2f}<br>mean %{customdata:.3g}"
                             "<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    return fig


def segment_projection(points: pd.DataFrame, *, max_points: int = MAX_POINTS,
                       seed: int = 42) -> go.Figure:
    """2-D map of customers coloured by segment (``segments.projection`` output), WebGL."""
    pts = points.iloc[_sample(len(points), max_points, seed)]
    fig = _fig("Customers on a 2-D map (PCA)", "component 1", "component 2")
    for seg, part in pts.groupby("segment", sort=True):
        fig.add_trace(go.Scattergl(x=part["x"], y=part["y"], mode="markers",
                                   marker={"size": 4, "opacity": 0.6},
                                   name=f"{seg}: {part['name'].iloc[0]}"))
    return fig


# -- model quality ---------------------------------------------------------------------------
def roc_curve(roc: pd.DataFrame, *, auc: float, baseline_auc: float | None = None) -> go.Figure:
    """ROC curve (``Evaluation.roc``) with the chance diagonal."""
    fig = _fig(f"ROC curve (AUC {auc:.3f})", "false positive rate", "true positive rate")
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
    fig = _fig(f"Precision-recall (AP {pr_auc:.3f})", "recall", "precision")
    fig.add_trace(go.Scatter(x=pr["recall"], y=pr["precision"], mode="lines", name="model",
                             line={"color": CHURNED}))
    fig.add_hline(y=base_rate, line_dash="dot", line_color=NEUTRAL,
                  annotation_text=f"base rate {base_rate:.1%}")
    return fig


def calibration(table: pd.DataFrame) -> go.Figure:
    """Predicted vs observed churn rate per bin (``Evaluation.calibration``)."""
    fig = _fig("Calibration", "predicted churn probability", "observed churn rate")
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfect",
                             line={"color": NEUTRAL, "dash": "dot"}))
    fig.add_trace(go.Scatter(x=table["mean_predicted"], y=table["observed_rate"],
                             mode="lines+markers", name="model", line={"color": CHURNED},
                             hovertext=[f"{c:,} customers" for c in table["count"]]))
    return fig


def lift_gain(table: pd.DataFrame) -> go.Figure:
    """Lift per decile (bars) and cumulative gain (line) (``Evaluation.lift``)."""
    fig = _fig("Lift and cumulative gain by risk decile", "decile (1 = riskiest 10 %)", "lift",
               yaxis2={"title": "share of churners caught", "overlaying": "y", "side": "right",
                       "tickformat": ".0%", "range": [0, 1.05]})
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
    fig = _fig(f"Confusion matrix at threshold {threshold:.2f} (test customers)",
               "predicted", "actual")
    fig.add_trace(go.Heatmap(z=z, x=["flagged", "not flagged"], y=["churned", "stayed"],
                             text=text, texttemplate="%{text}", colorscale="Blues",
                             showscale=False, hoverinfo="skip"))
    fig.update_yaxes(autorange="reversed")
    return fig


# -- explanations ----------------------------------------------------------------------------
def importance(table: pd.DataFrame, *, top: int = 20) -> go.Figure:
    """Mean |SHAP| per feature (``explain.global_importance`` output)."""
    t = table.head(top).iloc[::-1]
    fig = _fig("What drives churn risk overall", "mean |contribution| (log-odds)", "",
               height=max(300, 24 * len(t) + 100))
    fig.add_trace(go.Bar(x=t["mean_abs_shap"], y=t["feature"].astype(str), orientation="h",
                         marker_color=CHURNED, hovertext=t["direction"],
                         hovertemplate="%{y}: %{x:.3f}<br>%{hovertext}<extra></extra>"))
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


def beeswarm(contributions: pd.DataFrame, values: pd.DataFrame, features: Sequence[str], *,
             max_points: int = MAX_POINTS, seed: int = 42) -> go.Figure:
    """Beeswarm-style SHAP summary: one jittered row of dots per feature, WebGL.

    Dots are coloured by the feature value's rank (blue = low, red = high).
    At most ``max_points`` dots are drawn in all.
    """
    feats = list(features)[::-1]
    per = max(max_points // max(len(feats), 1), 1)
    rows = _sample(len(contributions), per, seed)
    rng = np.random.default_rng(seed)
    fig = _fig("How each feature moves risk (each dot is a customer)",
               "contribution to churn risk (log-odds)", "",
               height=max(350, 28 * len(feats) + 120))
    for i, f in enumerate(feats):
        c = contributions[f].to_numpy(dtype=float)[rows]
        col = _color_values(values[f].iloc[rows])
        fig.add_trace(go.Scattergl(
            x=c, y=i + rng.uniform(-0.3, 0.3, size=c.size), mode="markers",
            marker={"size": 4, "color": col, "colorscale": "RdBu_r", "cmin": 0, "cmax": 1,
                    "showscale": i == 0,
                    "colorbar": {"title": "feature value", "tickvals": [0, 1],
                                 "ticktext": ["low", "high"]}},
            name=str(f), showlegend=False, hoverinfo="x+name"))
    fig.update_yaxes(tickvals=list(range(len(feats))), ticktext=[str(f) for f in feats])
    fig.add_vline(x=0, line_color=NEUTRAL)
    return fig


def dependence(contributions: pd.DataFrame, values: pd.DataFrame, feature: str, *,
               max_points: int = MAX_POINTS, seed: int = 42) -> go.Figure:
    """Feature value vs its SHAP contribution for a sample of customers, WebGL."""
    rows = _sample(len(contributions), max_points, seed)
    x = values[feature].iloc[rows]
    if isinstance(x.dtype, pd.CategoricalDtype):
        x = x.astype("object").where(x.notna(), "(missing)").astype(str)
    c = contributions[feature].to_numpy(dtype=float)[rows]
    fig = _fig(f"Effect of {feature} on churn risk", str(feature),
               "contribution to churn risk (log-odds)")
    # Two single-colour traces: a colour string per point makes plotly validate each one.
    for up, colour, name in ((True, CHURNED, "raises risk"), (False, RETAINED, "lowers risk")):
        pick = (c > 0) == up
        fig.add_trace(go.Scattergl(x=x[pick], y=c[pick], mode="markers", name=name,
                                   marker={"size": 5, "opacity": 0.5, "color": colour},
                                   hoverinfo="x+y"))
    fig.add_hline(y=0, line_color=NEUTRAL)
    return fig


def waterfall(table: pd.DataFrame, *, base_value: float) -> go.Figure:
    """One customer's contributions from the base value (``explain.row_waterfall`` output)."""
    t = table.iloc[::-1]
    labels = [str(s) for s in t["text"]]
    fig = _fig("Why this customer got this score", "churn risk (log-odds)", "",
               height=max(300, 34 * len(t) + 140))
    fig.add_trace(go.Waterfall(
        orientation="h", y=["average customer", *labels, "this customer"],
        x=[base_value, *t["contribution"].to_numpy(dtype=float), 0.0],
        measure=["absolute", *["relative"] * len(t), "total"],
        increasing={"marker": {"color": CHURNED}}, decreasing={"marker": {"color": RETAINED}},
        totals={"marker": {"color": NEUTRAL}}))
    return fig


# -- threshold and alerts --------------------------------------------------------------------
BEST_COLOR = "#2ca02c"


def profit_curve(profit: pd.DataFrame, *, best: float, current: float) -> go.Figure:
    """Expected profit by threshold (``ThresholdCurve.profit`` output) with the optimum marked."""
    fig = _fig("Expected campaign profit by threshold", "threshold (churn probability)",
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
    fig = _fig("Customers per risk tier", "", "customers")
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
    fig = _fig("Churn probability of every customer", "churn probability", "customers")
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
    fig = _fig("Customers and churn rate per cutoff", "cutoff", "active customers",
               yaxis2={"title": "churn rate", "overlaying": "y", "side": "right",
                       "tickformat": ".0%", "rangemode": "tozero"})
    x = pd.to_datetime(table["cutoff"])
    known = table["outcome_known"].astype(bool).to_numpy()
    fig.add_trace(go.Bar(x=x, y=table["active_customers"], name="active customers",
                         marker_color=np.where(known, RETAINED, "#c7c7c7").tolist()))
    fig.add_trace(go.Scatter(x=x, y=table["churn_rate"], yaxis="y2", mode="lines+markers",
                             name="churn rate", line={"color": CHURNED}))
    return fig
