"""Explain: what drives churn risk overall, per feature, and for one customer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from churn_core import charts
from churn_core.pipeline import row_waterfall
from ui import cache
from ui.guards import require_analysis
from ui.state import StateKeys, get
from ui.widgets import plain

K = StateKeys
TOP = 15

st.title("Explain")
analysis = require_analysis()
st.caption("Why the model scores the customers to act on as it does: "
           f"{plain(analysis.population.description)}.")
expl = analysis.explanation
model_key = get(K.MODEL_KEY)
imp = cache.importance(model_key, analysis)
features = [str(f) for f in imp["feature"]]

left, right = st.columns(2)
left.plotly_chart(charts.importance(imp, top=TOP), width="stretch")
right.plotly_chart(cache.beeswarm_figure(model_key, tuple(imp["feature"][:TOP]), analysis),
                   width="stretch")
with st.expander("Importance table"):
    st.dataframe(imp, hide_index=True, width="stretch",
                 column_config={"share": st.column_config.NumberColumn(format="percent")})

st.subheader("Effect of one feature")
if st.session_state.get(K.W_DEPENDENCE) not in list(imp["feature"]):
    st.session_state[K.W_DEPENDENCE] = imp["feature"].iloc[0]
feature = st.selectbox("Feature", list(imp["feature"]), key=K.W_DEPENDENCE)
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
wf = row_waterfall(expl, row, analysis.result.preprocessor,
                   labels=analysis.feature_labels or None)
prob = float(pop.scores[row])
st.metric("Churn probability", f"{prob:.0%}")
left, right = st.columns([3, 2])
left.plotly_chart(charts.waterfall(wf, base_value=expl.base_value), width="stretch")
with right:
    st.caption("Reasons in plain words (red raises risk, blue lowers it)")
    st.dataframe(wf[["text", "contribution"]], hide_index=True, width="stretch",
                 column_config={"text": st.column_config.TextColumn("reason", width="large"),
                                "contribution": st.column_config.NumberColumn(format="%.3f")})
if len(rows) < len(pop):
    st.caption(f"Explanations cover the riskiest {len(rows):,} of the {len(pop):,} "
               "customers to act on.")
