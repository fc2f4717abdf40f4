"""Score: apply a saved model bundle (never a pickle) to fresh data and download the scores."""

from __future__ import annotations

import streamlit as st

from churn_core.pipeline import (
    ChurnDataError,
    ReadOptions,
    load_bundle_bytes,
    score_frame,
    to_csv_bytes,
)
from ui import cache
from ui.state import StateKeys, get, put
from ui.widgets import download_csv, head, metric_row, plain, show_data_error, show_problems

K = StateKeys

st.title("Score")
st.caption("Apply a model saved on the Alerts page to a fresh customer table with the same "
           "columns. Model files are zips with JSON and XGBoost files; pickles are refused.")

left, right = st.columns(2)
bundle_file = left.file_uploader("Model bundle (.zip)", type=["zip"], key=K.W_BUNDLE_UPLOAD)
data_file = right.file_uploader("Customers to score", key=K.W_SCORE_UPLOAD,
                                type=["csv", "tsv", "txt", "gz", "xlsx", "parquet"])

if bundle_file is not None and bundle_file.file_id != get(K.BUNDLE_ID):
    put(K.BUNDLE_ID, bundle_file.file_id)
    put(K.SCORE_RESULT, None)
    put(K.SCORE_ID, None)
    try:
        put(K.BUNDLE, load_bundle_bytes(bundle_file.getvalue(), name=bundle_file.name))
        put(K.SCORE_PROBLEMS, None)
    except ChurnDataError as exc:
        put(K.BUNDLE, None)
        put(K.SCORE_PROBLEMS, list(exc.problems))

failure = get(K.SCORE_PROBLEMS)
if failure is not None:
    show_data_error(ChurnDataError(failure), title="This file cannot be used")
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
score_id = f"{get(K.BUNDLE_ID)}:{data_file.file_id}"
if score_id != get(K.SCORE_ID):
    put(K.SCORE_ID, score_id)
    data = data_file.getvalue()
    try:
        with st.spinner("Scoring..."):
            # the model's id column is read exactly as written (no trimming, no "NA" -> blank)
            read = cache.read_file(cache.digest(data), data, data_file.name,
                                   ReadOptions().with_id(bundle.schema.id_column))
            result = score_frame(bundle, read.frame)
        put(K.SCORE_RESULT, (read.problems, result))
        put(K.SCORE_PROBLEMS, None)
    except ChurnDataError as exc:
        put(K.SCORE_RESULT, None)
        put(K.SCORE_PROBLEMS, list(exc.problems))
        st.rerun()

stored = get(K.SCORE_RESULT)
if stored is None:
    st.stop()
read_problems, result = stored
table = result.table
flagged = int(table["at_risk"].sum()) if "at_risk" in table else 0
metric_row({"Customers scored": f"{len(table):,}", "Flagged at risk": f"{flagged:,}",
            "Threshold": f"{result.threshold:.2f}"})
show_problems([*read_problems, *result.problems], title="Check the fresh data",
              key="score_problems")
st.dataframe(head(table, 1000), hide_index=True, width="stretch",
             column_config={"churn_probability": st.column_config.ProgressColumn(
                 "churn probability", min_value=0.0, max_value=1.0, format="percent")})
download_csv(f"Download scores ({len(table):,} customers)", lambda: to_csv_bytes(table),
             file_name="churn_scores.csv", key="download_scores")
