"""The retention campaign's payoff, and customers ranked for it (shared by the curve,
the bootstrap band and the sensitivity table).

Payoff, the same as :class:`churn_core.threshold.Economics`: contacting a
customer costs ``offer_cost + contact_cost``; a contacted churner stays with
probability ``success_rate`` and then keeps their value. So the expected profit
of contacting the ``m`` customers ranked first is::

    profit(m) = success_rate * sum(value of the churners among them) - m * cost

Customers are ranked by churn score (``ranking="risk"``) or by value at risk
(score x value, ``ranking="value_at_risk"``). Customers with tied ranking keys
are taken in random order, so the curve averages over them: it is linear
across a tie group (a model that gives 500 customers the same score cannot
say which of them to call first).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from churn_core.problems import ChurnDataError, InvalidSetting, Problem, example_rows

RANKINGS = ("risk", "value_at_risk")


def to_cents(amount: Any) -> Any:
    """Money as whole cents (int64, or an int for a scalar): sums and divisions of
    amounts are then exact (0.10 + 0.20 is 0.30; a budget of 0.30 pays 3 contacts at
    0.10, where floating point says 2.9999...)."""
    cents = np.round(np.asarray(amount, dtype=float) * 100.0).astype(np.int64)
    return int(cents) if cents.ndim == 0 else cents


def money_cumsum(values: Any) -> np.ndarray:
    """Running total of money amounts, summed exactly in cents (float result, in units)."""
    return np.cumsum(to_cents(values)) / 100.0


def contacts_paid(budget: float, cost_per_contact: float) -> float:
    """Contacts a budget pays for (fractional; inf when contacts are free), in cents."""
    cost = to_cents(cost_per_contact)
    return to_cents(budget) / cost if cost > 0 else float("inf")


@dataclass(frozen=True)
class Campaign:
    """Costs, acceptance and limits of a retention campaign.

    Parameters
    ----------
    offer_cost : float, default 20.0
        Incentive given to each contacted customer.
    success_rate : float, default 0.3
        Share of contacted churners who stay because of the offer (0..1).
    contact_cost : float, default 2.0
        Cost of reaching one customer.
    capacity : float or None
        Most customers the team can contact (in population units); None = no limit.
    budget : float or None
        Most money the campaign may spend on offers and contacts; None = no limit.

    Raises
    ------
    ValueError
        On negative costs or limits, or a success rate outside 0..1.
    """

    offer_cost: float = 20.0
    success_rate: float = 0.3
    contact_cost: float = 2.0
    capacity: float | None = None
    budget: float | None = None

    def __post_init__(self) -> None:
        if min(self.offer_cost, self.contact_cost) < 0:
            raise InvalidSetting("offer_cost and contact_cost must be >= 0")
        if not 0.0 <= self.success_rate <= 1.0:
            raise InvalidSetting(f"success_rate must be within 0..1, got {self.success_rate}")
        for name in ("capacity", "budget"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise InvalidSetting(f"{name} must be >= 0 or None, got {v}")

    @property
    def cost_per_contact(self) -> float:
        """Offer plus contact cost of one contacted customer."""
        return self.offer_cost + self.contact_cost

    def contact_limit(self) -> float:
        """Most customers the capacity and the budget allow (population units; inf = none)."""
        limit = np.inf if self.capacity is None else float(self.capacity)
        if self.budget is not None:
            limit = min(limit, contacts_paid(self.budget, self.cost_per_contact))
        return float(limit)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_economics(cls, econ: Any, *, budget: float | None = None) -> Campaign:
        """Build from a :class:`churn_core.threshold.Economics` (or anything with its fields).

        ``econ.value_retained`` is the constant value; pass it as ``value`` to
        the profit functions.
        """
        return cls(offer_cost=econ.offer_cost, success_rate=econ.success_rate,
                   contact_cost=econ.contact_cost, capacity=econ.capacity, budget=budget)


@dataclass(frozen=True)
class Ranked:
    """Labelled customers in contact order, with tie groups.

    Attributes
    ----------
    churn : numpy.ndarray of bool
        Churned, in contact order.
    benefit : numpy.ndarray
        Value of a churner (0 for the others), in contact order.
    ends : numpy.ndarray of int
        Cumulative position after each tie group (last = n).
    key : numpy.ndarray
        The ranking key in contact order (descending).
    order : numpy.ndarray of int
        Positions in the input of the customers in contact order.
    """

    churn: np.ndarray
    benefit: np.ndarray
    ends: np.ndarray
    key: np.ndarray
    order: np.ndarray

    @property
    def n(self) -> int:
        return int(self.churn.size)


def rank_customers(labels: Any, scores: Any, value: Any = 1.0, *,
                   ranking: str = "risk") -> Ranked:
    """Order labelled customers for contact, riskiest (or most value at risk) first.

    Parameters
    ----------
    labels : array-like of 0/1
        Churned or not; rows whose label is NaN are left out.
    scores : array-like of float
        Churn probabilities (out-of-fold for the training customers).
    value : float or array-like
        Value of each customer (or one constant), same length as ``labels``.
    ranking : {"risk", "value_at_risk"}

    Raises
    ------
    ChurnDataError
        ``PROFIT_LENGTH_MISMATCH``, ``PROFIT_BAD_SCORE`` (NaN or inf scores),
        ``PROFIT_BAD_VALUE`` (negative, NaN or inf values), ``PROFIT_NO_LABELS``.
    ValueError
        For an unknown ``ranking`` (a programming error).
    """
    if ranking not in RANKINGS:
        raise ValueError(f"ranking must be one of {RANKINGS}, got {ranking!r}")
    y = np.asarray(labels, dtype=float).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    v = np.broadcast_to(np.asarray(value, dtype=float), y.shape) if np.ndim(value) == 0 \
        else np.asarray(value, dtype=float).ravel()
    if not y.size == s.size == v.size:
        raise ChurnDataError([Problem(
            "PROFIT_LENGTH_MISMATCH", "error",
            f"{y.size} labels, {s.size} scores and {v.size} values: they must match.",
            values=(str(y.size), str(s.size), str(v.size)))])
    problems = []
    for name, arr, code, bad in (
            ("score", s, "PROFIT_BAD_SCORE", ~np.isfinite(s)),
            ("value", v, "PROFIT_BAD_VALUE", ~np.isfinite(v) | (v < 0))):
        if bad.any():
            rows, count = example_rows(bad)
            problems.append(Problem(
                code, "error", f"{count:,} customers have a {name} that is missing, infinite"
                + (" or negative." if name == "value" else "."), column=name, rows=rows,
                count=count, values=tuple(str(x) for x in arr[bad][:5])))
    if problems:
        raise ChurnDataError(problems)
    keep = ~np.isnan(y)
    if not keep.any():
        raise ChurnDataError([Problem("PROFIT_NO_LABELS", "error",
                                      "No customer has a known outcome to measure profit on.")])
    key = s if ranking == "risk" else s * v
    idx = np.flatnonzero(keep)
    order = idx[np.argsort(-key[idx], kind="stable")]
    k = key[order]
    churn = y[order] > 0.5
    ends = np.append(np.flatnonzero(k[1:] != k[:-1]) + 1, k.size)
    return Ranked(churn=churn, benefit=np.where(churn, v[order], 0.0), ends=ends,
                  key=k, order=order)
