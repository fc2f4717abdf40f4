"""Model: train with step-by-step progress, then judge it against a baseline."""

from __future__ import annotations

import streamlit as st

from churn_core import charts
from churn_core.pipeline import SHORT_NAMES, Economics, TrainConfig, detect_device, quality_verdict
from ui import cache
from ui.flows import model as model_flow
from ui.guards import require_dataset, require_label
from ui.state import StateKeys, get, put
from ui.widgets import metric_row, plain, show_problems

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
    quick = c1.checkbox("Quick training", key=K.W_QUICK,
                        help="No parameter search, 3 folds, and only XGBoost and logistic "
                        "regression on the leaderboard.")
    balance = c2.checkbox("Weight churners up", value=False,
                          help="For rare churn: count each churner more while training.")
    device = c3.selectbox("Device", ["auto", "cpu", "cuda"],
                          help=f"auto uses the GPU when one works (here: {detect_device()}).")
    go = st.form_submit_button("Train the model", type="primary", icon=":material/play_arrow:")

if go:
    config = TrainConfig(search=not quick, cv_folds=3 if quick else None, class_weight=balance,
                         device=device, side_models=not quick)
    log: list[str] = []
    with st.status("Training...", expanded=True) as status:
        bar = st.progress(0.0)

        def progress(fraction: float, message: str) -> None:
            log.append(message)
            bar.progress(min(max(float(fraction), 0.0), 1.0), text=message)
            st.write(message)

        ok = model_flow.train(config, progress)
        put(K.TRAIN_LOG, log)
        status.update(label="Model trained" if ok else "Training failed",
                      state="complete" if ok else "error", expanded=not ok)

show_problems(get(K.TRAIN_PROBLEMS), title="Training failed")
analysis = get(K.ANALYSIS)
if analysis is None:
    st.info("Press 'Train the model' to fit a churn model on the current table.")
    st.stop()

r = analysis.result
ev = r.evaluation
grade, sentence = quality_verdict(ev.roc_auc, ev.top_decile_lift)
box = {"Excellent": st.success, "Good": st.success, "Fair": st.warning}.get(grade, st.error)
box(f"**Model quality: {grade}.** {sentence}")
tiles = {
    "ROC-AUC (out of fold)": f"{ev.roc_auc:.3f}",
    "Logistic regression": f"{r.baseline_auc:.3f}",
    "PR-AUC": f"{ev.pr_auc:.3f}",
    "Ships": SHORT_NAMES.get(r.champion, r.champion),
}
if r.backtest is not None:
    tiles["Backtest by time"] = f"{r.backtest.roc_auc:.3f}"
econ = get(K.ECONOMICS) or Economics()
tiles["EMP per customer"] = f"{cache.emp(get(K.MODEL_KEY), econ, analysis):,.2f}"
metric_row(tiles)
st.caption(
    f"Every one of the {r.rows.size:,} labelled customers was scored by models that never saw "
    f"them ({int(r.folds.max()) + 1} folds that keep each customer and each copied profile on "
    f"one side); these out-of-fold scores draw every chart, choose the threshold and rank the "
    f"at-risk list. The shipped model then learnt from all {r.rows.size:,} labelled customers"
    + (f" ({r.trees} trees)." if r.champion == "xgboost" else ".")
    + (" Backtest by time: trained on earlier cutoffs, tested on the latest one."
       if r.backtest is not None else "")
    + f" EMP: the Expected Maximum Profit of these scores per customer, in {plain(econ.currency)}"
    " (Verbraken et al. 2013), for the money inputs of the Alerts page.")
if note := model_flow.value_features_note():
    st.caption(note)

st.subheader("Leaderboard")
st.dataframe(
    r.leaderboard[["name", "cv_roc_auc", "cv_roc_auc_std", "oof_log_loss",
                   "train_rows_per_fold", "seconds", "explainable", "champion"]],
    hide_index=True, width="stretch",
    column_config={"name": "model", "cv_roc_auc": st.column_config.NumberColumn(
        "ROC-AUC (cross-validated)", format="%.4f"),
        "cv_roc_auc_std": st.column_config.NumberColumn("spread over folds", format="%.4f"),
        "oof_log_loss": st.column_config.NumberColumn("log loss", format="%.4f"),
        "train_rows_per_fold": st.column_config.NumberColumn("rows per fold", format="%d"),
        "seconds": st.column_config.NumberColumn("seconds", format="%.1f"),
        "explainable": st.column_config.CheckboxColumn("reasons per customer"),
        "champion": st.column_config.CheckboxColumn("ships")})
cal = r.calibration
side = set(r.leaderboard["model"]) - {"xgboost", "logistic"}
tie = ("XGBoost, whose fold models learnt from the sample the learning curve sized and "
       "which learns from every row once shipped" if r.sizing.rows is not None
       else "the simpler one")
st.caption("Same folds for every model"
           + ("; the forest and the network, shown for comparison, on the first two of them"
              if side else "")
           + ". The best model whose reasons can be computed per customer ships (a tie goes "
           f"to {tie}). "
           + (f"Probabilities are calibrated (Platt scaling): out-of-fold log loss "
              f"{cal.log_loss_raw:.4f} -> {cal.log_loss_calibrated:.4f}." if cal.used else
              "Probabilities are used as the model gives them (calibrating them did not "
              "lower the out-of-fold log loss)."))

left, right = st.columns(2)
left.plotly_chart(charts.roc_curve(ev.roc, auc=ev.roc_auc, baseline_auc=r.baseline_auc),
                  width="stretch")
right.plotly_chart(charts.pr_curve(ev.pr, pr_auc=ev.pr_auc, base_rate=ev.base_rate),
                   width="stretch")
left, right = st.columns(2)
left.plotly_chart(charts.calibration(ev.calibration), width="stretch")
right.plotly_chart(charts.lift_gain(ev.lift), width="stretch")

choice = get(K.THRESHOLD)
point = analysis.curve.at(choice.value)
left, right = st.columns(2)
left.plotly_chart(charts.confusion(point.tp, point.fp, point.fn, point.tn,
                                   threshold=choice.value), width="stretch")
with right:
    st.markdown(f"At the current threshold **{choice.value:.2f}** "
                f"(chosen by: {plain(choice.method)}) the model flags "
                f"{point.flagged:,} of the {analysis.curve.n:,} labelled customers: "
                f"precision {point.precision:.0%}, recall {point.recall:.0%} (out of fold).")
    st.page_link("pages/alerts.py", label="Change the threshold on the Alerts page",
                 icon=":material/notifications_active:")
    if get(K.TRAIN_LOG):
        with st.expander("Training log"):
            st.text("\n".join(get(K.TRAIN_LOG)))
    if len(r.search_table):
        with st.expander("Parameter search"):
            st.dataframe(r.search_table, hide_index=True, width="stretch")
