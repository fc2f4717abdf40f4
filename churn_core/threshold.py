"""Choosing a churn threshold: confusion counts, F1, recall/precision targets and profit.

:class:`ThresholdCurve` sorts the scores once and keeps cumulative counts of
churners, so the confusion matrix at any threshold is one binary search
(``np.searchsorted``): a slider can move over a million customers without
recomputing anything. A customer is *flagged* when ``score >= threshold``.

Profit follows the payoff of a retention campaign (see :class:`Economics`)::

    profit = TP * success_rate * value_retained - contacted * (offer_cost + contact_cost)

where ``contacted`` is the number flagged, capped by the team's capacity (the
highest-scored customers are contacted first).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from churn_core.money.campaign import contacts_paid
from churn_core.problems import InvalidSetting

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Economics:
    """The payoff of contacting a customer flagged as at risk.

    Parameters
    ----------
    value_retained : float, default 200.0
        Value kept when a churner is retained (e.g. next year's margin).
    offer_cost : float, default 20.0
        Cost of the incentive given to each contacted customer.
    success_rate : float, default 0.3
        Share of contacted churners who stay because of the offer (0..1).
    contact_cost : float, default 2.0
        Cost of reaching one customer (call, e-mail, SMS).
    capacity : int or None, default None
        Most customers the team can contact; None = no limit.
    currency : str, default "USD"
        Currency of the amounts (shown beside every figure).
    period : str, default "12 months"
        Period the value of a retained customer covers.
    budget : float or None, default None
        Most money the campaign may spend on offers and contacts; None = no limit.

    Raises
    ------
    ValueError
        On negative amounts, a success rate outside 0..1 or a negative capacity.
    """

    value_retained: float = 200.0
    offer_cost: float = 20.0
    success_rate: float = 0.3
    contact_cost: float = 2.0
    capacity: int | None = None
    currency: str = "USD"
    period: str = "12 months"
    budget: float | None = None

    def __post_init__(self) -> None:
        if min(self.value_retained, self.offer_cost, self.contact_cost) < 0:
            raise InvalidSetting("value_retained, offer_cost and contact_cost must be >= 0")
        if not 0.0 <= self.success_rate <= 1.0:
            raise InvalidSetting(f"success_rate must be within 0..1, got {self.success_rate}")
        if self.capacity is not None and self.capacity < 0:
            raise InvalidSetting(f"capacity must be >= 0 or None, got {self.capacity}")
        if self.budget is not None and not self.budget >= 0:
            raise InvalidSetting(f"budget must be >= 0 or None, got {self.budget}")

    @property
    def cost_per_contact(self) -> float:
        """Offer plus contact cost of one contacted customer."""
        return self.offer_cost + self.contact_cost

    @property
    def contact_limit(self) -> int | None:
        """Most customers the capacity and the budget allow together (None = no limit)."""
        limits = [self.capacity] if self.capacity else []
        if self.budget is not None and self.cost_per_contact > 0:
            # in cents: a budget of 0.30 pays 3 contacts at 0.10 (0.30 // 0.10 is 2.0)
            paid = contacts_paid(self.budget, self.cost_per_contact)
            if np.isfinite(paid):
                limits.append(int(paid))
        return min(limits) if limits else None


@dataclass(frozen=True)
class ThresholdPoint:
    """Confusion counts and metrics at one threshold (flagged = ``score >= threshold``).

    ``precision`` is 0 when nobody is flagged, ``recall`` is 0 when there are
    no churners. ``profit`` is set by :meth:`ThresholdCurve.best_profit`.
    """

    threshold: float
    flagged: int
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float
    recall: float
    f1: float
    profit: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class ThresholdChoice:
    """The threshold in use and how it was chosen.

    Parameters
    ----------
    value : float
        The threshold on the churn probability.
    method : str
        ``"best_f1"``, ``"best_profit"``, ``"recall"``, ``"precision"``,
        ``"top_n"``, ``"manual"``...
    detail : dict
        What the method needed (target recall, economics, ...); JSON-ready.
    """

    value: float
    method: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"value", "method", "detail"}``."""
        return {"value": float(self.value), "method": self.method, "detail": dict(self.detail)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ThresholdChoice:
        """Rebuild from :meth:`to_dict` output."""
        return cls(float(d["value"]), str(d["method"]), dict(d.get("detail", {})))


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b > 0)


class ThresholdCurve:
    """Confusion counts at every threshold, built once from labels and scores.

    Parameters
    ----------
    y_true : array-like of 0/1
        Labels; rows whose label is NaN are dropped.
    scores : array-like of float
        Churn probabilities (or any score where higher = riskier), same length.

    Raises
    ------
    ValueError
        If lengths differ, a score is NaN, or no labelled row is left.

    Notes
    -----
    ``_scores`` holds the scores in ascending order and ``_pos_from[j]`` the
    number of churners among ``_scores[j:]``; the customers flagged at
    threshold ``t`` are ``_scores[j:]`` with ``j = searchsorted(_scores, t)``.
    """

    def __init__(self, y_true: Any, scores: Any) -> None:
        y = np.asarray(y_true, dtype=float).ravel()
        s = np.asarray(scores, dtype=float).ravel()
        if y.shape != s.shape:
            raise ValueError(f"y_true has {y.size} values but scores has {s.size}")
        keep = ~np.isnan(y)
        y, s = y[keep], s[keep]
        if np.isnan(s).any():
            raise ValueError("scores contain NaN")
        if s.size == 0:
            raise ValueError("no labelled rows to build a threshold curve from")
        order = np.argsort(s, kind="stable")
        self._scores = s[order]
        positives = (y[order] > 0.5).astype(np.int64)
        self._pos_from = np.concatenate([np.cumsum(positives[::-1])[::-1], [0]])
        self.n = int(s.size)
        self.positives = int(self._pos_from[0])
        self.negatives = self.n - self.positives
        self._distinct = np.unique(self._scores)

    # -- vectorised core -------------------------------------------------
    def _counts(self, thresholds: np.ndarray) -> dict[str, np.ndarray]:
        j = np.searchsorted(self._scores, thresholds, side="left")
        flagged = self.n - j
        tp = self._pos_from[j]
        fp = flagged - tp
        precision = _safe_div(tp, flagged)
        recall = _safe_div(tp, np.full(tp.shape, self.positives))
        f1 = _safe_div(2 * precision * recall, precision + recall)
        return {
            "threshold": np.asarray(thresholds, dtype=float),
            "flagged": flagged,
            "tp": tp,
            "fp": fp,
            "fn": self.positives - tp,
            "tn": self.negatives - fp,
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }

    def _point(self, counts: dict[str, np.ndarray], i: int, profit: float | None = None
               ) -> ThresholdPoint:
        return ThresholdPoint(
            threshold=float(counts["threshold"][i]),
            flagged=int(counts["flagged"][i]),
            tp=int(counts["tp"][i]),
            fp=int(counts["fp"][i]),
            fn=int(counts["fn"][i]),
            tn=int(counts["tn"][i]),
            precision=float(counts["precision"][i]),
            recall=float(counts["recall"][i]),
            f1=float(counts["f1"][i]),
            profit=profit,
        )

    def _above_max(self) -> float:
        """A threshold that flags nobody."""
        return float(np.nextafter(self._scores[-1], np.inf))

    # -- public API ------------------------------------------------------
    def at(self, threshold: float) -> ThresholdPoint:
        """Return the confusion counts at ``threshold`` (O(log n))."""
        return self._point(self._counts(np.array([float(threshold)])), 0)

    def table(self, max_points: int = 2000) -> pd.DataFrame:
        """Return metrics at up to ``max_points`` thresholds spread over the distinct scores.

        Returns
        -------
        pandas.DataFrame
            threshold (ascending), flagged, flagged_share, tp, fp, fn, tn,
            precision, recall, f1.
        """
        grid = self._distinct
        if grid.size > max_points:
            grid = grid[np.unique(np.linspace(0, grid.size - 1, max_points).round().astype(int))]
        frame = pd.DataFrame(self._counts(grid))
        frame.insert(2, "flagged_share", frame["flagged"] / self.n)
        return frame

    def best_f1(self) -> ThresholdPoint:
        """Return the threshold with the highest F1 (the highest such threshold on ties)."""
        c = self._counts(self._distinct)
        i = len(c["f1"]) - 1 - int(np.argmax(c["f1"][::-1]))
        return self._point(c, i)

    def for_recall(self, recall: float) -> ThresholdPoint:
        """Return the highest threshold that catches at least ``recall`` of the churners.

        Raises
        ------
        ValueError
            If ``recall`` is outside 0..1.
        """
        if not 0.0 <= recall <= 1.0:
            raise ValueError(f"recall must be within 0..1, got {recall}")
        c = self._counts(self._distinct)
        ok = np.flatnonzero(c["recall"] >= recall - 1e-12)
        return self._point(c, int(ok[-1]) if ok.size else 0)

    def for_precision(self, precision: float) -> ThresholdPoint | None:
        """Return the lowest threshold whose precision is at least ``precision``.

        The lowest such threshold catches the most churners. Returns None when
        no threshold reaches that precision.
        """
        c = self._counts(self._distinct)
        ok = np.flatnonzero((c["precision"] >= precision - 1e-12) & (c["flagged"] > 0))
        return self._point(c, int(ok[0])) if ok.size else None

    def for_top(self, n: int) -> ThresholdPoint:
        """Return the threshold that flags the ``n`` highest scores (more on tied scores)."""
        if n <= 0:
            return self.at(self._above_max())
        return self.at(float(self._scores[max(self.n - int(n), 0)]))

    def profit(self, econ: Economics, population: int | None = None, *,
               max_points: int | None = 2000) -> pd.DataFrame:
        """Return the expected campaign profit at every distinct threshold.

        Parameters
        ----------
        econ : Economics
            Payoff and capacity.
        population : int, optional
            Customers the campaign is for; counts on the labelled rows are
            scaled by ``population / n``. None = the labelled rows themselves.
        max_points : int or None, default 2000
            Thin the table to this many thresholds (None = all).

        Returns
        -------
        pandas.DataFrame
            threshold, flagged (labelled rows), contacted (scaled, capped),
            capped, expected_saved, revenue, cost, profit.
        """
        table = self._profit_all(econ, population)
        if max_points is not None and len(table) > max_points:
            idx = np.unique(np.linspace(0, len(table) - 1, max_points).round().astype(int))
            table = table.iloc[idx].reset_index(drop=True)
        return table

    def _profit_all(self, econ: Economics, population: int | None) -> pd.DataFrame:
        grid = np.append(self._distinct, self._above_max())
        j = np.searchsorted(self._scores, grid, side="left")
        flagged = self.n - j
        scale = (population / self.n) if population is not None else 1.0
        wanted = flagged * scale
        cap = np.inf if econ.capacity is None else float(econ.capacity)
        contacted = np.minimum(wanted, cap)
        # churners among the top `contacted / scale` labelled rows (interpolated when capped)
        tp_top = self._pos_from[::-1]  # tp_top[m] = churners among the m highest scores
        tp = np.interp(contacted / scale, np.arange(self.n + 1), tp_top) * scale
        saved = tp * econ.success_rate
        revenue = saved * econ.value_retained
        cost = contacted * econ.cost_per_contact
        return pd.DataFrame({
            "threshold": grid,
            "flagged": flagged,
            "contacted": contacted,
            "capped": wanted > cap,
            "expected_saved": saved,
            "revenue": revenue,
            "cost": cost,
            "profit": revenue - cost,
        })

    def best_profit(self, econ: Economics, population: int | None = None) -> ThresholdPoint:
        """Return the most profitable threshold that does not flag more than the capacity.

        Flagging nobody (profit 0) is a candidate, so a campaign that cannot
        pay returns a threshold above every score. ``profit`` is set on the
        returned point, in the units of ``population`` when given.
        """
        table = self._profit_all(econ, population)
        table = table[~table["capped"].to_numpy()]
        profit = table["profit"].to_numpy()
        i = len(profit) - 1 - int(np.argmax(profit[::-1]))  # highest threshold on ties
        best = table.iloc[i]
        point = self.at(float(best["threshold"]))
        logger.debug("best profit %.2f at threshold %.4f", best["profit"], point.threshold)
        return ThresholdPoint(**{**point.to_dict(), "profit": float(best["profit"])})


def profit_at(profit: pd.DataFrame, threshold: float) -> float:
    """Expected profit at ``threshold`` from a full ``ThresholdCurve.profit`` table (O(log n))."""
    grid = profit["threshold"].to_numpy()
    i = min(int(np.searchsorted(grid, threshold, side="left")), len(grid) - 1)
    return float(profit["profit"].iloc[i])


def medium_floor(threshold: float, medium_from: float | None = None) -> float:
    """Lowest score of the "medium" tier: ``medium_from`` (at most the threshold), else
    half the threshold. The one rule behind :func:`risk_tiers`, the Alerts counts and the
    bundle's saved tiers."""
    return threshold / 2 if medium_from is None else min(float(medium_from), threshold)


def risk_tiers(scores: Any, threshold: float, *, medium_from: float | None = None) -> np.ndarray:
    """Return "high" / "medium" / "low" for each score.

    Parameters
    ----------
    scores : array-like of float
        Churn probabilities.
    threshold : float
        Scores at or above it are "high" (the flagged customers).
    medium_from : float, optional
        Scores at or above it (and below ``threshold``) are "medium"; default
        ``threshold / 2``. A natural alternative is
        :func:`break_even_probability`.

    Returns
    -------
    numpy.ndarray of str
        One tier per score; NaN scores are "low".
    """
    s = np.asarray(scores, dtype=float)
    medium = medium_floor(threshold, medium_from)
    return np.select([s >= threshold, s >= medium], ["high", "medium"], default="low")


def break_even_probability(econ: Economics) -> float:
    """Return the churn probability above which contacting a customer pays on average.

    ``(offer_cost + contact_cost) / (success_rate * value_retained)``; infinity
    when an offer can never pay (no value or no success). Values above 1 mean
    no customer is worth contacting.
    """
    gain = econ.success_rate * econ.value_retained
    return float(econ.cost_per_contact / gain) if gain > 0 else float("inf")
