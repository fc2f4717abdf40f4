"""The next campaign learns from the last: rank customers by expected uplift.

A *two-model* (T-) learner: one XGBoost model of churn for the contacted
customers of a finished campaign, one for its control group; a customer's
expected uplift is ``P(churn | not contacted) - P(churn | contacted)``. Ascarza
("Retention Futility", JMR 2018) found that the customers most at risk are not
always those an offer saves; this tells whether that holds for this shop.

The comparison of the two rankings is honest: uplift is cross-fitted (each
member's uplift comes from models that never saw that member), and each
ranking is scored on what actually happened in the campaign: contacting the
top share of members by that ranking would have kept (control churn rate -
contact churn rate) x members customers, at the campaign's value and costs.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xgboost as xgb

from churn_core.model import predict_X, to_dmatrix
from churn_core.problems import ChurnDataError, Problem

log = logging.getLogger(__name__)

MIN_PER_GROUP = 50
FOLDS = 5
ROUNDS = 150
PARAMS = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.05, "subsample": 0.8,
          "colsample_bytree": 0.8, "min_child_weight": 5, "lambda": 5.0,
          "tree_method": "hist", "nthread": 1}


@dataclass(frozen=True)
class UpliftModel:
    """Two churn models, fitted on the contacted and on the control members."""

    contact: xgb.Booster
    control: xgb.Booster

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Expected uplift (control churn probability minus contacted) for each row of ``X``."""
        return predict_X(self.control, X) - predict_X(self.contact, X)


@dataclass(frozen=True)
class UpliftComparison:
    """An uplift model and how the two rankings did on the campaign it learned from.

    Attributes
    ----------
    model : UpliftModel
        Fitted on every matched member (use it to rank the next list).
    curve : DataFrame
        ``share, members, saved_by_risk, saved_by_uplift, profit_by_risk,
        profit_by_uplift``: contacting the top ``share`` of members by each ranking.
    n_members : int
        Members with an outcome and features that the models learned from.
    problems : tuple of Problem
    """

    model: UpliftModel
    curve: pd.DataFrame
    n_members: int
    problems: tuple[Problem, ...]

    def best(self, ranking: str) -> pd.Series:
        """The row of :attr:`curve` with the highest profit for ``risk`` or ``uplift``."""
        return self.curve.loc[self.curve[f"profit_by_{ranking}"].idxmax()]


def _fit(X: pd.DataFrame, y: np.ndarray, seed: int) -> xgb.Booster:
    return xgb.train({**PARAMS, "seed": seed}, to_dmatrix(X, y), num_boost_round=ROUNDS)


def fit_uplift(X: pd.DataFrame, contact: np.ndarray, churned: np.ndarray, *,
               seed: int = 42) -> UpliftModel:
    """Fit the two churn models.

    Parameters
    ----------
    X : DataFrame
        Model features of the members (as from ``features.transform``).
    contact : ndarray of bool
        True for contacted members, False for control.
    churned : ndarray of 0/1
    """
    contact = np.asarray(contact, dtype=bool)
    y = np.asarray(churned, dtype=float)
    return UpliftModel(_fit(X[contact], y[contact], seed), _fit(X[~contact], y[~contact], seed))


def realised_gain(score: np.ndarray, contact: np.ndarray, churned: np.ndarray, *,
                  bins: int = 10) -> pd.DataFrame:
    """Customers kept when contacting the top share of members by ``score``, as observed.

    For the top ``k/bins`` of members (highest score first): (churn rate of control -
    churn rate of contacted) among them, times their number.

    Returns
    -------
    DataFrame
        ``share, members, saved``.
    """
    order = np.argsort(-np.asarray(score, dtype=float), kind="stable")
    t = np.asarray(contact, dtype=bool)[order]
    y = np.asarray(churned, dtype=float)[order]
    n = len(order)
    cuts = np.unique(np.ceil(np.arange(1, bins + 1) * n / bins).astype(int))
    nt, nc = np.cumsum(t)[cuts - 1], np.cumsum(~t)[cuts - 1]
    xt, xc = np.cumsum(y * t)[cuts - 1], np.cumsum(y * ~t)[cuts - 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(nc > 0, xc / nc, np.nan) - np.where(nt > 0, xt / nt, np.nan)
    return pd.DataFrame({"share": cuts / n, "members": cuts, "saved": rate * cuts})


def _folds(contact: np.ndarray, churned: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Fold of each member, stratified by group and outcome."""
    rng = np.random.default_rng(seed)
    fold = np.empty(len(contact), dtype=int)
    for stratum in np.unique(contact.astype(int) * 2 + churned.astype(int)):
        idx = np.flatnonzero(contact.astype(int) * 2 + churned.astype(int) == stratum)
        fold[rng.permutation(idx)] = np.arange(idx.size) % folds
    return fold


def compare_rankings(X: pd.DataFrame, contact: np.ndarray, churned: np.ndarray,
                     risk: np.ndarray, *, economics: Mapping[str, Any] | None = None,
                     seed: int = 42, folds: int = FOLDS) -> UpliftComparison:
    """Cross-fit uplift on a finished campaign and compare ranking by risk and by uplift.

    Parameters
    ----------
    X : DataFrame
        Model features of the members with an outcome.
    contact : ndarray of bool
    churned : ndarray of 0/1
    risk : ndarray
        The churn probability each member was listed with.
    economics : mapping, optional
        ``value_retained``, ``offer_cost``, ``contact_cost`` for the profit columns.

    Raises
    ------
    ChurnDataError
        ``UPLIFT_TOO_SMALL`` when a group has fewer than 50 members with an outcome,
        or no churner or no stayer.
    """
    contact = np.asarray(contact, dtype=bool)
    churned = np.asarray(churned, dtype=float)
    for label, mask in (("contacted", contact), ("control", ~contact)):
        y = churned[mask]
        if mask.sum() < MIN_PER_GROUP or y.min(initial=1) == y.max(initial=0):
            raise ChurnDataError([Problem(
                "UPLIFT_TOO_SMALL", "error",
                f"The {label} group has {int(mask.sum()):,} members with an outcome and "
                f"{int(y.sum()):,} churners; learning uplift needs at least {MIN_PER_GROUP} "
                "members with both churners and stayers in each group.",
                count=int(mask.sum()), action="run a larger campaign or control group")])
    fold = _folds(contact, churned, folds, seed)
    cross = np.empty(len(contact))
    for k in range(folds):
        test = fold == k
        part = fit_uplift(X[~test], contact[~test], churned[~test], seed=seed)
        cross[test] = part.predict(X[test])
    econ = dict(economics or {})
    value = float(econ.get("value_retained") or 0.0)
    cost = float(econ.get("offer_cost") or 0.0) + float(econ.get("contact_cost") or 0.0)
    by_risk = realised_gain(risk, contact, churned)
    by_uplift = realised_gain(cross, contact, churned)
    curve = pd.DataFrame({"share": by_risk["share"], "members": by_risk["members"],
                          "saved_by_risk": by_risk["saved"],
                          "saved_by_uplift": by_uplift["saved"]})
    curve["profit_by_risk"] = curve["saved_by_risk"] * value - curve["members"] * cost
    curve["profit_by_uplift"] = curve["saved_by_uplift"] * value - curve["members"] * cost
    problems = [Problem(
        "UPLIFT_SMALL_CONTROL", "warning",
        f"The uplift models learned from {int((~contact).sum()):,} control customers; "
        "rankings from so few are noisy.", count=int((~contact).sum()),
        action="treat the uplift ranking as a hint; compare it again after the next campaign")
    ] if (~contact).sum() < 500 else []
    log.info("uplift: %d members, %d folds", len(contact), folds)
    return UpliftComparison(fit_uplift(X, contact, churned, seed=seed), curve,
                            int(len(contact)), tuple(problems))


def campaign_training_rows(members: pd.DataFrame, ids: pd.Series
                           ) -> tuple[np.ndarray, np.ndarray, list[Problem]]:
    """Match a campaign's members with outcomes to rows of a feature table by id.

    Parameters
    ----------
    members : DataFrame
        :func:`records.members_frame` (``customer_id``, ``grp``, ``churned``, ...).
    ids : Series
        Customer id of each feature row (as text).

    Returns
    -------
    rows : ndarray of int
        Position in the feature table of each matched member.
    member_rows : ndarray of int
        Position in ``members`` of the same members.
    problems : list of Problem
        ``UPLIFT_UNMATCHED`` when some members are not in the feature table.

    Raises
    ------
    ChurnDataError
        ``UPLIFT_NO_OUTCOMES`` before any outcome is uploaded, ``UPLIFT_NO_FEATURES`` when
        no member with an outcome is in the feature table.
    """
    known = members[members["churned"].notna()]
    if known.empty:
        raise ChurnDataError([Problem(
            "UPLIFT_NO_OUTCOMES", "error",
            "No outcomes have been uploaded for this campaign yet; uplift is learned from them.",
            action="upload the campaign's outcomes first")])
    position = pd.Series(np.arange(len(ids)), index=pd.Index(ids.astype(str)))
    position = position[~position.index.duplicated()]
    found = position.reindex(known["customer_id"].astype(str).to_numpy())
    ok = found.notna().to_numpy()
    if not ok.any():
        raise ChurnDataError([Problem(
            "UPLIFT_NO_FEATURES", "error",
            "None of the campaign's customers with an outcome is in the current table, so "
            "there are no features to learn from.", count=len(known),
            action="load the table the campaign was started from")])
    problems = []
    if not ok.all():
        problems.append(Problem(
            "UPLIFT_UNMATCHED", "warning",
            f"{int((~ok).sum()):,} campaign customers with an outcome are not in the current "
            "table and were left out.", count=int((~ok).sum()), action="left out"))
    member_rows = np.flatnonzero(members["churned"].notna().to_numpy())[ok]
    return found.to_numpy()[ok].astype(int), member_rows, problems


def learn_from_campaign(name: str, X: pd.DataFrame, ids: pd.Series, *,
                        store: Any = None, seed: int = 42) -> UpliftComparison:
    """Learn uplift from a finished campaign, with features from a current table.

    Parameters
    ----------
    name : str
        The campaign (its members, groups, outcomes and economics come from the store).
    X : DataFrame
        Model features (``features.transform`` output) of a table holding the members.
    ids : Series
        Customer id of each row of ``X``.
    store : path, optional

    Raises
    ------
    ChurnDataError
        ``CAMPAIGN_NOT_FOUND``, ``UPLIFT_NO_OUTCOMES``, ``UPLIFT_NO_FEATURES``,
        ``UPLIFT_TOO_SMALL``.
    """
    from churn_core.campaigns import records

    conn = records.connect(store)
    try:
        campaign = records.get_campaign(conn, name)
        members = records.members_frame(conn, campaign.campaign_id)
    finally:
        conn.close()
    rows, member_rows, problems = campaign_training_rows(members, ids)
    m = members.iloc[member_rows]
    result = compare_rankings(X.iloc[rows], (m["grp"] == "contact").to_numpy(),
                              m["churned"].to_numpy(), m["churn_probability"].to_numpy(),
                              economics=campaign.economics, seed=seed)
    return UpliftComparison(result.model, result.curve, result.n_members,
                            tuple(problems) + result.problems)


def rank_by_uplift(table: pd.DataFrame, model: UpliftModel, X: pd.DataFrame,
                   ids: pd.Series) -> pd.DataFrame:
    """The at-risk list with an ``expected_uplift`` column, highest expected uplift first.

    Parameters
    ----------
    table : DataFrame
        An at-risk list (id column first).
    model : UpliftModel
    X, ids : the features and ids of the customers (rows of ``table`` are matched by id).
    """
    uplift = pd.Series(model.predict(X), index=pd.Index(ids.astype(str)))
    uplift = uplift[~uplift.index.duplicated()]
    out = table.copy()
    out["expected_uplift"] = uplift.reindex(out.iloc[:, 0].astype(str).to_numpy()).to_numpy()
    return out.sort_values("expected_uplift", ascending=False, kind="stable",
                           na_position="last").reset_index(drop=True)
