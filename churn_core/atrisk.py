"""The at-risk list and its money: what a threshold means for the customers to act on.

Part of the facade (:mod:`churn_core.pipeline` re-exports every name): the Alerts page,
the command line and the exports call these, never the steps below them.

- :func:`customer_values`: what each customer to act on is worth (a column or a constant);
- :func:`alert_view`, :func:`profit_table`, :func:`profit_threshold`: counts, tiers and
  expected profit at a threshold, from the customers' calibrated probabilities;
- :func:`profit_band`, :func:`profit_sensitivity`, :func:`emp`: how sure the profit is,
  which input moves it most, and the Expected Maximum Profit of the scores (on the
  labelled history's out-of-fold scores);
- :func:`export_table`: the list itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from churn_core import alerts
from churn_core.actions import ActionRules
from churn_core.alerts import AlertView, SortedScores, profit_at, top_n_threshold, value_share
from churn_core.explain import explain
from churn_core.export import at_risk_table
from churn_core.money import Campaign, ProfitBand, emp_churn, sensitivity_table
from churn_core.money import profit_band as _band
from churn_core.problems import InvalidSetting
from churn_core.threshold import Economics, ThresholdChoice, risk_tiers
from churn_core.value.clv import (
    BUILD_VALUE_COLUMN,
    alive_disagreement,
    value_at_risk,
    value_column,
)

if TYPE_CHECKING:
    from churn_core.analysis import Analysis

REASONS = ("reason_1", "reason_2", "reason_3")
P_ALIVE = "bgnbd_p_alive"  # from an event-log build with value features
__all__ = ["BUILD_VALUE_COLUMN", "CustomerValue", "alert_view", "customer_values",
           "default_value_column", "economics_dict", "emp",
           "export_table", "profit_at", "profit_band", "profit_sensitivity", "profit_table",
           "profit_threshold", "sorted_scores", "top_n_threshold", "value_share"]


@dataclass(frozen=True)
class CustomerValue:
    """What each customer to act on is worth, and where the figure comes from."""

    values: np.ndarray
    source: str


def default_value_column(analysis: Analysis) -> str | None:
    """``customer_value`` when an event-log build estimated what each customer to act on is
    worth (BG/NBD x Gamma-Gamma), else None (a constant is the default then)."""
    pop = analysis.population
    if pop.value is not None:
        return BUILD_VALUE_COLUMN
    if pop.rows is not None and BUILD_VALUE_COLUMN in analysis.dataset.frame.columns \
            and BUILD_VALUE_COLUMN not in analysis.dataset.schema.features:
        return BUILD_VALUE_COLUMN
    return None


def customer_values(analysis: Analysis, *, column: str | None = None,
                    constant: float = 200.0) -> CustomerValue:
    """Per-customer value of the customers to act on: a column the user picks, or a constant.

    ``column="customer_value"`` after an event-log build reads the build's estimate
    (:func:`default_value_column`), though it is not a feature.

    Parameters
    ----------
    analysis : Analysis
    column : str, optional
        A numeric column (spend, order value, margin) of the table, or a feature of an
        event-log build; empty cells count as 0.
    constant : float
        The value of every customer when no column is given.

    Raises
    ------
    ChurnDataError
        ``VALUE_MISSING_COLUMN`` / ``VALUE_BAD_COLUMN`` (see
        :func:`churn_core.value.value_column`).
    """
    pop = analysis.population
    if column is None:
        return CustomerValue(np.full(len(pop), float(constant)),
                             f"the same value for every customer ({constant:,.2f})")
    if column == BUILD_VALUE_COLUMN and pop.value is not None:
        worth = np.nan_to_num(np.clip(pop.value, 0.0, None), nan=0.0)
        return CustomerValue(worth, "the build's customer_value (expected spend over the "
                             "next year, BG/NBD x Gamma-Gamma)")
    frame = analysis.dataset.frame.iloc[pop.rows].reset_index(drop=True) \
        if pop.rows is not None and column in analysis.dataset.frame.columns else pop.X
    return CustomerValue(value_column(frame, column, missing=0.0), f"column {column!r}")


def sorted_scores(analysis: Analysis, values: CustomerValue | None = None) -> SortedScores:
    """The customers to act on's scores, sorted once for O(log n) threshold moves."""
    return SortedScores(analysis.population.scores,
                        None if values is None else values.values)


def alert_view(analysis: Analysis, threshold: float, *, capacity: int | None = None,
               scores: SortedScores | None = None) -> AlertView:
    """What ``threshold`` (and a capacity) means for the customers to act on."""
    return alerts.alert_view(scores or sorted_scores(analysis), threshold, capacity)


def profit_table(analysis: Analysis, econ: Economics, *,
                 scores: SortedScores | None = None) -> pd.DataFrame:
    """Expected profit at every threshold over the customers to act on."""
    return alerts.expected_profit(scores or sorted_scores(analysis), econ)


def profit_threshold(analysis: Analysis, econ: Economics, *, table: pd.DataFrame | None = None,
                     values: CustomerValue | None = None) -> ThresholdChoice:
    """The most profitable threshold for the customers to act on (capacity respected).

    ``table`` is the :func:`profit_table` when the caller has it already; ``values`` says
    what each customer is worth (default: ``econ.value_retained`` each).
    """
    if table is None:
        table = profit_table(analysis, econ, scores=sorted_scores(analysis, values))
    t, profit = alerts.best_profit_threshold(table)
    detail = {"expected_profit": profit, "economics": economics_dict(econ)}
    if values is not None:
        detail["value"] = values.source
    return ThresholdChoice(min(t, 1.0), "Most profitable", detail)


def economics_dict(econ: Economics) -> dict[str, Any]:
    """The money inputs as JSON-ready values."""
    return {"value_retained": econ.value_retained, "offer_cost": econ.offer_cost,
            "success_rate": econ.success_rate, "contact_cost": econ.contact_cost,
            "capacity": econ.capacity, "budget": econ.budget, "currency": econ.currency,
            "period": econ.period}


def export_table(analysis: Analysis, threshold: float, *, capacity: int | None = None,
                 at_risk_only: bool = True, limit: int | None = None,
                 rules: ActionRules | None = None, values: CustomerValue | None = None,
                 rank_by: str = "probability") -> pd.DataFrame:
    """The at-risk list of the customers to act on, riskiest first.

    Parameters
    ----------
    analysis : Analysis
    threshold : float
        Customers at or above it are at risk.
    capacity : int, optional
        Keep only the riskiest ``capacity`` at-risk customers.
    at_risk_only : bool
        False lists every customer to act on (with ``at_risk`` telling them apart);
        True lists the at-risk ones only, without the then always-true ``at_risk`` column.
    limit : int, optional
        Keep only the riskiest ``limit`` rows (a preview, same order as the full list).
    rules : ActionRules, optional
        Reason-to-action rules (default rules when None).
    values : CustomerValue, optional
        Adds ``customer_value`` and ``value_at_risk`` (probability x value).
    rank_by : {"probability", "value_at_risk"}
        Riskiest first, or most value at risk first (needs ``values``).

    Returns
    -------
    DataFrame
        The id column (the user's name), ``churn_probability``, ``risk_tier``,
        ``at_risk`` (only when ``at_risk_only`` is False), ``segment``, ``reason_1..3``,
        ``suggested_action``, and ``as_of`` for event-log builds; never a customer whose
        label says churned.
    """
    pop = analysis.population
    scores = pop.scores
    at_risk = value_at_risk(scores, values.values) if values is not None else None
    if rank_by not in ("probability", "value_at_risk") or \
            (rank_by == "value_at_risk" and at_risk is None):
        raise InvalidSetting(f"rank_by {rank_by!r}: use 'probability', or 'value_at_risk' with "
                         "values")
    order = np.argsort(-(at_risk if rank_by == "value_at_risk" else scores), kind="stable")
    keep = order[scores[order] >= threshold] if at_risk_only else order
    cap = min(x for x in (capacity or None, limit) if x) if (capacity or limit) else None
    if cap is not None:
        keep = keep[:cap]
    reasons = listed_reasons(analysis, keep)
    tiers = risk_tiers(scores[keep], threshold)
    schema = analysis.dataset.schema
    table = at_risk_table(pop.ids[keep], scores[keep], tiers,
                          analysis.population_segment_names[keep], reasons, None,
                          id_name=schema.id_column or "customer_id", threshold=threshold,
                          keep_order=True, rules=rules)
    if P_ALIVE in pop.X.columns:
        # BG/NBD (a build with value features) and the churn model disagree strongly: a
        # customer the model calls lost but who buys like an active one, or the reverse.
        alive = pop.X[P_ALIVE].to_numpy(dtype=float)[keep]
        table["value_model_disagrees"] = alive_disagreement(alive, scores[keep])
    if values is not None:
        table["customer_value"] = np.round(values.values[keep], 2)
        table["value_at_risk"] = np.round(at_risk[keep], 2)
    if pop.as_of is not None:
        table["as_of"] = pop.as_of
    if at_risk_only:  # every row is at risk: an always-true column tells the reader nothing
        table = table.drop(columns="at_risk")
    return table


def listed_reasons(analysis: Analysis, rows: np.ndarray) -> pd.DataFrame:
    """``reason_1..3`` of the customers to act on at positions ``rows``, in that order.

    Training explains every customer to act on up to 200k of them, else the riskiest
    tenth and the ones at risk at the default threshold; a list that reaches further (a
    lower threshold, a larger capacity) gets the reasons of its other rows computed here,
    so that no listed customer is without them.

    Parameters
    ----------
    analysis : Analysis
    rows : ndarray of int
        Positions in ``analysis.population``.

    Returns
    -------
    DataFrame
        One row per position (RangeIndex), the columns of :data:`REASONS`.
    """
    pop, expl, result = analysis.population, analysis.explanation, analysis.result
    rows = np.asarray(rows, dtype=int)
    reasons = expl.reasons.reindex(rows)  # rows training explained; NaN for the others
    missing = rows[reasons.iloc[:, 0].isna().to_numpy()]
    if missing.size:
        missing = np.unique(missing)
        more = explain(result.booster, result.preprocessor, pop.X.iloc[missing],
                       device=result.device, labels=analysis.feature_labels,
                       X=pop.X.iloc[missing], linear=result.linear)
        reasons = reasons.fillna(more.reasons.set_axis(missing).reindex(rows))
    return reasons.fillna("").reset_index(drop=True)


def _labelled(analysis: Analysis) -> tuple[np.ndarray, np.ndarray]:
    y = analysis.dataset.y.to_numpy(dtype=float)[analysis.result.rows]
    return y.astype(int), analysis.result.oof


def _mean_value(econ: Economics, values: CustomerValue | None) -> float:
    return float(np.mean(values.values)) if values is not None and len(values.values) \
        else float(econ.value_retained)


def profit_band(analysis: Analysis, econ: Economics, values: CustomerValue | None = None, *,
                progress: Any = None) -> ProfitBand:
    """Expected profit by share contacted with a 90 % bootstrap band (200 resamples).

    Built on the labelled history's out-of-fold scores and outcomes, scaled to the
    customers to act on; a customer is worth the mean of ``values`` (or
    ``econ.value_retained``). ``reliable`` is False when the band's lower edge at the
    optimum is at or below 0.
    """
    y, oof = _labelled(analysis)
    return _band(y, oof, _mean_value(econ, values),
                 Campaign.from_economics(econ, budget=econ.budget),
                 population=len(analysis.population), progress=progress)


def profit_sensitivity(analysis: Analysis, econ: Economics,
                       values: CustomerValue | None = None) -> pd.DataFrame:
    """How the best profit moves when value, acceptance, offer or contact cost move (tornado)."""
    y, oof = _labelled(analysis)
    return sensitivity_table(y, oof, _mean_value(econ, values),
                             Campaign.from_economics(econ, budget=econ.budget),
                             population=len(analysis.population))


def emp(analysis: Analysis, econ: Economics | None = None) -> float:
    """Expected Maximum Profit per customer of the out-of-fold scores (Verbraken et al. 2013)."""
    econ = econ or Economics()
    y, oof = _labelled(analysis)
    return float(emp_churn(y, oof, clv=econ.value_retained, incentive_cost=econ.offer_cost,
                           contact_cost=econ.contact_cost).emp)
