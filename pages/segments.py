"""Segments: named customer groups a marketer can act on, before or after training."""

from __future__ import annotations

import streamlit as st

from churn_core import charts_segments
from ui.flows import segments as segments_flow
from ui.guards import require_dataset
from ui.state import StateKeys, get
from ui.widgets import plain, show_problems

K = StateKeys
AUTO = "automatic"

st.title("Segments")
check = require_dataset()
view = segments_flow.current_view()
chosen = segments_flow.choice()

with st.form("form_segments"):
    left, right = st.columns([1, 3])
    k_options = [AUTO, *range(2, 9)]
    k_pick = left.selectbox(
        "Number of segments", k_options, key=K.W_SEGMENT_K,
        index=k_options.index(chosen.k) if chosen.k in k_options else 0,
        help="Automatic: 3 to 8 segments, each at least 5 % of customers, scored on how "
             "clearly customers fall apart, how much churn differs between segments and "
             "how even the sizes are.")
    options = list(view.options) if view else []
    default = list(chosen.features or (view.default if view else ()))
    picked = right.multiselect(
        "Columns to segment on", options, default=[c for c in default if c in options],
        key=K.W_SEGMENT_FEATURES,
        help="Default: behaviour - how recently, how often and how much customers buy, "
             "and for how long. Pick other columns to segment on them instead.")
    if st.form_submit_button("Segment again", type="primary"):
        with st.spinner("Forming segments..."):
            ok = segments_flow.apply_choice(
                tuple(picked) if picked and set(picked) != set(view.default if view else ())
                else None, None if k_pick == AUTO else int(k_pick))
        if ok:
            st.rerun()

show_problems(get(K.SEGMENT_PROBLEMS), title="The segments could not be formed",
              key="segment_problems")
if view is None:
    st.info("No segments could be formed for this table. Pick other columns above, or "
            "check the column types on the Data page.")
    st.stop()

report = view.report
model = report.model
summary = report.summary
how = (f"{model.k} segments chosen automatically" if model.chosen_automatically
       else f"{model.k} segments, as asked")
columns = ", ".join(plain(model.label(c)) for c in model.features)
st.caption(f"{how}, on {columns}.")
if not view.trained:
    st.info("Segmented on the loaded table. Train a model on the Model page to see each "
            "segment's risk tiers and its own churn drivers.", icon=":material/info:")

st.plotly_chart(charts_segments.overview(summary, report.overall_rate), width="stretch",
                key="chart_segment_overview")

table = summary[["name", "size", "share", "churn_rate", "value", "high", "medium", "low",
                 "drivers", "action"]]
if not view.trained:
    table = table.drop(columns=["high", "medium", "low"])
if table["value"].isna().all():
    table = table.drop(columns=["value"])
pct = st.column_config.NumberColumn
st.dataframe(
    table, hide_index=True, width="stretch", key="table_segments",
    column_config={
        "name": st.column_config.TextColumn("segment", width="medium"),
        "size": pct("customers", format="localized"),
        "share": pct("share", format="percent"),
        "churn_rate": pct("churn rate", format="percent"),
        "value": pct("value per customer", format="%.2f", help=report.value_source or None),
        "high": pct("high risk", format="percent",
                    help="Share of the segment's customers to act on in the high tier"),
        "medium": pct("medium risk", format="percent"),
        "low": pct("low risk", format="percent"),
        "drivers": st.column_config.TextColumn(
            "top churn drivers", width="medium",
            help="What raises these customers' churn risk most in the model"
            if report.drivers_source == "model" else
            "What sets these customers apart (the model's own drivers appear once trained)"),
        "action": st.column_config.TextColumn("suggested action", width="large"),
    })
if report.value_source:
    st.caption(f"Value per customer: {plain(report.value_source)}.")

if report.tiers is not None:
    st.subheader("Segments x risk tier")
    st.plotly_chart(charts_segments.tier_mix(report.tiers), width="stretch",
                    key="chart_segment_tiers")
    st.dataframe(report.tiers[["name", "customers", "high", "medium", "low"]],
                 hide_index=True, width="stretch", key="table_segment_tiers",
                 column_config={"name": st.column_config.TextColumn("segment")})

st.subheader("What sets each segment apart")
cols = st.columns(2)
for i in range(model.k):
    with cols[i % 2]:
        st.plotly_chart(charts_segments.profile(report.profile, i), width="stretch",
                        key=f"chart_segment_profile_{i}")

with st.expander("How the number of segments was chosen, and a map of the customers"):
    if model.chosen_automatically:
        st.plotly_chart(charts_segments.choice(model.choice, model.k), width="stretch",
                        key="chart_segment_choice")
    else:
        st.write(f"{model.k} segments were asked for; nothing was chosen automatically.")
    st.plotly_chart(charts_segments.segment_map(report.points), width="stretch",
                    key="chart_segment_map")
