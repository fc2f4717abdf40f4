"""Home: what the tool does, the current dataset and model, one button for the sample."""

from __future__ import annotations

import streamlit as st

from ui.flows import data as data_flow
from ui.state import StateKeys, get
from ui.widgets import plain

K = StateKeys

st.title("churn-radar")
st.markdown(
    "Find the customers who are about to leave, see **why**, and decide **whom to call**.\n\n"
    "1. **Data** - upload a customer table (CSV, TSV, Excel, Parquet); every automatic "
    "decision is shown and can be changed. Or start from an **Event log** of orders.\n"
    "2. **Explore** and **Segments** - churn by feature, customer groups.\n"
    "3. **Model** - train and judge the churn model; **Explain** - what drives risk, "
    "customer by customer.\n"
    "4. **Alerts** - set the threshold from money and capacity and download the at-risk "
    "list; **Score** - apply a saved model to fresh data."
)

check = get(K.CHECK)
analysis = get(K.ANALYSIS)
# one card above the other: side by side, their metric tiles cut off at 1024 px wide
with st.container(border=True):
    st.subheader("Dataset")
    if check is None:
        st.write("No table loaded.")
    else:
        ds = check.dataset
        st.text(f"File: {get(K.SOURCE_NAME)}")
        n_labelled = int(ds.labelled.sum())
        rate = float(ds.y.mean()) if n_labelled else float("nan")
        c1, c2, c3 = st.columns(3)
        c1.metric("Customers", f"{len(ds.frame):,}")
        c2.metric("Features", f"{len(ds.schema.features):,}")
        c3.metric("Churn rate", f"{rate:.1%}" if n_labelled else "-")
        st.text(f"Label: {ds.schema.label_column or '(none)'}   "
                f"Id: {ds.schema.id_column or '(none)'}")
        if not check.usable:
            st.warning("The table has errors; see the Data page.")
    if st.button("Load the sample data", icon=":material/dataset:", type="primary") and \
            data_flow.load_sample():
        st.rerun()
    st.page_link("pages/data.py", label="Upload your own table", icon=":material/upload_file:")
with st.container(border=True):
    st.subheader("Model")
    if analysis is None:
        st.write("No model trained yet.")
        st.page_link("pages/model.py", label="Train a model", icon=":material/model_training:")
    else:
        ev = analysis.result.evaluation
        choice = get(K.THRESHOLD)
        c1, c2, c3 = st.columns(3)
        c1.metric("ROC-AUC (out of fold)", f"{ev.roc_auc:.3f}")
        c2.metric("Customers to act on", f"{len(analysis.population):,}")
        c3.metric("Threshold", f"{choice.value:.2f}")
        st.caption(f"Threshold chosen by: {plain(choice.method)}")
        st.page_link("pages/alerts.py", label="Set alerts and download the at-risk list",
                     icon=":material/notifications_active:")
