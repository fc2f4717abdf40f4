"""Event log: raw orders/events -> confirmed mapping -> churn definition -> training table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from churn_core import charts
from churn_core.pipeline import (
    FREQUENCIES,
    VALUE_FEATURE_MODES,
    ChurnDataError,
    ChurnDefinition,
    plan_cutoffs,
)
from ui.flows import events as events_flow
from ui.state import StateKeys, get
from ui.widgets import metric_row, plain, problems_table, show_data_error, show_problems

K = StateKeys
CUTOFF_LABELS = {"auto": "automatic", "monthly": "month ends", "biweekly": "every 14 days",
                 "weekly": "every 7 days"}
SHOW = {"info": st.info, "warning": st.warning, "error": st.error}

st.title("Event log")
st.caption("No churn column? Upload raw orders or events (customer id + date, optionally "
           "amount, quantity, order id, product, event type...). Features are computed only "
           "from events at or before each cutoff, so nothing leaks from the future.")

upload = st.file_uploader("Event log (CSV/TSV/TXT in any encoding, .gz, Excel or Parquet)",
                          key=K.W_EVENTS_UPLOAD,
                          type=["csv", "gz", "parquet", "tsv", "txt", "dat", "xlsx", "xlsm"])
if upload is not None and upload.file_id != get(K.EVENTS_ID):
    with st.spinner("Looking at the columns..."):
        events_flow.new_upload(upload.getvalue(), upload.name, upload.file_id)

if get(K.EVENTS_PROBLEMS) is not None:
    show_data_error(ChurnDataError(get(K.EVENTS_PROBLEMS)), title="The event log cannot be used")
proposal = get(K.EVENTS_MAPPING)
if proposal is None:
    st.info("Upload an event log to start.")
    st.stop()

# -- 1. mapping ------------------------------------------------------------------------------
st.subheader("1. Which column is what")
with st.form("form_events_mapping"):
    edited = st.data_editor(proposal.role_table(), hide_index=True, width="stretch",
                            disabled=["column"],
                            column_config={"role": st.column_config.SelectboxColumn(
                                options=events_flow.ROLE_CHOICES, required=True)})
    drop_duplicates = st.checkbox(
        "Leave out exact duplicate lines", value=True,
        help="Lines identical in every mapped column are usually exported twice; untick "
        "when identical lines are real repeat events (e.g. two equal items, no order id).")
    confirmed = st.form_submit_button("Confirm the mapping", type="primary")
problems_table(proposal.mapping.problems, key="mapping_problems")
if confirmed:
    try:
        with st.status("Staging the log...", expanded=True) as status:
            events_flow.stage(proposal, edited, drop_duplicates=drop_duplicates,
                              progress=lambda f, m: st.write(m))
            status.update(label="Log staged", state="complete", expanded=False)
    except ChurnDataError as exc:
        show_data_error(exc, title="The mapping does not work")

log = get(K.EVENTS_LOG)
if log is None:
    st.info("Check the roles above and press 'Confirm the mapping'.")
    st.stop()
metric_row({"Lines read": f"{log.rows_read:,}", "Lines used": f"{log.rows_used:,}",
            "Returns / cancellations": f"{log.returns:,}",
            "Days covered": f"{events_flow.days_covered(log.first_day, log.last_day):,}"})
# the dates in a caption: "2010-12-01 to 2011-12-09" does not fit a metric tile at 1024 px
st.caption(f"Period: {log.first_day} to {log.last_day}.")
if log.dropped:
    st.dataframe(pd.DataFrame(list(log.dropped)), hide_index=True, width="stretch")
show_problems([p for p in log.problems if p.severity != "info"], key="log_problems")

# -- 2. churn definition ---------------------------------------------------------------------
st.subheader("2. What churn means")
c = st.columns(5)
window = c[0].number_input("Churned if no order within (days)", 1, 3650, 90)
active = c[1].number_input("Counted if ordered in the last (days)", 1, 3650, 365)
lead = c[2].number_input("Lead time before the window (days)", 0, 365, 0)
history = c[3].number_input("History before the first cutoff (days)", 0, 3650, 90)
frequency = c[4].selectbox("Look at customers", FREQUENCIES, format_func=CUTOFF_LABELS.get,
                           help="Automatic: month ends when they leave enough cutoffs for a "
                           "backtest by time, else every 14 or 7 days.")
st.caption(f"A customer who ordered in the {active} days up to a cutoff is churned if they "
           f"place no order between day {lead + 1} and day {lead + window} after it.")
try:
    definition = ChurnDefinition(window_days=int(window), active_days=int(active),
                                 lead_days=int(lead), min_history_days=int(history),
                                 cutoffs=frequency)
except ChurnDataError as exc:
    show_data_error(exc, title="This definition is not valid")
    st.stop()
plan = plan_cutoffs(log.first_day, log.last_day, definition)
for p in plan.problems:
    SHOW[p.severity](plain(f"{p.message} ({p.action})"))
if any(p.severity == "error" for p in plan.problems):
    st.stop()
if plan.train_cutoffs:
    st.caption(f"Backtest by time: test cutoff {plan.test_cutoff}, "
               f"{len(plan.train_cutoffs)} training cutoff(s) whose churn window ends by then.")
elif plan.test_cutoff is not None:
    st.warning("No earlier cutoff's churn window ends by the latest outcome-known cutoff, so "
               "a model cannot be tested by time: look at customers automatically or every "
               "7 days, or shorten the churn window.")
with st.spinner("Counting customers per cutoff..."):
    summary = events_flow.cutoff_counts(log, definition)
if summary.empty:
    st.warning("No cutoff falls inside the log with this much history; use less history.")
    st.stop()
left, right = st.columns([3, 2])
left.plotly_chart(charts.cutoff_summary(summary), width="stretch")
right.dataframe(summary, hide_index=True, width="stretch",
                column_config={"churn_rate": st.column_config.NumberColumn(format="percent")})

# -- 3. build -------------------------------------------------------------------------------
st.subheader("3. Build the customer table")
value_mode = st.radio(
    "Purchase-model features (BG/NBD: chance still active, orders expected in the window)",
    list(VALUE_FEATURE_MODES), format_func=events_flow.VALUE_FEATURE_LABELS.get,
    horizontal=True, key=K.W_VALUE_FEATURES,
    help="Automatic: the model is tested by time with and without them, and they stay only "
         "when they raise the ROC-AUC by 0.002 or more. Each customer's value (expected spend "
         "over the next year) is added either way when the log has amounts.")
if st.button("Build the training table", type="primary", icon=":material/build:"):
    try:
        with st.status("Building features...", expanded=True) as status:
            bar = st.progress(0.0)
            events_flow.build(log, definition, f"{upload.name if upload else 'events'} (built)",
                              value_features=value_mode,
                              progress=lambda f, m: bar.progress(min(float(f), 1.0), text=m))
            status.update(label="Tables built", state="complete", expanded=False)
    except ChurnDataError as exc:
        show_data_error(exc, title="The tables could not be built")

result = get(K.EVENTS_BUILD)
if result is not None:
    training = result.training
    metric_row({"Training rows": f"{len(training):,}",
                "Cutoffs": f"{training['cutoff'].nunique():,}",
                "Churn rate": f"{training['churned'].mean():.1%}",
                "Customers to score now": f"{len(result.scoring):,}"})
    if note := events_flow.value_note(result):
        st.caption(note)
    show_problems(result.problems, key="build_problems")
    st.success("The training table is now the current dataset.", icon=":material/check:")
    st.page_link("pages/model.py", label="Next: train a model on it",
                 icon=":material/model_training:")
    st.dataframe(training.head(200), hide_index=True, width="stretch")
