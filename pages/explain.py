"""Explain: what drives churn risk overall, per feature, and for one customer.

Every effect is in percentage points of churn probability (calibrated), so that the
effects of one customer add up to their probability minus the average customer's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from churn_core import charts_explain
from churn_core.pipeline import row_points
from ui import cache
from ui.guards import require_analysis
from ui.state import StateKeys, get
from ui.widgets import plain

K = StateKeys
TOP = 15
RAISES, LOWERS = "#fde0dd", "#deebf7"  # the red and blue the caption promises (light tints)

st.title("Explain")
analysis = require_analysis()
st.caption("Why the model scores the customers to act on as it does: "
           f"{plain(analysis.population.description)}. Effects are in percentage points "
           "(pp) of churn probability.")
expl = analysis.explanation
model_key = get(K.MODEL_KEY)
points = cache.point_contributions(model_key, analysis)
imp = cache.importance(model_key, analysis)
names = dict(zip(imp["feature"].astype(str), imp["label"], strict=True))

# tabs, not columns: each chart keeps the whole width (side by side they are cut at 1024 px)
overall, dots = st.tabs(["What drives risk overall", "How each feature moves risk"])
overall.plotly_chart(charts_explain.importance(imp, top=TOP), width="stretch")
dots.plotly_chart(cache.beeswarm_figure(model_key, tuple(imp["feature"][:TOP]), analysis),
                  width="stretch")
with st.expander("Importance table"):
    st.dataframe(imp[["label", "mean_abs_points", "share", "direction"]], hide_index=True,
                 width="stretch",
                 column_config={"label": st.column_config.TextColumn("feature"),
                                "mean_abs_points": st.column_config.NumberColumn(
                                    "average effect (pp)", format="%.1f"),
                                "share": st.column_config.NumberColumn(format="percent")})

st.subheader("Effect of one feature")
if st.session_state.get(K.W_DEPENDENCE) not in list(imp["feature"]):
    st.session_state[K.W_DEPENDENCE] = imp["feature"].iloc[0]
feature = st.selectbox("Feature", list(imp["feature"]), key=K.W_DEPENDENCE,
                       format_func=lambda f: names.get(str(f), str(f)))
st.plotly_chart(cache.dependence_figure(model_key, feature, analysis), width="stretch")

st.subheader("One customer to act on")
pop = analysis.population
rows = expl.contributions.index
ids = pd.Series(pop.ids[rows.to_numpy()], index=rows)
scores = pop.scores[rows.to_numpy()]
order = np.argsort(-scores, kind="stable")
# The riskiest customers first; at most 5,000 choices keep the picker light.
choices = list(rows[order[:5000]])
labels = {r: f"{ids.loc[r]}  ({s:.0%})" for r, s in zip(rows[order[:5000]], scores[order[:5000]],
                                                       strict=True)}
if st.session_state.get(K.W_CUSTOMER) not in labels:
    st.session_state[K.W_CUSTOMER] = choices[0]
row = st.selectbox("Customer (riskiest first, churn probability in brackets)", choices,
                   format_func=labels.get, key=K.W_CUSTOMER)
wf = row_points(points, expl, row, analysis.result.preprocessor,
                labels=analysis.feature_labels or None)
listed = float(pop.scores[row])
model_p = float(points.probability.loc[row])
c1, c2 = st.columns(2)
c1.metric("Churn probability on the list", f"{listed:.0%}")
c2.metric("Average customer", f"{points.base_probability:.0%}")
if abs(listed - model_p) >= 0.005:
    st.caption(f"The list shows the out-of-fold score ({listed:.0%}: the model had not seen "
               f"this customer's label); the effects explain the final model's {model_p:.0%}.")
st.plotly_chart(charts_explain.waterfall(wf, base_probability=points.base_probability),
                width="stretch")
# the reasons table under the chart, both the full width of the page
st.caption("Reasons in plain words: red raises risk, blue lowers it (effect in "
           "percentage points of churn probability).")
shown = wf[["text", "points"]]
styled = shown.style.apply(
    lambda col: [f"background-color: {RAISES if v > 0 else LOWERS}" for v in col],
    subset=["points"]).format({"points": "{:+.1f} pp"})
st.dataframe(styled, hide_index=True, width="stretch",
             column_config={"text": st.column_config.TextColumn("reason", width="large"),
                            "points": st.column_config.TextColumn("effect")})
if len(rows) < len(pop):
    st.caption(f"Explanations cover the riskiest {len(rows):,} of the {len(pop):,} "
               "customers to act on.")
