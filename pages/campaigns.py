"""Campaigns: start one over the at-risk list, upload outcomes, read the effect, history."""

from __future__ import annotations

import json

import streamlit as st

from churn_core import charts_campaigns as charts
from churn_core.pipeline import ChurnDataError, campaigns
from ui import campaign_widgets as cw
from ui.state import StateKeys, get
from ui.widgets import metric_row, show_data_error, show_problems

K = StateKeys

st.title("Campaigns")
st.caption("Contact the customers flagged at risk, keep a random control group uncontacted, "
           "then upload who churned: the difference between the groups is what the campaign "
           "achieved, with its 95 % interval.")
store = cw.store_path()

# -- start ------------------------------------------------------------------------------------
analysis = get(K.ANALYSIS)
with st.expander("Start a campaign from the current at-risk list", expanded=False,
                 icon=":material/campaign:"):
    if analysis is None:
        st.info("Train a model first; the campaign takes the customers flagged at the "
                "threshold set on the Alerts page.")
        st.page_link("pages/model.py", label="Go to Model", icon=":material/model_training:")
    else:
        cw.start_campaign_form_for(analysis, get(K.THRESHOLD).value, get(K.ECONOMICS))

# -- history ----------------------------------------------------------------------------------
try:
    history = campaigns.campaign_history(store=store)
except ChurnDataError as exc:
    show_data_error(exc, title="The campaign store cannot be opened")
    st.stop()
if history.empty:
    st.info("No campaigns yet. Start one above or with `python -m churn_core campaign start`.")
    st.stop()
st.subheader("History")
st.dataframe(history, hide_index=True, width="stretch", key="campaign_history",
             column_config={"holdout": st.column_config.NumberColumn("control share",
                                                                     format="percent"),
                            "uplift_pp": st.column_config.NumberColumn("uplift (points)",
                                                                       format="%+.1f"),
                            "uplift_ci_low": st.column_config.NumberColumn(format="%+.1f"),
                            "uplift_ci_high": st.column_config.NumberColumn(format="%+.1f")})
name = st.selectbox("Campaign", list(history["name"]), key=K.W_CAMPAIGN_PICK)

# -- outcomes ---------------------------------------------------------------------------------
st.subheader("Outcomes")
upload = st.file_uploader("Outcome file: customer id, churned (1/0, Yes/No, ...), optional "
                          "revenue", key=K.W_OUTCOME_UPLOAD,
                          type=["csv", "tsv", "txt", "gz", "xlsx", "parquet"])
if upload is not None and st.button("Record outcomes", key="record_outcomes",
                                    icon=":material/upload:"):
    cw.record_outcomes(upload.getvalue(), upload.name, name)
    st.rerun()   # the history and report above and below read the new outcomes
cw.show_outcome_result()

# -- report -----------------------------------------------------------------------------------
st.subheader("Effect")
row = history[history["name"] == name].iloc[0]
report = cw.report(str(store), name, (int(row["n_outcomes"]), int(row["n_uploads"])))
s = report.to_dict()
show_problems(report.problems, title="Report", key="campaign_report_problems")
if s["uplift_pp"] is None:
    st.info("The effect appears once outcomes of both groups are uploaded.")
    st.stop()


def _money(key: str) -> str:
    v, lo, hi = s[key], s[f"{key}_ci_low"], s[f"{key}_ci_high"]
    return "unknown" if v is None else f"{v:,.0f} ({lo:,.0f} to {hi:,.0f})"


metric_row({
    "Churn rate, contacted": f"{s['churn_rate_contact']:.1%}",
    "Churn rate, control": f"{s['churn_rate_control']:.1%}",
    "Retention uplift": f"{s['uplift_pp']:+.1f} points",
    "95 % interval": f"{s['uplift_ci_low']:+.1f} to {s['uplift_ci_high']:+.1f}",
})
metric_row({"Customers saved": _money("customers_saved"),
            "Incremental revenue": _money("incremental_revenue"),
            "Profit after costs": _money("profit")})
st.caption(f"Contacted {s['n_contact']:,} and control {s['n_control']:,} customers with an "
           f"outcome. Revenue: {s['revenue_basis']}; costs: {s['campaign_cost']:,.0f} of "
           "offers and contacts. Intervals are 95 %: the uplift by Newcombe's method.")
if s["riskiest_uplift_pp"] is not None and s["rest_uplift_pp"] is not None:
    st.markdown(f"**Riskiest 30 % of the list:** {s['riskiest_uplift_pp']:+.1f} points "
                f"({s['riskiest_uplift_ci_low']:+.1f} to {s['riskiest_uplift_ci_high']:+.1f}); "
                f"**the rest:** {s['rest_uplift_pp']:+.1f} points ({s['rest_uplift_ci_low']:+.1f}"
                f" to {s['rest_uplift_ci_high']:+.1f}).")
left, right = st.columns(2)
left.plotly_chart(charts.churn_rates(report.summary), width="stretch", key="chart_rates")
right.plotly_chart(charts.qini_curve(report.qini), width="stretch", key="chart_qini")
left, right = st.columns(2)
left.plotly_chart(charts.uplift_by(report.by_decile, "decile", title="Uplift by risk decile"),
                  width="stretch", key="chart_deciles")
right.plotly_chart(charts.uplift_by(report.by_segment, "segment", title="Uplift by segment"),
                   width="stretch", key="chart_segments")
with st.expander("Tables by risk decile and segment"):
    st.dataframe(report.by_decile, hide_index=True, width="stretch", key="table_deciles")
    st.dataframe(report.by_segment, hide_index=True, width="stretch", key="table_segments")
st.download_button("Download the report (JSON)", key="download_campaign_report",
                   data=json.dumps(s, indent=2, ensure_ascii=False).encode("utf-8"),
                   file_name=f"campaign_report_{cw.slug(name)}.json", mime="application/json",
                   on_click="ignore", icon=":material/download:")

# -- learn for the next campaign ------------------------------------------------------------
st.subheader("Next campaign: rank by expected uplift")
st.caption("The riskiest customers are not always the ones an offer saves. Two XGBoost models "
           "(contacted, control) learn from this campaign who the offer changes.")
if analysis is None:
    st.info("Train a model on the table the campaign came from to learn from it.")
else:
    cw.uplift_section(name, analysis, get(K.THRESHOLD).value)
