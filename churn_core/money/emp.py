"""Expected Maximum Profit for churn (EMPC), a quality figure in money per customer.

Verbraken, Verbeke and Baesens, "A novel profit maximizing metric for
measuring classification performance of customer churn prediction models",
IEEE TKDE 25(5), 2013. The acceptance rate ``gamma`` of the offer is unknown
and follows ``Beta(alpha, beta)``; for each ``gamma`` the campaign contacts
the best share of customers; EMPC averages that best profit over ``gamma``::

    EMPC = integral over gamma of  max_t [ pi1 F1(t) (gamma (clv - d) - f)
                                           - pi0 F0(t) (d + f) ] h(gamma) d gamma

with ``pi1`` the churn rate, ``F1(t)``/``F0(t)`` the shares of churners /
others flagged at threshold ``t``, ``d`` the offer (incentive) cost, ``f``
the contact cost. A churner who declines costs only the contact; everyone
else contacted takes the offer (the paper's payoff, also ``empulse``'s
``empc_score``). This differs slightly from :class:`Campaign`, where every
contacted customer costs the offer.

For each ``gamma`` the profit is linear, so its maximum over thresholds is
the upper envelope of lines, reached on the ROC convex hull; the integral is
exact piecewise, with the regularised incomplete beta function.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.special import betainc

from churn_core.problems import ChurnDataError, Problem


@dataclass(frozen=True)
class EmpResult:
    """EMPC and the share of customers the campaign contacts at its optimum.

    Attributes
    ----------
    emp : float
        Expected maximum profit per customer (money).
    share : float
        Expected share contacted at the optimum (averaged over ``gamma``).
    """

    emp: float
    share: float

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


def _roc_points(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of churners (tpr) and of others (fpr) flagged at each distinct score, from (0, 0)."""
    order = np.argsort(-s, kind="stable")
    ys, ss = y[order], s[order]
    ends = np.append(np.flatnonzero(ss[1:] != ss[:-1]), ss.size - 1)
    tp = np.concatenate([[0.0], np.cumsum(ys)[ends]])
    fp = np.concatenate([[0.0], np.cumsum(1 - ys)[ends]])
    return tp / max(tp[-1], 1.0), fp / max(fp[-1], 1.0)


def _upper_hull(fpr: np.ndarray, tpr: np.ndarray) -> np.ndarray:
    """Indices of the ROC convex hull's upper chain, left to right (monotone chain)."""
    hull: list[int] = []
    for i in range(fpr.size):
        while len(hull) >= 2:
            o, a = hull[-2], hull[-1]
            cross = (fpr[a] - fpr[o]) * (tpr[i] - tpr[o]) - (tpr[a] - tpr[o]) * (fpr[i] - fpr[o])
            if cross >= 0:       # a lies on or below the chord o-i
                hull.pop()
            else:
                break
        hull.append(i)
    return np.array(hull)


def emp_churn(labels: Any, scores: Any, *, clv: float = 200.0, incentive_cost: float = 10.0,
              contact_cost: float = 1.0, alpha: float = 6.0, beta: float = 14.0) -> EmpResult:
    """Expected Maximum Profit for churn (EMPC) of a set of scores.

    Parameters
    ----------
    labels : array-like of 0/1
        1 = churned.
    scores : array-like of float
        Higher = riskier.
    clv : float, default 200
        Value of a retained customer.
    incentive_cost : float, default 10
        Offer cost ``d``.
    contact_cost : float, default 1
        Contact cost ``f``.
    alpha, beta : float, default 6, 14
        Beta distribution of the acceptance rate (mean ``alpha / (alpha + beta)``).

    Returns
    -------
    EmpResult

    Raises
    ------
    ChurnDataError
        ``PROFIT_LENGTH_MISMATCH``, ``PROFIT_BAD_SCORE``, ``PROFIT_ONE_CLASS``.
    """
    y = np.asarray(labels, dtype=float).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    if y.size != s.size:
        raise ChurnDataError([Problem("PROFIT_LENGTH_MISMATCH", "error",
                                      f"{y.size} labels but {s.size} scores.")])
    if not np.isfinite(s).all() or not np.isfinite(y).all():
        raise ChurnDataError([Problem("PROFIT_BAD_SCORE", "error",
                                      "Labels and scores must be numbers without gaps.")])
    y = (y > 0.5).astype(float)
    pi1 = y.mean()
    if pi1 in (0.0, 1.0):
        raise ChurnDataError([Problem("PROFIT_ONE_CLASS", "error",
                                      "EMP needs both churners and other customers.")])
    tpr, fpr = _roc_points(y, s)
    hull = _upper_hull(fpr, tpr)
    tpr, fpr = tpr[hull], fpr[hull]
    # profit at hull point k for acceptance g: intercept[k] + slope[k] * g
    slope = pi1 * tpr * (clv - incentive_cost)
    intercept = -pi1 * tpr * contact_cost - (1 - pi1) * fpr * (incentive_cost + contact_cost)
    # along a concave hull the optimum moves right as g grows; g where k+1 overtakes k:
    with np.errstate(divide="ignore", invalid="ignore"):
        cut = (intercept[:-1] - intercept[1:]) / (slope[1:] - slope[:-1])
    cut = np.where(slope[1:] > slope[:-1], cut, np.inf)
    cut = np.maximum.accumulate(np.clip(cut, 0.0, 1.0))
    edges = np.concatenate([[0.0], cut, [1.0]])
    mass = np.diff(betainc(alpha, beta, edges))                    # P(g in segment k)
    mean = alpha / (alpha + beta)
    first_moment = mean * np.diff(betainc(alpha + 1, beta, edges))  # E[g; g in segment k]
    emp = float(np.sum(intercept * mass + slope * first_moment))
    share = pi1 * tpr + (1 - pi1) * fpr
    return EmpResult(emp=emp, share=float(np.sum(share * mass)))
