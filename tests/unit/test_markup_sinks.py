"""Issue 14 siblings of 'Markdown from a bundle': user text in chart titles is shown as text."""

from __future__ import annotations

import numpy as np
import pandas as pd

from churn_core import charts, eda

HOSTILE = "<a href='http://evil.example'>plan</a>"


def test_a_column_name_with_html_is_escaped_in_chart_titles():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({HOSTILE: rng.choice(["a", "b"], 200)})
    y = pd.Series((rng.random(200) < 0.3).astype(float))
    fig = charts.churn_rate_by(eda.churn_rate_by(frame, y, HOSTILE), HOSTILE)
    assert "<a" not in fig.layout.title.text and "&lt;a href" in fig.layout.title.text
    assert "<a" not in fig.layout.xaxis.title.text
