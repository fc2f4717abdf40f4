"""Alerts: set the threshold by slider or from money and capacity; download the at-risk list."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from churn_core import charts, pipeline
from churn_core.bundle import bundle_to_zip
from churn_core.export import to_csv_bytes
from churn_core.threshold import Economics, break_even_probability, profit_at
from ui import actions
from ui.state import StateKeys, get, put, require_analysis
from ui.widgets import download_csv, metric_row

K = StateKeys
PLOT_POINTS = 2000

st.title("Alerts")
analysis = require_analysis()
sorted_scores = get(K.SORTED_SCORES)
n_all = len(sorted_scores)


def _set_threshold(value: float, method: str) -> None:
    value = float(np.clip(value, 0.0, 1.0))
    put(K.THRESHOLD, value)
    put(K.THRESHOLD_METHOD, method)
    st.session_state[K.W_THRESHOLD] = value


def _on_slider() -> None:
    put(K.THRESHOLD, float(st.session_state[K.W_THRESHOLD]))
    put(K.THRESHOLD_METHOD, "set by hand")


# -- money and capacity ----------------------------------------------------------------------
base = get(K.ECONOMICS) or Economics()
with st.container(border=True):
    st.markdown("**What a campaign is worth**")
    c = st.columns(5)
    value = c[0].number_input("Value of a retained customer", min_value=0.0, step=10.0,
                              value=float(base.value_retained), key=K.W_VALUE)
    offer = c[1].number_input("Cost of the offer", min_value=0.0, step=1.0,
                              value=float(base.offer_cost), key=K.W_OFFER)
    success = c[2].number_input("Chance the offer works", min_value=0.0, max_value=1.0,
                                step=0.05, value=float(base.success_rate), key=K.W_SUCCESS)
    contact = c[3].number_input("Cost per contact", min_value=0.0, step=0.5,
                                value=float(base.contact_cost), key=K.W_CONTACT)
    capacity = c[4].number_input("Team capacity (0 = no limit)", min_value=0, step=50,
                                 value=int(base.capacity or 0), key=K.W_CAPACITY)
econ = Economics(value_retained=value, offer_cost=offer, success_rate=success,
                 contact_cost=contact, capacity=int(capacity) or None)
put(K.ECONOMICS, econ)
profit_table, best = actions.profit_view(analysis, econ)
best_t = float(min(best.threshold, 1.0))

# -- threshold -------------------------------------------------------------------------------
if K.W_THRESHOLD not in st.session_state:
    st.session_state[K.W_THRESHOLD] = float(get(K.THRESHOLD))
b = st.columns(3)
b[0].button("Most profitable threshold", on_click=_set_threshold,
            args=(best_t, "most profitable"), icon=":material/savings:")
b[1].button("Best F1 (balanced)", on_click=_set_threshold,
            args=(float(analysis.valid_curve.best_f1().threshold), "best F1 on validation"))
if econ.capacity:
    top = float(sorted_scores[max(n_all - econ.capacity, 0)]) if econ.capacity else 1.0
    b[2].button(f"Flag the top {econ.capacity:,} (capacity)", on_click=_set_threshold,
                args=(top, f"top {econ.capacity} by capacity"))
st.slider("Alert threshold (churn probability)", 0.0, 1.0, step=0.01, key=K.W_THRESHOLD,
          on_change=_on_slider, format="%.2f")
threshold = float(get(K.THRESHOLD))

point = analysis.test_curve.at(threshold)
flagged = int(n_all - np.searchsorted(sorted_scores, threshold, side="left"))
medium_from = threshold / 2
medium = int(np.searchsorted(sorted_scores, threshold, side="left")
             - np.searchsorted(sorted_scores, medium_from, side="left"))
expected = profit_at(profit_table, threshold)
metric_row({
    f"Customers flagged (of {n_all:,})": f"{flagged:,}",
    "Precision (test)": f"{point.precision:.0%}",
    "Recall (test)": f"{point.recall:.0%}",
    "Expected profit": f"{expected:,.0f}",
    "Best possible profit": f"{best.profit:,.0f}",
})
st.caption(f"Threshold chosen by: {get(K.THRESHOLD_METHOD)}. The most profitable threshold is "
           f"{best_t:.2f}. Contacting a customer pays on "
           f"average above a churn probability of {break_even_probability(econ):.2f}. "
           "Precision and recall are measured on test customers the model never saw; profit is "
           "scaled to all customers.")
if econ.capacity and flagged > econ.capacity:
    st.warning(f"{flagged:,} customers are flagged but the team can contact {econ.capacity:,}; "
               "only the riskiest are counted in the profit.", icon=":material/group:")

step = max(len(profit_table) // PLOT_POINTS, 1)
tiers = pd.Series({"high": flagged, "medium": medium, "low": n_all - flagged - medium})
left, right = st.columns([3, 2])
left.plotly_chart(charts.profit_curve(profit_table.iloc[::step], best=best_t, current=threshold),
                  width="stretch")
right.plotly_chart(charts.tier_counts(tiers), width="stretch")
st.caption(f"Tiers: high = probability at least {threshold:.2f}; medium = at least "
           f"{medium_from:.2f}; low = the rest.")

# -- the list --------------------------------------------------------------------------------
st.subheader("Customers to contact")
table = actions.at_risk(analysis, threshold, flagged)
st.dataframe(
    table, hide_index=True, width="stretch",
    column_config={"churn_probability": st.column_config.ProgressColumn(
        "churn probability", min_value=0.0, max_value=1.0, format="percent")})
if flagged > len(table):
    st.caption(f"Showing the riskiest {len(table):,} of {flagged:,}; the download has them all.")
detail = {"medium_from": medium_from, "economics": {
    "value_retained": econ.value_retained, "offer_cost": econ.offer_cost,
    "success_rate": econ.success_rate, "contact_cost": econ.contact_cost,
    "capacity": econ.capacity}}
c1, c2 = st.columns(2)
with c1:
    download_csv(f"Download the at-risk list ({flagged:,} customers)",
                 lambda: to_csv_bytes(pipeline.export_table(analysis, threshold)),
                 file_name="at_risk_customers.csv", key="download_at_risk")
with c2:
    st.download_button(
        "Download the model with this threshold (.zip)",
        data=lambda: bundle_to_zip(pipeline.make_bundle(
            analysis, threshold=threshold, method=str(get(K.THRESHOLD_METHOD)), detail=detail)),
        file_name="churn_model.zip", mime="application/zip", on_click="ignore",
        icon=":material/inventory_2:", key="download_bundle")
