"""Model: train with step-by-step progress, then judge it against a baseline."""

from __future__ import annotations

import streamlit as st

from churn_core import charts
from churn_core.evaluate import quality_verdict
from churn_core.model import TrainConfig, detect_device
from ui import actions
from ui.state import StateKeys, get, put, require_dataset, require_label
from ui.widgets import metric_row, show_problems

K = StateKeys

st.title("Model")
check = require_dataset()
require_label(check)
if not check.usable:
    st.error("The table has errors that block training. Fix them on the Data page first.",
             icon=":material/error:")
    show_problems(check.problems)
    st.page_link("pages/data.py", label="Go to Data", icon=":material/upload_file:")
    st.stop()

with st.form("form_train"):
    c1, c2, c3 = st.columns(3)
    quick = c1.checkbox("Quick training (no parameter search, 3-fold CV)", key=K.W_QUICK)
    balance = c2.checkbox("Weight churners up (rare churn)", value=False)
    device = c3.selectbox("Device", ["auto", "cpu", "cuda"],
                          help=f"auto uses the GPU when one works (here: {detect_device()}).")
    go = st.form_submit_button("Train the model", type="primary", icon=":material/play_arrow:")

if go:
    config = TrainConfig(search=not quick, cv_folds=3 if quick else 5, class_weight=balance,
                         device=device)
    log: list[str] = []
    with st.status("Training...", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(fraction: float, message: str) -> None:
            log.append(message)
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)
            st.write(message)

        ok = actions.train(config, progress)
        put(K.TRAIN_LOG, log)
        status.update(label="Model trained" if ok else "Training failed",
                      state="complete" if ok else "error", expanded=not ok)

show_problems(get(K.TRAIN_PROBLEMS), title="Training failed")
analysis = get(K.ANALYSIS)
if analysis is None:
    st.info("Press 'Train the model' to fit a churn model on the current table.")
    st.stop()

r = analysis.result
ev = r.test_eval
grade, sentence = quality_verdict(ev.roc_auc, ev.top_decile_lift)
box = {"Excellent": st.success, "Good": st.success, "Fair": st.warning}.get(grade, st.error)
box(f"**Model quality: {grade}.** {sentence}")
metric_row({
    "ROC-AUC (test)": f"{ev.roc_auc:.3f}",
    "Baseline ROC-AUC": f"{r.baseline_auc:.3f}",
    "CV ROC-AUC": f"{r.cv_auc:.3f}",
    "PR-AUC": f"{ev.pr_auc:.3f}",
    "Top-10 % lift": f"{ev.top_decile_lift:.1f}x",
    "Device": r.device.upper(),
})
if r.baseline_auc >= ev.roc_auc:
    st.warning("The simple baseline does as well as the boosted model on the test customers; "
               "the relationships are mostly simple (or the data is small).",
               icon=":material/info:")
st.caption(f"Baseline = logistic regression on the same features. CV = {r.cv_auc:.3f} ± "
           f"{r.cv_auc_std:.3f} over folds that keep each customer on one side. Trained on "
           f"{len(r.splits.train):,} customers, tuned on {len(r.splits.valid):,}, tested on "
           f"{len(r.splits.test):,} never seen; {r.best_iteration} trees.")

left, right = st.columns(2)
left.plotly_chart(charts.roc_curve(ev.roc, auc=ev.roc_auc, baseline_auc=r.baseline_auc),
                  width="stretch")
right.plotly_chart(charts.pr_curve(ev.pr, pr_auc=ev.pr_auc, base_rate=ev.base_rate),
                   width="stretch")
left, right = st.columns(2)
left.plotly_chart(charts.calibration(ev.calibration), width="stretch")
right.plotly_chart(charts.lift_gain(ev.lift), width="stretch")

threshold = float(get(K.THRESHOLD))
point = analysis.test_curve.at(threshold)
left, right = st.columns(2)
left.plotly_chart(charts.confusion(point.tp, point.fp, point.fn, point.tn, threshold=threshold),
                  width="stretch")
with right:
    st.markdown(f"At the current threshold **{threshold:.2f}** "
                f"(chosen by: {get(K.THRESHOLD_METHOD)}) the model flags "
                f"{point.flagged:,} of {analysis.test_curve.n:,} test customers: "
                f"precision {point.precision:.0%}, recall {point.recall:.0%}.")
    st.page_link("pages/alerts.py", label="Change the threshold on the Alerts page",
                 icon=":material/notifications_active:")
    if get(K.TRAIN_LOG):
        with st.expander("Training log"):
            st.text("\n".join(get(K.TRAIN_LOG)))
    if len(r.search_table):
        with st.expander("Parameter search"):
            st.dataframe(r.search_table, hide_index=True, width="stretch")
