"""Shared look of every chart: colours, the base figure, and axes that never collide.

Builders in ``charts*.py``, ``money/charts.py`` and ``monitor/charts.py`` use these so that
percentage axes carry round ticks (0/10/20/30 %, not 0/9/19/28 %), long category labels
turn instead of overlapping, and titles and top ticks are never clipped.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

CHURNED = "#d62728"
RETAINED = "#1f77b4"
NEUTRAL = "#7f7f7f"
ACCENT = "#9467bd"
TIER_COLORS = {"high": "#d62728", "medium": "#ff7f0e", "low": "#2ca02c"}
LABEL_COLORS = {"Churned": CHURNED, "Stayed": RETAINED}
# No explicit template: naming one ("plotly_white") made plotly validate the whole template
# for every figure, 25 ms each, twice per slider move on the Alerts page. Inside the app the
# default template is Streamlit's own, which matches the page.
LAYOUT: dict[str, Any] = {"margin": {"l": 60, "r": 20, "t": 60, "b": 50}}
# nice steps for percentage ticks, as fractions
_STEPS = (0.001, 0.002, 0.0025, 0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5)


def text(value: object) -> str:
    """User text (column names, values) safe for a plotly title or label."""
    return html.escape(str(value), quote=False)


def base_figure(title: str, x: str, y: str, **layout: object) -> go.Figure:
    """An empty figure with a title and both axis titles (user text escaped)."""
    # titles carry column names from the user's file; plotly reads <a href>, <b>... in them
    fig = go.Figure()
    fig.update_layout(title=text(title), xaxis_title=text(x), yaxis_title=text(y))
    fig.update_layout(**{**LAYOUT, **layout})  # an axis given whole keeps its own title
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def percent_ticks(top: float, *, most: int = 6) -> list[float]:
    """Round tick values from 0 to at least ``top`` (fractions: 0.1 = 10 %).

    At most ``most`` ticks; the step is a round number (1, 2, 2.5, 5 x a power of ten).
    """
    top = float(top) if math.isfinite(float(top)) and top > 0 else 1.0
    step = next((s for s in _STEPS if top / s <= most - 1), 0.5)
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 6) for i in range(n + 1)]


def percent_axis(top: float, *, title: str = "", most: int = 6) -> dict[str, Any]:
    """Layout of a percentage axis with round ticks from 0 and room above the top tick.

    Parameters
    ----------
    top : float
        Largest value drawn (a fraction: 0.28 = 28 %).
    title : str
        Axis title; "%" is added when the title does not mention it.
    most : int
        Most ticks.

    Returns
    -------
    dict
        ``tickvals``, ``tickformat``, ``range`` (a little above the last tick, so that
        its label is never clipped) and ``title``: pass as ``yaxis=`` / ``yaxis2=``.
    """
    ticks = percent_ticks(top, most=most)
    digits = max(0, -math.floor(math.log10(ticks[1] * 100))) if len(ticks) > 1 else 0
    name = title if "%" in title or not title else f"{title} (%)"
    return {"tickvals": ticks, "tickformat": f".{digits}%", "range": [0, ticks[-1] * 1.06],
            "title": {"text": text(name)}, "automargin": True}


def category_axis(labels: Sequence[object]) -> dict[str, Any]:
    """Settings for a category axis whose labels must not overlap.

    No fixed angle (plotly's "auto"): plotly turns the labels only when they would collide at the
    width the chart is drawn (a fixed angle collides on narrow screens); the margin grows
    to hold them. Long labels should be wrapped first (:func:`wrap`).
    """
    return {"automargin": True, "type": "category",
            "nticks": max(len(list(labels)), 1)}


def wrap(label: object, width: int = 18) -> str:
    """A long label broken into lines of about ``width`` characters (plotly ``<br>``)."""
    words, lines, line = text(label).split(" "), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "<br>".join(lines)
