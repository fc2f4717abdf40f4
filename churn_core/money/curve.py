"""The profit curve by number contacted, its optimum with and without limits, and the
profit of the next contact.

Built from labelled customers (out-of-fold scores for the training
customers), optionally scaled to the population the campaign is for, like
:meth:`churn_core.threshold.ThresholdCurve.profit`. See
:mod:`churn_core.money.campaign` for the payoff.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from churn_core.money.campaign import Campaign, Ranked, money_cumsum, rank_customers

logger = logging.getLogger(__name__)

MARGINAL_SHARE = 0.01   # the "next contact" is averaged over the next 1 % of the list


@dataclass(frozen=True)
class Optimum:
    """One point of the curve: how many to contact and what it earns.

    Attributes
    ----------
    contacted : float
        Customers contacted (population units).
    share : float
        ``contacted`` as a share of all customers.
    profit, revenue, cost : float
        Expected profit = revenue (value kept) - cost (offers and contacts).
    saved : float
        Churners expected to stay thanks to the offer.
    marginal : float
        Expected profit of one more contact after this point, averaged over
        the next 1 % of the list (NaN at the end of the list).
    limited_by : str
        ``"capacity"`` or ``"budget"`` when that limit stops the constrained
        optimum short of the unconstrained one; empty otherwise.
    """

    contacted: float
    share: float
    profit: float
    revenue: float
    cost: float
    saved: float
    marginal: float
    limited_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class ProfitCurve:
    """The profit of contacting the first ``m`` customers, for ``m`` from 0 to all.

    Attributes
    ----------
    table : pandas.DataFrame
        ``contacted, share, profit, revenue, cost, saved, marginal, feasible``
        (``feasible``: within capacity and budget), ascending ``contacted``.
    best : Optimum
        The most profitable point, ignoring capacity and budget.
    best_constrained : Optimum
        The most profitable point within capacity and budget.
    limit : float
        Contacts allowed by capacity and budget (inf = no limit).
    n, positives : int
        Labelled customers and churners the curve is measured on.
    scale : float
        Population / n (1.0 without a population).
    ranking : str
    campaign : Campaign
    """

    table: pd.DataFrame
    best: Optimum
    best_constrained: Optimum
    limit: float
    n: int
    positives: int
    scale: float
    ranking: str
    campaign: Campaign


def cumulative_at_ends(ranked: Ranked, weights: np.ndarray | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Customers and churner value counted up to each tie group's end, with 0 first.

    ``weights`` (``(k, n)``, e.g. bootstrap counts) gives ``k`` rows at once.
    """
    if weights is None:
        cw = ranked.ends.astype(float)
        cb = money_cumsum(ranked.benefit)[ranked.ends - 1]  # exact: summed in cents
        return np.concatenate([[0.0], cw]), np.concatenate([[0.0], cb])
    cw = np.cumsum(weights, axis=1, dtype=np.float64)[:, ranked.ends - 1]
    cb = np.cumsum(weights * ranked.benefit, axis=1)[:, ranked.ends - 1]
    zero = np.zeros((weights.shape[0], 1))
    return np.hstack([zero, cw]), np.hstack([zero, cb])


def profit_at(m: np.ndarray | float, cw: np.ndarray, cb: np.ndarray, campaign: Campaign,
              scale: float = 1.0) -> np.ndarray:
    """Expected profit of contacting the first ``m`` labelled customers (interpolated in ties)."""
    m = np.asarray(m, dtype=float)
    return scale * (campaign.success_rate * np.interp(m, cw, cb)
                    - campaign.cost_per_contact * m)


def best_point(cw: np.ndarray, cb: np.ndarray, campaign: Campaign, m_limit: float
               ) -> tuple[float, float]:
    """Return ``(m, profit / scale)`` of the most profitable point with ``m <= m_limit``.

    The profit is piecewise linear in ``m`` with kinks at tie-group ends, so
    the optimum is a group end or the limit itself; the fewest contacts win ties.
    """
    ok = cw <= m_limit
    m = cw[ok]
    p = campaign.success_rate * cb[ok] - campaign.cost_per_contact * m
    if np.isfinite(m_limit) and m_limit < cw[-1]:
        m = np.append(m, m_limit)
        p = np.append(p, profit_at(m_limit, cw, cb, campaign))
    i = int(np.argmax(p))
    return float(m[i]), float(p[i])


def profit_curve(labels: Any, scores: Any, value: Any = 200.0,
                 campaign: Campaign | None = None, *, ranking: str = "risk",
                 population: int | None = None, max_points: int = 1000) -> ProfitCurve:
    """Build the profit curve and its optima.

    Parameters
    ----------
    labels : array-like of 0/1
        Churned or not (NaN rows are left out).
    scores : array-like of float
        Churn probabilities; out-of-fold scores for training customers.
    value : float or array-like, default 200.0
        Value of a retained customer: one constant, or one per customer
        (e.g. ``expected_value`` from :func:`churn_core.value.customer_value_table`).
    campaign : Campaign, optional
        Costs, acceptance, capacity and budget (default :class:`Campaign`).
    ranking : {"risk", "value_at_risk"}
        Contact the riskiest first, or the largest churn probability x value first.
    population : int, optional
        Customers the campaign is for; counts and money are scaled by
        ``population / n`` and capacity applies to the population.
    max_points : int
        Points kept in ``table`` (the optima are always among them).

    Returns
    -------
    ProfitCurve

    Raises
    ------
    ChurnDataError
        See :func:`churn_core.money.campaign.rank_customers`.
    """
    campaign = campaign or Campaign()
    ranked = rank_customers(labels, scores, value, ranking=ranking)
    n = ranked.n
    scale = 1.0 if population is None else float(population) / n
    limit = campaign.contact_limit()
    cw, cb = cumulative_at_ends(ranked)
    m_free, _ = best_point(cw, cb, campaign, np.inf)
    m_lim, _ = best_point(cw, cb, campaign, limit / scale)
    grid = np.arange(n + 1, dtype=float) if n + 1 <= max_points else \
        np.unique(np.linspace(0, n, max_points).round())
    extra = [m_free, m_lim] + ([limit / scale] if limit / scale < n else [])
    grid = np.unique(np.concatenate([grid, extra]))
    churners = np.concatenate([[0.0], np.cumsum(ranked.churn)[ranked.ends - 1]])
    step = max(1.0, np.ceil(n * MARGINAL_SHARE))

    def columns(m: np.ndarray) -> dict[str, np.ndarray]:
        revenue = scale * campaign.success_rate * np.interp(m, cw, cb)
        cost = scale * campaign.cost_per_contact * m
        ahead = np.minimum(m + step, n)
        gain = profit_at(ahead, cw, cb, campaign, scale) - profit_at(m, cw, cb, campaign, scale)
        with np.errstate(invalid="ignore", divide="ignore"):
            marginal = np.where(ahead > m, gain / ((ahead - m) * scale), np.nan)
        return {"contacted": m * scale, "share": m / n, "profit": revenue - cost,
                "revenue": revenue, "cost": cost,
                "saved": scale * campaign.success_rate * np.interp(m, cw, churners),
                "marginal": marginal}

    table = pd.DataFrame(columns(grid))
    table["feasible"] = table["contacted"] <= limit * (1 + 1e-12)

    def optimum(m: float, limited_by: str = "") -> Optimum:
        c = {k: float(v[0]) for k, v in columns(np.array([m])).items()}
        return Optimum(contacted=c["contacted"], share=c["share"], profit=c["profit"],
                       revenue=c["revenue"], cost=c["cost"], saved=c["saved"],
                       marginal=c["marginal"], limited_by=limited_by)

    binding = ""
    if m_lim < m_free:
        cap = np.inf if campaign.capacity is None else float(campaign.capacity)
        binding = "capacity" if cap <= limit * (1 + 1e-12) else "budget"
    curve = ProfitCurve(table=table, best=optimum(m_free), best_constrained=optimum(m_lim,
                        binding), limit=limit, n=n, positives=int(ranked.churn.sum()),
                        scale=scale, ranking=ranking, campaign=campaign)
    logger.debug("profit curve: best %.2f at %.0f contacted; within limits %.2f at %.0f",
                 curve.best.profit, curve.best.contacted, curve.best_constrained.profit,
                 curve.best_constrained.contacted)
    return curve
