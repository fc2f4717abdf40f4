"""What a threshold means for the customers to act on: the list's size, tiers and money.

One place owns the rules the Alerts page, the command line and the exports share:

- a customer is flagged when ``score >= threshold``;
- a capacity (how many the team can contact, and how many the budget pays for) caps the
  list to the riskiest flagged customers;
- tiers: high = flagged, medium = at least half the threshold
  (:func:`churn_core.threshold.risk_tiers`), low = the rest;
- the expected profit of contacting the listed customers comes from their calibrated
  churn probabilities: ``sum(p) * success_rate * value_retained - contacted * cost``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from churn_core.threshold import Economics, medium_floor


@dataclass(frozen=True)
class AlertView:
    """The customers to act on at one threshold.

    Attributes
    ----------
    threshold : float
    population : int
        Customers to act on.
    flagged : int
        Customers at or above the threshold.
    listed : int
        Customers on the list: ``flagged`` capped by the capacity.
    capacity : int or None
    high, medium, low : int
        Customers per risk tier.
    expected_churners : float
        Sum of the listed customers' churn probabilities.
    """

    threshold: float
    population: int
    flagged: int
    listed: int
    capacity: int | None
    high: int
    medium: int
    low: int
    expected_churners: float

    @property
    def capped(self) -> bool:
        """True when the capacity leaves flagged customers off the list."""
        return self.listed < self.flagged


class SortedScores:
    """Scores sorted once, so every threshold is answered by a binary search (O(log n)).

    Parameters
    ----------
    scores : array of float
        Churn probabilities of the customers to act on.
    values : array of float, optional
        What each customer is worth; kept in the same order so that the value at risk of
        the riskiest ``m`` customers is one lookup.
    """

    def __init__(self, scores: np.ndarray, values: np.ndarray | None = None) -> None:
        s = np.asarray(scores, dtype=float)
        order = np.argsort(s, kind="stable")
        self.ascending = s[order]
        # cum_desc[m] = sum of the m highest scores (expected churners among them)
        self.cum_desc = np.concatenate([[0.0], np.cumsum(self.ascending[::-1])])
        self.has_values = values is not None
        if values is not None:
            v = np.asarray(values, dtype=float)[order]
            self.cum_value_desc = np.concatenate([[0.0], np.cumsum((self.ascending * v)[::-1])])
        self.n = int(self.ascending.size)

    def at_least(self, threshold: float) -> int:
        """How many scores are ``>= threshold``."""
        return int(self.n - np.searchsorted(self.ascending, threshold, side="left"))

    def top_value(self, n: int) -> float:
        """The ``n``-th highest score (inf for n = 0)."""
        return float(self.ascending[self.n - n]) if 0 < n <= self.n else float("inf")


def listed_count(flagged: int, capacity: int | None) -> int:
    """Customers on the list: the flagged ones, at most ``capacity`` (None or 0 = no cap)."""
    return int(min(flagged, capacity)) if capacity else int(flagged)


def alert_view(scores: SortedScores, threshold: float, capacity: int | None = None
               ) -> AlertView:
    """Counts, tiers and expected churners at ``threshold`` with an optional capacity."""
    flagged = scores.at_least(threshold)
    medium = scores.at_least(medium_floor(threshold)) - flagged
    listed = listed_count(flagged, capacity)
    return AlertView(threshold=float(threshold), population=scores.n, flagged=flagged,
                     listed=listed, capacity=capacity or None, high=flagged, medium=medium,
                     low=scores.n - flagged - medium,
                     expected_churners=float(scores.cum_desc[listed]))


def top_n_threshold(scores: SortedScores, n: int) -> float:
    """The threshold that flags the ``n`` riskiest customers (more on tied scores)."""
    return min(scores.top_value(int(n)), 1.0) if n > 0 else 1.0


def expected_profit(scores: SortedScores, econ: Economics) -> pd.DataFrame:
    """Expected campaign profit at every threshold, from calibrated probabilities.

    Parameters
    ----------
    scores : SortedScores
        Churn probabilities of the customers to act on.
    econ : Economics
        Payoff and limits (the riskiest ``econ.contact_limit`` customers are contacted: the
        capacity, and what the budget pays for). A kept
        customer is worth ``econ.value_retained`` unless ``scores`` carries values.

    Returns
    -------
    DataFrame
        threshold (ascending; the last one flags nobody), flagged, contacted, capped,
        expected_churners, expected_saved, revenue, cost, profit.
    """
    distinct = np.unique(scores.ascending)
    top = float(np.nextafter(distinct[-1], np.inf)) if distinct.size else 1.0
    grid = np.append(distinct, top)
    flagged = scores.n - np.searchsorted(scores.ascending, grid, side="left")
    limit = econ.contact_limit
    cap = flagged if limit is None else np.minimum(flagged, limit)
    churners = scores.cum_desc[cap]
    saved = churners * econ.success_rate
    # Per-customer values when given (sum of probability x value), else the same value each.
    revenue = (scores.cum_value_desc[cap] * econ.success_rate if scores.has_values
               else saved * econ.value_retained)
    cost = cap * econ.cost_per_contact
    return pd.DataFrame({"threshold": grid, "flagged": flagged, "contacted": cap,
                         "capped": flagged > cap, "expected_churners": churners,
                         "expected_saved": saved, "revenue": revenue, "cost": cost,
                         "profit": revenue - cost})


def best_profit_threshold(table: pd.DataFrame) -> tuple[float, float]:
    """(threshold, profit) of the most profitable row that does not exceed the capacity.

    Ties go to the highest threshold (fewest contacts for the same money); flagging
    nobody (profit 0) is always a candidate.
    """
    ok = table[~table["capped"].to_numpy()]
    profit = ok["profit"].to_numpy()
    i = len(profit) - 1 - int(np.argmax(profit[::-1]))
    return float(ok["threshold"].iloc[i]), float(profit[i])


def profit_at(table: pd.DataFrame, threshold: float) -> float:
    """Expected profit at ``threshold`` from an :func:`expected_profit` table (O(log n))."""
    grid = table["threshold"].to_numpy()
    i = min(int(np.searchsorted(grid, threshold, side="left")), len(grid) - 1)
    return float(table["profit"].iloc[i])


def value_share(scores: SortedScores, listed: int) -> float:
    """Share of all value at risk (probability x value) held by the ``listed`` riskiest.

    Without per-customer values every customer is worth the same, so it is the share of
    expected churners.
    """
    cum = scores.cum_value_desc if scores.has_values else scores.cum_desc
    total = float(cum[-1])
    return float(cum[min(listed, scores.n)]) / total if total > 0 else 0.0
