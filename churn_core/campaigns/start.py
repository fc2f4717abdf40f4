"""Starting a campaign: plan the groups, record everything in the store, return the list.

The command line (from a saved model and fresh data) and the app's Alerts page
(from the current at-risk list) both call :func:`start_campaign`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from churn_core.campaigns import records
from churn_core.campaigns.assign import GROUP_COLUMN, CampaignPlan, plan_campaign

log = logging.getLogger(__name__)


def model_hash(booster: Any) -> str:
    """SHA-256 (hex) of an XGBoost booster's UBJSON bytes: the model a campaign came from.

    For a saved bundle this equals its manifest's ``model_sha256``.
    """
    return hashlib.sha256(bytes(booster.save_raw(raw_format="ubj"))).hexdigest()


def start_campaign(table: pd.DataFrame, *, name: str, holdout: float = 0.1,
                   features: pd.DataFrame | None = None, model_hash: str = "",
                   threshold: float | None = None,
                   economics: Mapping[str, Any] | None = None,
                   store: str | Path | None = None) -> CampaignPlan:
    """Draw the control group over the at-risk customers and record the campaign.

    Parameters
    ----------
    table : DataFrame
        The at-risk list (id column first, ``churn_probability``, ``risk_tier``,
        ``at_risk``, ``segment``, ``reason_1..3``, ``suggested_action``, optionally
        ``value_at_risk``); only rows with ``at_risk`` true become members.
    name : str
        Unique campaign name; it seeds the control group.
    holdout : float, default 0.1
        Share of members kept as control.
    features : DataFrame, optional
        Numeric features with the id column, for the balance table.
    model_hash : str
        Identifies the model that scored the list (see :func:`model_hash`).
    threshold : float, optional
        The alert threshold used.
    economics : mapping, optional
        ``value_retained``, ``offer_cost``, ``contact_cost``, ``success_rate``: used by the
        power check now and by the report's money figures later.
    store : path, optional
        Store file; :func:`churn_core.store.default_store_path` when None.

    Returns
    -------
    CampaignPlan
        ``plan.members`` is the list to hand out (write it with
        :func:`churn_core.export.to_csv_bytes`).

    Raises
    ------
    ChurnDataError
        Any error of :func:`~churn_core.campaigns.assign.plan_campaign`,
        ``CAMPAIGN_EXISTS`` or ``STORE_UNAVAILABLE``; nothing is recorded then.
    """
    plan = plan_campaign(table, name=name, holdout=holdout, features=features,
                         economics=economics)
    m = plan.members
    value = (m["value_at_risk"] if "value_at_risk" in m.columns
             else pd.Series(np.nan, index=m.index))
    stored = pd.DataFrame({
        "customer_id": m[plan.id_column].astype(str),
        "grp": m[GROUP_COLUMN],
        "churn_probability": m["churn_probability"],
        "risk_decile": plan.deciles,
        "segment": m["segment"].astype(str) if "segment" in m.columns else "",
        "value_at_risk": value,
    })
    conn = records.connect(store)
    try:
        records.insert_campaign(conn, name=plan.name, id_column=plan.id_column, members=stored,
                                holdout=holdout, base_rate=plan.power.base_rate,
                                model_hash=model_hash, threshold=threshold,
                                economics=economics)
    finally:
        conn.close()
    log.info("campaign %r recorded: %d members", plan.name, len(m))
    return plan
