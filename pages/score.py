"""Score: apply a saved model bundle (never a pickle) to fresh data and download the scores."""

from __future__ import annotations

import streamlit as st

from churn_core.pipeline import to_csv_bytes
from ui.flows import score as score_flow
from ui.state import StateKeys, get
from ui.widgets import download_csv, head, metric_row, plain, show_problems

K = StateKeys

st.title("Score")
st.caption("Apply a model saved on the Alerts page to a fresh customer table with the same "
           "columns. Model files are zips with JSON and XGBoost files; pickles are refused.")

left, right = st.columns(2)
bundle_file = left.file_uploader("Model bundle (.zip)", type=["zip"], key=K.W_BUNDLE_UPLOAD)
data_file = right.file_uploader("Customers to score", key=K.W_SCORE_UPLOAD,
                                type=["csv", "tsv", "txt", "gz", "xlsx", "parquet"])

if bundle_file is not None:
    score_flow.load_bundle(bundle_file.file_id, bundle_file.name, bundle_file.getvalue())

failed = score_flow.failure()
if failed is not None:
    which, problems = failed
    show_problems(problems, title=which.headline, key="score_failure")
    st.caption(which.fix)
bundle = get(K.BUNDLE)
if bundle is None:
    st.info("Upload a model bundle first (download one on the Alerts page after training).")
    st.page_link("pages/alerts.py", label="Go to Alerts", icon=":material/notifications_active:")
    st.stop()

auc = bundle.metrics.get("roc_auc")  # a finite number or None (checked when loaded)
metric_row({
    "Model ROC-AUC (test)": "-" if auc is None else f"{auc:.3f}",
    "Saved threshold": f"{bundle.threshold['value']:.2f}",
    "Features": f"{len(bundle.preprocessor.feature_names):,}",
})
st.caption(f"Threshold chosen by: {plain(bundle.threshold.get('method', ''))}")

if data_file is None:
    st.info("Now upload the customers to score.")
    st.stop()
with st.spinner("Scoring..."):
    if score_flow.score(data_file.file_id, data_file.name, data_file.getvalue()):
        st.rerun()

run = get(K.SCORE_RESULT)
if run is None:
    st.stop()
result = run.result
table = result.table
flagged = int(table["at_risk"].sum()) if "at_risk" in table else 0
metric_row({"Customers scored": f"{len(table):,}", "Flagged at risk": f"{flagged:,}",
            "Threshold": f"{result.threshold:.2f}"})
show_problems([*run.read_problems, *result.problems], title="Check the fresh data",
              key="score_problems")
st.dataframe(head(table, 1000), hide_index=True, width="stretch",
             column_config={"churn_probability": st.column_config.ProgressColumn(
                 "churn probability", min_value=0.0, max_value=1.0, format="percent")})
download_csv(f"Download scores ({len(table):,} customers)", lambda: to_csv_bytes(table),
             file_name=score_flow.scores_file_name(result.threshold), key="download_scores")
