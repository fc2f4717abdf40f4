"""Monitor: scheduled runs from the store: history, drift, what changed, ROC-AUC over time."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from churn_core.monitor.charts import auc_over_time, drift_effects, score_distribution
from churn_core.pipeline import ChurnDataError
from ui.flows import monitor as flow
from ui.state import StateKeys
from ui.widgets import metric_row, plain, show_data_error

K = StateKeys
COMMAND = "python -m churn_core monitor BUNDLE DATA [--report FILE.json] [--min-auc 0.7]"

st.title("Monitor")
st.caption("Runs recorded by the scheduled command line: who entered or left the at-risk list, "
           "whether the data still looks like the model's reference, and how well the model "
           "is expected to perform before outcomes are known.")

path = flow.store_path()
if not path.exists():
    st.info(f"No monitoring runs yet (no store at {plain(path)}). Schedule this command to record "
            "one per batch of fresh customers:")
    st.code(COMMAND, language="bash")
    st.stop()
try:
    recorded = flow.load_history(path)
except ChurnDataError as exc:
    show_data_error(exc, title="The monitoring store cannot be read")
    st.stop()
if recorded.history.empty:
    st.info("The store holds no monitoring run yet. Record one with:")
    st.code(COMMAND, language="bash")
    st.stop()

history = recorded.history
decisions = recorded.decisions
models = list(dict.fromkeys(history["model"]))
model = st.selectbox("Model", models, index=len(models) - 1, key=K.W_MONITOR_MODEL,
                     help="Runs are grouped by the model's hash.") if len(models) > 1 else models[0]
history = history[history["model"] == model].reset_index(drop=True)
latest = history.iloc[-1]
metric_row({"Runs": f"{len(history):,}", "At risk (latest)": f"{int(latest['at_risk']):,}",
            "Estimated ROC-AUC (latest)": "-" if pd.isna(latest["estimated_auc"])
            else f"{latest['estimated_auc']:.3f}",
            "Drifted columns (latest)": f"{int(latest['drifted']):,}"})

st.subheader("Run history")
st.dataframe(history[["created_at", "run_id", "rows", "at_risk", "entered", "left", "drifted",
                      "drifted_features", "score_drift", "estimated_auc", "realised_auc",
                      "alerts"]].iloc[::-1], hide_index=True, width="stretch")

left, right = st.columns(2)
left.plotly_chart(score_distribution(history), width="stretch")
right.plotly_chart(auc_over_time(history), width="stretch")

st.subheader("One run in detail")
by_label = {f"{t} ({r})": r for r, t in zip(history["run_id"], history["created_at"],
                                           strict=True)}
chosen = st.selectbox("Run", list(by_label)[::-1], key=K.W_MONITOR_RUN)
summary = flow.run_summary(recorded, by_label[chosen])
for alert in summary.get("alerts") or []:
    st.warning(plain(alert), icon=":material/warning:")

diff = summary.get("diff")
if diff:
    rho = "-" if diff["spearman"] is None else f"{diff['spearman']:.3f}"
    metric_row({"Entered the at-risk list": f"{diff['entered_count']:,}",
                "Left it": f"{diff['left_count']:,}",
                "Rank correlation with the previous run": rho})
    if diff["top_movers"]:
        st.caption("Largest score changes since the previous run, and how their reasons changed")
        st.dataframe(pd.DataFrame(diff["top_movers"]), hide_index=True, width="stretch")
else:
    st.caption("First run of this model: nothing to compare with yet.")

table = flow.drift_table(summary)
if table is not None:
    st.caption(f"Drift against the reference ({summary.get('reference_source')}): a column is "
               "flagged only when the test rejects after Holm's correction and the effect "
               "size reaches its minimum.")
    st.dataframe(table[["feature", "kind", "test", "p_adjusted", "effect_name", "effect",
                        "min_effect", "missing_reference", "missing_current", "new_levels",
                        "vanished_levels", "drifted", "why"]],
                 hide_index=True, width="stretch")
    st.plotly_chart(drift_effects(table), width="stretch")
else:
    st.caption(summary.get("drift_note") or "Drift was not measured for this run.")

if not decisions.empty:
    st.subheader("Retraining decisions")
    st.dataframe(decisions, hide_index=True, width="stretch")
