"""Campaign widgets: the start form (for the Alerts and Campaigns pages) and outcome uploads.

Pages call these; every decision (who is a member, who is control, what an
outcome means) is made by :mod:`churn_core.campaigns`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from churn_core import pipeline
from churn_core.pipeline import (
    ChurnDataError,
    Economics,
    campaigns,
    default_store_path,
    to_csv_bytes,
)
from ui import cache
from ui.state import StateKeys, get, put
from ui.widgets import download_csv, metric_row, plain, show_problems

K = StateKeys


def store_path() -> Path:
    """The store the app uses: ``StateKeys.CAMPAIGN_STORE`` when set, else the default."""
    chosen = get(K.CAMPAIGN_STORE)
    return Path(chosen) if chosen else default_store_path()


@dataclass(frozen=True)
class CampaignInputs:
    """What :func:`start_campaign_form` needs, built from a trained analysis."""

    table: pd.DataFrame
    features: pd.DataFrame | None
    model_hash: str
    threshold: float | None
    economics: dict[str, Any]


def campaign_inputs(analysis: Any, threshold: float, economics: Any) -> CampaignInputs:
    """The at-risk list at ``threshold`` (capped by the capacity), the customers' numeric
    features and the model hash of ``analysis``.

    Parameters
    ----------
    analysis : pipeline.Analysis
    threshold : float
    economics : threshold.Economics or mapping, optional
    """
    econ = (dataclasses.asdict(economics) if dataclasses.is_dataclass(economics)
            else dict(economics or {}))
    limit = economics.contact_limit if isinstance(economics, Economics) else econ.get("capacity")
    table = pipeline.export_table(analysis, threshold, capacity=limit)
    id_name = str(table.columns[0])
    pop = analysis.population
    numeric = [c for c in pop.X.columns
               if not isinstance(pop.X[c].dtype, pd.CategoricalDtype) and c != id_name]
    features = pop.X[numeric].copy()
    features.insert(0, id_name, pop.ids)
    return CampaignInputs(table, features, campaigns.model_hash(analysis.result.booster),
                          float(threshold), econ)


def slug(name: str) -> str:
    """A campaign name as a safe file-name stem."""
    return re.sub(r"[^\w-]+", "_", name).strip("_")[:60] or "campaign"


def start_campaign_form(table: pd.DataFrame, *, features: pd.DataFrame | None = None,
                        model_hash: str = "", threshold: float | None = None,
                        economics: Mapping[str, Any] | None = None) -> None:
    """A form that starts a campaign over the flagged rows of ``table``, then its results.

    Shows the name and control-share inputs and the **Start campaign** button; after
    a start, the group sizes, the power check, the balance table and the download of
    the list with its ``group`` column. Errors show as a problem table.

    Parameters
    ----------
    table : DataFrame
        The whole at-risk list (id column first; rows with ``at_risk`` true are members).
    features : DataFrame, optional
        Numeric features with the id column, compared between the groups.
    model_hash, threshold, economics
        Recorded with the campaign (see :func:`churn_core.campaigns.start_campaign`).
    """
    flagged = int(table["at_risk"].sum()) if "at_risk" in table.columns else len(table)
    econ = dict(economics or {})
    _form(flagged, lambda: CampaignInputs(table, features, model_hash, threshold, econ))


def start_campaign_form_for(analysis: Any, threshold: float, economics: Any) -> None:
    """:func:`start_campaign_form` for a trained analysis; the list is built only on submit.

    Parameters
    ----------
    analysis : pipeline.Analysis
    threshold : float
        Customers scored at or above it are the members.
    economics : threshold.Economics or mapping, optional
    """
    capacity = economics.contact_limit if isinstance(economics, Economics) else (
        economics.get("capacity") if isinstance(economics, Mapping) else None)
    listed = pipeline.alert_view(analysis, threshold, capacity=capacity).listed
    _form(listed, lambda: campaign_inputs(analysis, threshold, economics))


def _form(flagged: int, build: Callable[[], CampaignInputs]) -> None:
    with st.form("campaign_start_form"):
        st.markdown(f"**Start a campaign** over the {flagged:,} flagged customers, keeping a "
                    "random control group uncontacted so the effect can be measured.")
        c = st.columns([3, 1])
        name = c[0].text_input("Campaign name", key=K.W_CAMPAIGN_NAME,
                               placeholder="e.g. win-back December")
        holdout = c[1].number_input("Control group share", min_value=0.01, max_value=0.5,
                                    value=0.1, step=0.05, key=K.W_CAMPAIGN_HOLDOUT)
        submitted = st.form_submit_button("Start campaign", type="primary",
                                          icon=":material/campaign:")
    if submitted:
        try:
            inputs = build()
            plan = campaigns.start_campaign(inputs.table, name=name, holdout=float(holdout),
                                            features=inputs.features,
                                            model_hash=inputs.model_hash,
                                            threshold=inputs.threshold,
                                            economics=inputs.economics, store=store_path())
        except ChurnDataError as exc:
            put(K.CAMPAIGN_PROBLEMS, list(exc.problems))
        else:
            put(K.CAMPAIGN_STARTED, plan)
            put(K.CAMPAIGN_PROBLEMS, None)
    show_problems(get(K.CAMPAIGN_PROBLEMS), title="The campaign was not started",
                  key="campaign_start_problems")
    plan = get(K.CAMPAIGN_STARTED)
    if plan is not None:
        show_plan(plan)


def show_plan(plan: campaigns.CampaignPlan) -> None:
    """Group sizes, what the campaign can learn, the balance table and the list download."""
    st.success(f"Campaign '{plain(plan.name)}' started: {plan.n_contact:,} to contact, "
               f"{plan.n_control:,} kept as control.", icon=":material/campaign:")
    metric_row({
        "To contact": f"{plan.n_contact:,}",
        "Control group": f"{plan.n_control:,}",
        "Uplift known to": f"±{100 * plan.power.half_width:.1f} points",
        "Minimum detectable effect": f"{100 * plan.power.mde:.1f} points",
    })
    show_problems(plan.problems, title="Before you run it", key="campaign_plan_problems")
    st.dataframe(plan.balance, hide_index=True, width="stretch", key="campaign_balance",
                 column_config={"smd": st.column_config.NumberColumn(
                     "standardised mean difference", format="%.3f")})
    st.caption("Balance: a standardised mean difference below 0.1 means the groups look "
               "alike on that variable. Contact only the rows whose group is 'contact'.")
    download_csv(f"Download the campaign list ({len(plan.members):,} customers)",
                 lambda: to_csv_bytes(plan.members), file_name=f"{slug(plan.name)}.csv",
                 key="download_campaign_list")


@st.cache_data(max_entries=8, show_spinner=False)
def report(store: str, name: str, version: tuple[int, int]) -> campaigns.CampaignReport:
    """:func:`churn_core.campaigns.campaign_report`, computed again only when ``version``
    (outcome and upload counts from the history) changes."""
    return campaigns.campaign_report(name, store=store)


def record_outcomes(data: bytes, file_name: str, campaign: str) -> None:
    """Read an uploaded outcome file (guarded reader) and record it for ``campaign``."""
    try:
        read = cache.read_file(cache.digest(data), data, file_name, None)
        done = campaigns.upload_outcomes(read.frame, name=campaign, file_name=file_name,
                                         store=store_path())
    except ChurnDataError as exc:
        put(K.OUTCOME_RESULT, None)
        put(K.OUTCOME_PROBLEMS, list(exc.problems))
        return
    put(K.OUTCOME_RESULT, done)
    put(K.OUTCOME_PROBLEMS, None)


def show_outcome_result() -> None:
    """The last upload's match rate and counts, or why it was refused."""
    show_problems(get(K.OUTCOME_PROBLEMS), title="The outcomes were not recorded",
                  key="outcome_problems")
    done = get(K.OUTCOME_RESULT)
    if done is None:
        return
    if done.duplicate:
        st.info("These outcomes were uploaded before: nothing changed.")
    else:
        st.success(f"Outcomes recorded for '{plain(done.campaign)}'.")
    metric_row({
        "Match rate": f"{done.match_rate:.1%}",
        "Refused (not on the list)": f"{done.n_unknown:,}",
        "New outcomes": f"{done.n_new:,}",
        "Changed": f"{done.n_changed:,}",
        "Members with an outcome": f"{done.coverage:.1%}",
    })
    show_problems([p for p in done.problems if p.severity != "info"],
                  title="Outcome file", key="outcome_upload_problems")


@dataclass(frozen=True)
class UpliftView:
    """Uplift learned from one campaign for one model (kept between reruns)."""

    campaign: str
    model_key: str
    result: Any  # campaigns.uplift.UpliftComparison


def uplift_section(name: str, analysis: Any, threshold: float) -> None:
    """Offer to learn uplift from campaign ``name`` and compare the two rankings' profit.

    Features come from the current model's table; the ranked download is the whole
    current customer list with an ``expected_uplift`` column, highest first.
    """
    from churn_core import charts_campaigns
    from churn_core.pipeline import learn_from_campaign, rank_by_uplift

    model_key = get(K.MODEL_KEY)
    if st.button("Learn uplift from this campaign", key="learn_uplift",
                 icon=":material/school:"):
        try:
            pop = analysis.population
            result = learn_from_campaign(name, pop.X, pd.Series(pop.ids), store=store_path())
        except ChurnDataError as exc:
            put(K.UPLIFT, None)
            put(K.UPLIFT_PROBLEMS, list(exc.problems))
        else:
            put(K.UPLIFT, UpliftView(name, model_key, result))
            put(K.UPLIFT_PROBLEMS, None)
    show_problems(get(K.UPLIFT_PROBLEMS), title="Uplift cannot be learned",
                  key="uplift_problems")
    stored = get(K.UPLIFT)
    if stored is None or (stored.campaign, stored.model_key) != (name, model_key):
        return
    result = stored.result
    risk, uplift = result.best("risk"), result.best("uplift")
    metric_row({
        "Best profit, ranked by risk": f"{risk['profit_by_risk']:,.0f} "
                                       f"(top {risk['share']:.0%})",
        "Best profit, ranked by uplift": f"{uplift['profit_by_uplift']:,.0f} "
                                         f"(top {uplift['share']:.0%})",
        "Members learned from": f"{result.n_members:,}",
    })
    show_problems(result.problems, title="Uplift", key="uplift_result_problems")
    st.plotly_chart(charts_campaigns.ranking_profit(result.curve), width="stretch",
                    key="chart_ranking_profit")
    st.caption("Each member's uplift comes from models that never saw that member "
               "(5-fold cross-fitting); both curves count what actually happened in the "
               "campaign, at its value and costs.")
    download_csv("Download the customer list ranked by expected uplift",
                 lambda: to_csv_bytes(rank_by_uplift(
                     pipeline.export_table(analysis, threshold, at_risk_only=False),
                     result.model, analysis.population.X,
                     pd.Series(analysis.population.ids))),
                 file_name="customers_by_expected_uplift.csv", key="download_uplift_list")
