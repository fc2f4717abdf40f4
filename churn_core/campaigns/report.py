"""The effect of a campaign: churn contact versus control, uplift with intervals, money.

The retention uplift is the control group's churn rate minus the contacted
group's, in percentage points, with Newcombe's 95 % interval. Customers saved
scale the uplift (and its interval) to everyone contacted; incremental revenue
comes from the outcome file's revenue column when there is one (difference of
mean revenue per customer, Welch interval), else from the campaign's
``value_retained`` per customer saved; profit subtracts the offer and contact
costs of everyone contacted. The same is shown by risk decile and by segment,
and as a Qini curve by decile with a bootstrap band.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn_core.campaigns import records
from churn_core.campaigns.stats import (
    binomial_bootstrap,
    mean_difference_interval,
    uplift_interval,
    wilson_interval,
)
from churn_core.problems import Problem

N_BOOT = 1000
RISKIEST_DECILES = 3
EFFECT_COLUMNS = ["n_contact", "n_control", "churn_rate_contact", "churn_rate_control",
                  "uplift_pp", "uplift_ci_low", "uplift_ci_high"]


@dataclass(frozen=True)
class CampaignReport:
    """A campaign's result.

    Attributes
    ----------
    summary : dict
        JSON-ready figures: ``uplift_pp``, ``uplift_ci_low``, ``uplift_ci_high``,
        ``n_contact``, ``n_control`` (customers with an outcome), ``churn_rate_contact``,
        ``churn_rate_control``, ``customers_saved`` and ``incremental_revenue`` and
        ``profit`` each with ``_ci_low``/``_ci_high``, ``riskiest_uplift_pp`` and
        ``rest_uplift_pp`` (risk deciles 1-3 against 4-10) with intervals, campaign details.
    by_decile, by_segment : DataFrame
        Key column, then :data:`EFFECT_COLUMNS`.
    qini : DataFrame
        ``decile, share_targeted, qini, qini_low, qini_high, random``: extra customers
        kept when contacting the riskiest deciles up to this one, with a 95 %
        bootstrap band, and what random targeting of the same share would keep.
    problems : tuple of Problem
    """

    summary: dict[str, Any]
    by_decile: pd.DataFrame
    by_segment: pd.DataFrame
    qini: pd.DataFrame
    problems: tuple[Problem, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Everything as plain JSON values (NaN as null)."""
        def rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [{k: _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]

        return {**{k: _plain(v) for k, v in self.summary.items()},
                "by_decile": rows(self.by_decile), "by_segment": rows(self.by_segment),
                "qini": rows(self.qini),
                "problems": [{"code": p.code, "severity": p.severity, "message": p.message}
                             for p in self.problems]}


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def effects(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Churn rates per group and the uplift with its Newcombe interval, overall or per ``by``.

    Parameters
    ----------
    frame : DataFrame
        ``grp`` (contact/control), ``churned`` (0/1; rows without an outcome are ignored)
        and the ``by`` column.
    by : str, optional
        One row per value of this column (every value among the members, sorted);
        None = one row overall.

    Returns
    -------
    DataFrame
        ``by`` (when given), then :data:`EFFECT_COLUMNS` (rates as proportions, uplift in
        percentage points; NaN where a group has no outcome).
    """
    key = frame[by] if by else pd.Series(0, index=frame.index)
    levels = np.sort(key.unique()) if len(key) else np.array([0])
    known = frame["churned"].notna()
    counts = {}
    for grp in ("contact", "control"):
        rows = known & (frame["grp"] == grp)
        g = frame.loc[rows, "churned"].groupby(key[rows])
        counts[grp] = (g.size().reindex(levels, fill_value=0).to_numpy(dtype=float),
                       g.sum().reindex(levels, fill_value=0).to_numpy(dtype=float))
    (n_t, x_t), (n_c, x_c) = counts["contact"], counts["control"]
    up, low, high = uplift_interval(x_c, n_c, x_t, n_t)
    out = pd.DataFrame({
        "n_contact": n_t.astype(int), "n_control": n_c.astype(int),
        "churn_rate_contact": np.where(n_t > 0, x_t / np.maximum(n_t, 1), np.nan),
        "churn_rate_control": np.where(n_c > 0, x_c / np.maximum(n_c, 1), np.nan),
        "uplift_pp": 100 * up, "uplift_ci_low": 100 * low, "uplift_ci_high": 100 * high,
    })
    if by:
        out.insert(0, by, levels)
    return out


def qini_by_decile(frame: pd.DataFrame, *, n_boot: int = N_BOOT, seed: int = 42
                   ) -> pd.DataFrame:
    """Cumulative extra customers kept when contacting the riskiest deciles first.

    For the deciles up to ``k``: ``qini = churned_control * n_contact / n_control -
    churned_contact`` (control churn scaled to the contacted group's size, minus the
    contacted group's churn). The band is the 2.5 and 97.5 percentiles over
    ``n_boot`` stratified bootstrap resamples (each decile and group keeps its size).
    """
    known = frame[frame["churned"].notna()]
    deciles = np.arange(1, 11)
    counts = {}
    for grp in ("contact", "control"):
        g = known[known["grp"] == grp].groupby("risk_decile")["churned"]
        counts[grp] = (g.size().reindex(deciles, fill_value=0).to_numpy(),
                       g.sum().reindex(deciles, fill_value=0).to_numpy())
    (n_t, x_t), (n_c, x_c) = counts["contact"], counts["control"]
    present = (n_t + n_c) > 0
    deciles, n_t, x_t, n_c, x_c = (a[present] for a in (deciles, n_t, x_t, n_c, x_c))

    def curve(xt: np.ndarray, xc: np.ndarray) -> np.ndarray:
        ct, cc = np.cumsum(n_t), np.cumsum(n_c)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(cc > 0, np.cumsum(xc, axis=-1) * ct / cc - np.cumsum(xt, axis=-1),
                            np.nan)

    q = curve(x_t, x_c)
    rng = np.random.default_rng(seed)
    boot = curve(binomial_bootstrap(x_t, n_t, n_boot=n_boot, rng=rng),
                 binomial_bootstrap(x_c, n_c, n_boot=n_boot, rng=rng))
    with np.errstate(invalid="ignore"):
        low, high = (np.nanpercentile(boot, p, axis=0) if boot.size else q for p in (2.5, 97.5))
    share = np.cumsum(n_t + n_c) / max((n_t + n_c).sum(), 1)
    total = q[-1] if q.size else np.nan
    return pd.DataFrame({"decile": deciles.astype(int), "share_targeted": share, "qini": q,
                         "qini_low": low, "qini_high": high,
                         "random": share * total})


def _money(frame: pd.DataFrame, saved: tuple[float, float, float], n_contacted: int,
           economics: dict[str, Any]) -> dict[str, Any]:
    cost = n_contacted * (float(economics.get("offer_cost") or 0.0)
                          + float(economics.get("contact_cost") or 0.0))
    known = frame[frame["churned"].notna() & frame["revenue"].notna()]
    out: dict[str, Any] = {"campaign_cost": cost}
    if len(known):
        d, lo, hi = mean_difference_interval(known.loc[known["grp"] == "contact", "revenue"],
                                             known.loc[known["grp"] == "control", "revenue"])
        rev = (d * n_contacted, lo * n_contacted, hi * n_contacted)
        out["revenue_basis"] = "revenue in the outcome file (contact minus control per customer)"
    elif economics.get("value_retained") is not None:
        v = float(economics["value_retained"])
        rev = (saved[0] * v, saved[1] * v, saved[2] * v)
        out["revenue_basis"] = f"customers saved x value of a retained customer ({v:g})"
    else:
        rev = (math.nan, math.nan, math.nan)
        out["revenue_basis"] = "not known: no revenue column and no value of a retained customer"
    out.update(incremental_revenue=rev[0], incremental_revenue_ci_low=rev[1],
               incremental_revenue_ci_high=rev[2], profit=rev[0] - cost,
               profit_ci_low=rev[1] - cost, profit_ci_high=rev[2] - cost)
    return out


def report_frame(frame: pd.DataFrame, campaign: records.CampaignRecord, *,
                 n_boot: int = N_BOOT, seed: int = 42) -> CampaignReport:
    """Build the report from a members frame (:func:`records.members_frame`)."""
    overall = effects(frame).iloc[0]
    n_contacted = int((frame["grp"] == "contact").sum())
    n_known = int(frame["churned"].notna().sum())
    up = overall[["uplift_pp", "uplift_ci_low", "uplift_ci_high"]].to_numpy(dtype=float) / 100
    saved = tuple(float(u * n_contacted) for u in up)
    c_low, c_high = wilson_interval(overall["churn_rate_contact"] * overall["n_contact"],
                                    overall["n_contact"])
    k_low, k_high = wilson_interval(overall["churn_rate_control"] * overall["n_control"],
                                    overall["n_control"])
    summary: dict[str, Any] = {
        "campaign": campaign.name, "created_at": campaign.created_at,
        "model_hash": campaign.model_hash, "threshold": campaign.threshold,
        "holdout": campaign.holdout, "economics": campaign.economics,
        "n_members": campaign.n_members, "n_contact_members": n_contacted,
        "n_control_members": campaign.n_members - n_contacted, "n_outcomes": n_known,
        "outcome_coverage": n_known / max(campaign.n_members, 1),
        "n_contact": int(overall["n_contact"]), "n_control": int(overall["n_control"]),
        **{k: _plain(float(overall[k])) for k in EFFECT_COLUMNS[2:]},
        "churn_rate_contact_ci": [float(c_low), float(c_high)],
        "churn_rate_control_ci": [float(k_low), float(k_high)],
        "customers_saved": saved[0], "customers_saved_ci_low": saved[1],
        "customers_saved_ci_high": saved[2],
        **_money(frame, saved, n_contacted, campaign.economics),
    }
    # Were the riskiest also the ones the offer saved? The top three deciles against the rest.
    split = effects(frame.assign(part=np.where(frame["risk_decile"] <= RISKIEST_DECILES,
                                               "riskiest", "rest")), "part").set_index("part")
    for part in ("riskiest", "rest"):
        row = split.loc[part] if part in split.index else None
        for col in ("uplift_pp", "uplift_ci_low", "uplift_ci_high"):
            summary[f"{part}_{col}"] = math.nan if row is None else float(row[col])
    problems = []
    if n_known == 0:
        problems.append(Problem("CAMPAIGN_NO_OUTCOMES", "info",
                                f"No outcomes have been uploaded for '{campaign.name}' yet.",
                                action="upload an outcome file"))
    elif n_known < campaign.n_members:
        problems.append(Problem(
            "CAMPAIGN_PARTIAL_OUTCOMES", "warning",
            f"{campaign.n_members - n_known:,} of {campaign.n_members:,} members have no "
            "outcome yet; rates use the customers with one.",
            count=campaign.n_members - n_known, action="upload the missing outcomes"))
    if n_known and (overall["n_control"] == 0 or overall["n_contact"] == 0):
        problems.append(Problem("CAMPAIGN_ONE_GROUP", "warning",
                                "Outcomes exist for one group only; the uplift is unknown.",
                                action="upload outcomes of both groups"))
    segment = effects(frame.assign(segment=frame["segment"].replace("", "(none)")), "segment")
    return CampaignReport(summary, effects(frame, "risk_decile").rename(
        columns={"risk_decile": "decile"}), segment,
        qini_by_decile(frame, n_boot=n_boot, seed=seed), tuple(problems))


def campaign_report(name: str, *, store: str | Path | None = None, n_boot: int = N_BOOT,
                    seed: int = 42) -> CampaignReport:
    """The report of campaign ``name`` from the store.

    Raises
    ------
    ChurnDataError
        ``CAMPAIGN_NOT_FOUND``.
    """
    conn = records.connect(store)
    try:
        campaign = records.get_campaign(conn, name)
        frame = records.members_frame(conn, campaign.campaign_id)
    finally:
        conn.close()
    return report_frame(frame, campaign, n_boot=n_boot, seed=seed)


def campaign_history(*, store: str | Path | None = None) -> pd.DataFrame:
    """Every campaign, newest first, with its uplift and interval where outcomes exist.

    Counts come from one aggregate query, so the history stays quick with large campaigns.
    """
    conn = records.connect(store)
    try:
        table = records.campaigns_frame(conn)
        counts = pd.DataFrame([tuple(r) for r in conn.execute(
            "SELECT m.campaign_id, m.grp, count(*), sum(o.churned) FROM campaign_members m "
            "JOIN campaign_outcomes o ON o.campaign_id = m.campaign_id "
            "AND o.customer_id = m.customer_id GROUP BY m.campaign_id, m.grp")],
            columns=["campaign_id", "grp", "n", "churned"])
    finally:
        conn.close()
    wide = counts.pivot(index="campaign_id", columns="grp", values=["n", "churned"])
    wide = wide.reindex(table["campaign_id"]).fillna(0)

    def col(name: str, grp: str) -> np.ndarray:
        key = (name, grp)
        return wide[key].to_numpy(dtype=float) if key in wide.columns else np.zeros(len(wide))

    up, low, high = uplift_interval(col("churned", "control"), col("n", "control"),
                                    col("churned", "contact"), col("n", "contact"))
    return table.drop(columns=["campaign_id"]).assign(
        uplift_pp=100 * up, uplift_ci_low=100 * low, uplift_ci_high=100 * high)
