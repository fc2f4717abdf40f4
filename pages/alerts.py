"""Alerts: whom to contact. Threshold by slider, by money or by capacity; the list in one click."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from churn_core import charts, pipeline
from churn_core.money import charts as money_charts
from churn_core.pipeline import (
    ChurnDataError,
    Economics,
    ThresholdChoice,
    break_even_probability,
    id_secret_from_env,
    pseudonymise,
    to_csv_bytes,
)
from ui.action_rules import edit_action_rules, show_action_mix
from ui.campaign_widgets import start_campaign_form_for
from ui.flows import alerts as alerts_flow
from ui.guards import require_analysis
from ui.state import StateKeys, get, put
from ui.widgets import download_csv, metric_row, plain, show_data_error

K = StateKeys
PLOT_POINTS = 2000
PERIODS = ["12 months", "6 months", "3 months", "1 month", "lifetime"]

st.title("Alerts")
analysis = require_analysis()
population = analysis.population
sorted_scores = get(K.SORTED_SCORES)
st.caption(f"Customers to act on: {plain(population.description)}. Customers already gone "
           "are never listed; every probability is honest (out of fold for customers the "
           "model learnt from).")


def _set_threshold(value: float, method: str, detail: dict | None = None) -> None:
    choice = ThresholdChoice(min(max(float(value), 0.0), 1.0), method, dict(detail or {}))
    put(K.THRESHOLD, choice)
    st.session_state[K.W_THRESHOLD] = choice.value


def _on_slider() -> None:
    put(K.THRESHOLD, ThresholdChoice(float(st.session_state[K.W_THRESHOLD]), "Set by hand"))


# -- money and capacity ----------------------------------------------------------------------
base = get(K.ECONOMICS) or Economics()
with st.container(border=True):
    st.markdown("**What a campaign is worth**")
    # two rows of four: at 1024 px wide eight inputs in one row cut their labels off
    c = [*st.columns(4), *st.columns(4)]
    value = c[0].number_input("Value of a kept customer", min_value=0.0, step=10.0,
                              format="%.0f",
                              value=float(base.value_retained), key=K.W_VALUE)
    offer = c[1].number_input("Cost of the offer", min_value=0.0, step=1.0,
                              value=float(base.offer_cost), key=K.W_OFFER)
    success = c[2].number_input("Chance the offer works", min_value=0.0, max_value=1.0,
                                step=0.05, value=float(base.success_rate), key=K.W_SUCCESS)
    contact = c[3].number_input("Cost per contact", min_value=0.0, step=0.5,
                                value=float(base.contact_cost), key=K.W_CONTACT)
    capacity = c[4].number_input("Team capacity (0 = no limit)", min_value=0, step=50,
                                 value=int(base.capacity or 0), key=K.W_CAPACITY,
                                 help="The list keeps the riskiest customers up to this number.")
    budget = c[5].number_input("Budget (0 = no limit)", min_value=0.0, step=100.0,
                               format="%.0f",
                               value=float(base.budget or 0.0), key=K.W_BUDGET,
                               help="Most money for offers and contacts: the list keeps the "
                               "riskiest customers the budget pays for.")
    currency = c[6].text_input("Currency", value=base.currency, max_chars=8, key=K.W_CURRENCY)
    period = c[7].selectbox("Value over", PERIODS, key=K.W_PERIOD,
                            index=PERIODS.index(base.period) if base.period in PERIODS else 0)
econ = Economics(value_retained=value, offer_cost=offer, success_rate=success,
                 contact_cost=contact, capacity=int(capacity) or None,
                 budget=float(budget) or None, currency=currency.strip() or "USD", period=period)
limit = econ.contact_limit  # capacity and budget together
put(K.ECONOMICS, econ)
SAME = "The value of a kept customer (above)"
sources, first = alerts_flow.value_sources(analysis, SAME)
source = st.selectbox("What each customer is worth", sources, index=first, key=K.W_VALUE_SOURCE,
                      help="Pick a column (spend, order value, margin) to give every customer "
                      "their own value: the list then shows their value at risk.")
try:
    value = alerts_flow.value_choice(analysis, None if source == SAME else source,
                                 econ.value_retained)
except ChurnDataError as exc:
    show_data_error(exc, title=f"{source} cannot serve as a value")
    value = alerts_flow.value_choice(analysis, None, econ.value_retained)
money = alerts_flow.profit_view(analysis, econ, value)
cur = plain(econ.currency)

# -- threshold -------------------------------------------------------------------------------
choice: ThresholdChoice = get(K.THRESHOLD)
if K.W_THRESHOLD not in st.session_state:
    st.session_state[K.W_THRESHOLD] = float(choice.value)
b = st.columns(3)
b[0].button("Most profitable", on_click=_set_threshold, icon=":material/savings:",
            args=(money.best.value, money.best.method, money.best.detail),
            help="The threshold with the highest expected profit for these inputs.")
b[1].button("Balanced", on_click=_set_threshold,
            help="Catch churners without too many false alarms: the threshold where caught "
            "churners and correct alarms are best balanced on the labelled history.",
            args=(analysis.threshold.value, analysis.threshold.method, analysis.threshold.detail))
if limit:
    b[2].button(f"The riskiest {limit:,} (capacity)", on_click=_set_threshold,
                args=(pipeline.top_n_threshold(sorted_scores, limit),
                      f"Top {limit:,} by capacity", {"top_n": limit}))
st.slider("Alert threshold (churn probability)", 0.0, 1.0, step=0.01, key=K.W_THRESHOLD,
          on_change=_on_slider, format="%.2f")
choice = get(K.THRESHOLD)
threshold = float(choice.value)

view = pipeline.alert_view(analysis, threshold, capacity=limit, scores=sorted_scores)
past = analysis.curve.at(threshold)
expected = pipeline.profit_at(money.table, threshold)
metric_row({
    "Customers to act on": f"{view.population:,}",
    "On the list": f"{view.listed:,}",
    "Expected churners on it": f"{view.expected_churners:,.0f}",
    f"Expected profit ({cur})": f"{expected:,.0f}",
    f"Best possible ({cur})": f"{float(money.best.detail['expected_profit']):,.0f}",
    "Value at risk covered": f"{pipeline.value_share(value.scores, view.listed):.0%}",
})
st.caption(f"Threshold chosen by: {plain(choice.method)}. In the past, this threshold caught "
           f"{past.recall:.0%} of the customers who left, and {past.precision:.0%} of those "
           "it flagged did leave (out-of-fold scores of the labelled history). Contacting a "
           f"customer pays on average above a churn probability of "
           f"{break_even_probability(econ):.2f}. Money is in {cur} over {plain(econ.period)}; "
           "'value at risk covered' is the share of all customers' churn probability x value "
           "held by those on the list.")
if view.capped:
    st.warning(f"{view.flagged:,} customers are at or above the threshold; the team can "
               f"contact {limit:,} (capacity and budget), so the list keeps the riskiest "
               f"{view.listed:,}.",
               icon=":material/group:")

step = max(len(money.table) // PLOT_POINTS, 1)
tiers = {"high": view.high, "medium": view.medium, "low": view.low}
left, right = st.columns([3, 2])
left.plotly_chart(charts.profit_curve(money.table.iloc[::step], best=money.best.value,
                                      current=threshold), width="stretch")
right.plotly_chart(charts.tier_counts(pd.Series(tiers)), width="stretch")
st.caption(f"Tiers of the customers to act on: high = probability at least {threshold:.2f}; "
           f"medium = at least {threshold / 2:.2f}; low = the rest.")

# -- the list --------------------------------------------------------------------------------
st.subheader(f"Customers to contact ({view.listed:,})")
with st.expander("Suggested actions: the rules", icon=":material/rule:"):
    st.caption("Each customer gets the first rule, top to bottom, that one of their own "
               "risk-raising reasons matches; otherwise their tier's default action.")
    rules = edit_action_rules()
table = alerts_flow.at_risk(analysis, view.listed, rules, value)
st.dataframe(
    table, hide_index=True, width="stretch",
    column_config={"churn_probability": st.column_config.ProgressColumn(
        "churn probability", min_value=0.0, max_value=1.0, format="percent")})
if view.listed > len(table):
    st.caption(f"Showing the riskiest {len(table):,} of {view.listed:,}; the download has "
               "them all.")
if len(table):
    with st.expander("Mix of suggested actions on the list", expanded=False):
        show_action_mix(table["suggested_action"])
        if view.listed > len(table):
            st.caption(f"Mix of the riskiest {len(table):,} shown above.")
rank = st.radio("Order of the download", ["Riskiest first", "Most value at risk first"],
                horizontal=True, key=K.W_RANK_BY,
                help="Value at risk = churn probability x what the customer is worth.")
rank_by = "probability" if rank == "Riskiest first" else "value_at_risk"
hidden = st.checkbox("Pseudonymous ids in the download", key=K.W_PSEUDONYMISE,
                     help="Each id replaced by a keyed hash (HMAC-SHA256). The key is the "
                     "CHURN_RADAR_ID_SECRET setting of this server; whoever holds it can map "
                     "the pseudonyms back.")
if hidden:
    try:
        id_secret_from_env()
    except ChurnDataError as exc:
        show_data_error(exc, title="Pseudonymous ids need a key on the server")
        hidden = False
stamp = date.today().isoformat()


def _hide(table: pd.DataFrame) -> pd.DataFrame:
    return pseudonymise(table) if hidden else table



c1, c2 = st.columns(2)
with c1:
    download_csv(f"Download the at-risk list ({view.listed:,} customers)",
                 lambda: to_csv_bytes(_hide(pipeline.export_table(
                     analysis, threshold, capacity=limit, rules=rules,
                     values=value.values, rank_by=rank_by))),
                 file_name=f"at_risk_{stamp}_threshold_{threshold:.2f}.csv",
                 key="download_at_risk")
with c2:
    st.download_button(
        "Download the model with this threshold (.zip)",
        data=lambda: alerts_flow.bundle_zip(analysis, choice, limit),
        file_name=f"churn_model_{stamp}.zip", mime="application/zip", on_click="ignore",
        icon=":material/inventory_2:", key="download_bundle")

# -- how sure is the profit, and the campaign ------------------------------------------------
with st.expander("How sure is this profit?", icon=":material/query_stats:"):
    st.caption("A bootstrap of the labelled history's out-of-fold scores (200 resamples, 90 % "
               "band): the expected profit by share of customers contacted, and which input "
               "moves the best profit most.")
    band = alerts_flow.stored_reliability(econ, value)
    if band is None and st.button("Compute the band", key="compute_band"):
        with st.spinner("Resampling..."):
            band = alerts_flow.reliability(analysis, econ, value)
    if band is not None:
        (st.success if band.band.reliable else st.warning)(band.band.verdict)
        left, right = st.columns(2)
        left.plotly_chart(money_charts.profit_band_figure(band.band, currency=econ.currency),
                          width="stretch")
        right.plotly_chart(money_charts.tornado_figure(band.tornado, currency=econ.currency),
                           width="stretch")

with st.expander("Start a campaign with a control group", icon=":material/campaign:"):
    st.caption("The customers on the list, less a random control group that is not "
               "contacted, so that the campaign's effect can be measured. Record outcomes "
               "and read the effect on the Campaigns page.")
    start_campaign_form_for(analysis, threshold, econ)
