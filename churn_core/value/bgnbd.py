"""BG/NBD: how many purchases a customer will make, and whether they are still "alive".

The beta-geometric / negative binomial distribution model of Fader, Hardie and
Lee ("Counting your customers the easy way", Marketing Science 24(2), 2005):
while alive a customer buys at a Poisson rate ``lambda ~ Gamma(r, alpha)``;
after each purchase they drop out with probability ``p ~ Beta(a, b)``.

Fitted by maximum likelihood (L-BFGS on the log of the four parameters, with
the analytic gradient). Customers with the same ``(frequency, recency, T)``
share one likelihood term, so daily data on a million customers costs a few
hundred thousand distinct terms, not a million.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, gammaln, hyp2f1

from churn_core.value.fitting import check_summary, compress, fit_failed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BgNbdParams:
    """Fitted BG/NBD parameters.

    Attributes
    ----------
    r, alpha : float
        Shape and rate of the Gamma distribution of purchase rates (per time unit).
    a, b : float
        Parameters of the Beta distribution of the drop-out probability.
    log_likelihood : float
        Log-likelihood at the optimum (sum over customers).
    customers : int
        Customers the fit used.
    time_unit : str
        ``"day"`` or ``"week"``: the unit of ``alpha`` and of every horizon.
    """

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    customers: int
    time_unit: str = "week"

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)


def negative_log_likelihood(log_params: np.ndarray, x: np.ndarray, tx: np.ndarray,
                            T: np.ndarray, weights: np.ndarray | None = None,
                            groups: tuple[np.ndarray, np.ndarray] | None = None
                            ) -> tuple[float, np.ndarray]:
    """Negative log-likelihood and its gradient in ``log(r, alpha, a, b)``.

    Parameters
    ----------
    log_params : array of 4 floats
        ``log(r), log(alpha), log(a), log(b)``.
    x, tx, T : arrays
        Frequency, recency and age of each customer (or distinct triple).
    weights : array, optional
        How many customers share each triple (default 1).
    groups : (distinct x, inverse), optional
        ``np.unique(x, return_inverse=True)``, computed once by the fit: the
        gamma and beta functions depend on ``x`` only, so they are evaluated
        once per distinct frequency.

    Returns
    -------
    value : float
    gradient : numpy.ndarray of 4 floats

    Notes
    -----
    Per customer, ``L = exp(A1) * (exp(A2) + [x > 0] exp(A3))`` with
    ``A1 = ln G(r+x) - ln G(r) + r ln alpha``,
    ``A2 = ln B(a, b+x) - ln B(a, b) - (r+x) ln(alpha+T)`` (still alive) and
    ``A3 = ln B(a+1, b+x-1) - ln B(a, b) - (r+x) ln(alpha+t_x)`` (dropped out
    after the last purchase); Fader, Hardie and Lee (2005), equation (6).
    """
    r, alpha, a, b = np.exp(log_params)
    w = np.ones_like(x) if weights is None else weights
    ux, inv = groups if groups is not None else np.unique(x, return_inverse=True)
    rep_u = ux > 0
    ux1 = np.where(rep_u, ux - 1, 0.0)        # keeps the x = 0 terms finite; masked below
    bab = betaln(a, b)
    a1 = (gammaln(r + ux) - gammaln(r))[inv] + r * np.log(alpha)
    log_t = np.log(alpha + T)
    log_tx = np.log(alpha + tx)
    a2 = (betaln(a, b + ux) - bab)[inv] - (r + x) * log_t
    a3 = np.where(rep_u, betaln(a + 1, b + ux1) - bab, -np.inf)[inv] - (r + x) * log_tx
    lse = np.logaddexp(a2, a3)
    p2 = np.exp(a2 - lse)          # share of the likelihood from "still alive"
    p3 = 1.0 - p2
    d_r = ((digamma(r + ux) - digamma(r))[inv] + np.log(alpha)
           - p2 * log_t - p3 * log_tx)
    d_alpha = r / alpha - (r + x) * (p2 / (alpha + T) + p3 / (alpha + tx))
    dab = digamma(a + b + ux)
    base_a = digamma(a + b) - digamma(a)
    base_b = digamma(a + b) - digamma(b)
    d_a = (p2 * (digamma(a) - dab + base_a)[inv]
           + p3 * (digamma(a + 1) - dab + base_a)[inv])
    d_b = (p2 * (digamma(b + ux) - dab + base_b)[inv]
           + p3 * np.where(rep_u, digamma(b + ux1) - dab + base_b, 0.0)[inv])
    grad = np.array([np.dot(w, d_r) * r, np.dot(w, d_alpha) * alpha,
                     np.dot(w, d_a) * a, np.dot(w, d_b) * b])
    return -float(np.dot(w, a1 + lse)), -grad


def fit_bgnbd(summary: pd.DataFrame, *, time_unit: str = "week",
              initial: tuple[float, float, float, float] = (1.0, 1.0, 1.0, 1.0)) -> BgNbdParams:
    """Fit BG/NBD by maximum likelihood.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``frequency``, ``recency``, ``T`` per customer (see
        :func:`churn_core.value.rfm.rfm_summary`).
    time_unit : str
        Unit of ``recency`` and ``T``, recorded on the result.
    initial : 4 floats
        Starting ``r, alpha, a, b``.

    Returns
    -------
    BgNbdParams

    Raises
    ------
    ChurnDataError
        ``VALUE_BAD_SUMMARY`` for negative, missing or inconsistent values;
        ``VALUE_FIT_FAILED`` when the optimiser does not converge.
    """
    check_summary(summary)
    x, tx, T, w = compress(summary, ("frequency", "recency", "T"))
    # alpha is a time scale: start it at the customers' mean age so days and weeks both work
    start = np.log(np.array(initial) * np.array([1.0, max(float(np.average(T, weights=w)), 1e-3)
                                                  / 10, 1.0, 1.0]))
    groups = np.unique(x, return_inverse=True)
    res = minimize(negative_log_likelihood, start, args=(x, tx, T, w, groups), jac=True,
                   method="L-BFGS-B", bounds=[(-20, 20)] * 4,
                   options={"maxiter": 2000, "gtol": 1e-9, "ftol": 1e-15})
    if not np.isfinite(res.fun) or (not res.success and "ABNORMAL" not in str(res.message)):
        raise fit_failed("BG/NBD", str(res.message))
    r, alpha, a, b = (float(v) for v in np.exp(res.x))
    logger.info("BG/NBD fit on %d customers (%d distinct): r=%.4f alpha=%.4f a=%.4f b=%.4f",
                int(w.sum()), x.size, r, alpha, a, b)
    return BgNbdParams(r=r, alpha=alpha, a=a, b=b, log_likelihood=-float(res.fun),
                       customers=int(w.sum()), time_unit=time_unit)


def _arrays(summary: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (summary["frequency"].to_numpy(float), summary["recency"].to_numpy(float),
            summary["T"].to_numpy(float))


def probability_alive(params: BgNbdParams, summary: pd.DataFrame) -> np.ndarray:
    """P(customer still active at the end of calibration | frequency, recency, T).

    Always 1 for customers without a repeat purchase (the model cannot drop
    them out before their first repeat), as in the paper.
    """
    x, tx, T = _arrays(summary)
    p = params
    rep = x > 0
    log_ratio = (np.log(p.a) - np.log(np.where(rep, p.b + x - 1, 1.0))
                 + (p.r + x) * (np.log(p.alpha + T) - np.log(p.alpha + tx)))
    return np.where(rep, 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700))), 1.0)


def expected_purchases(params: BgNbdParams, summary: pd.DataFrame, horizon: float) -> np.ndarray:
    """Expected purchases in the next ``horizon`` time units, per customer.

    Equation (10) of Fader, Hardie and Lee (2005), with the Gaussian
    hypergeometric function from :func:`scipy.special.hyp2f1`.
    """
    x, tx, T = _arrays(summary)
    p = params
    if horizon <= 0:
        return np.zeros_like(x)
    z = horizon / (p.alpha + T + horizon)
    h = hyp2f1(p.r + x, p.b + x, p.a + p.b + x - 1, z)
    first = (p.a + p.b + x - 1) / (p.a - 1)
    inner = 1.0 - np.exp((p.r + x) * np.log((p.alpha + T) / (p.alpha + T + horizon))) * h
    alive = probability_alive(params, summary)
    out = first * inner * alive
    bad = ~np.isfinite(out)
    if bad.any():
        # Degenerate fits (a -> 0, r and alpha huge: a log where nobody seems to drop out)
        # overflow the hypergeometric term; their limit is the Poisson rate x the horizon.
        rate = (p.r + x) / (p.alpha + T)
        out = np.where(bad, rate * horizon * alive, out)
    return out


def expected_purchases_new(params: BgNbdParams, horizon: float | np.ndarray) -> np.ndarray:
    """Expected purchases of a newly acquired customer in ``(0, horizon]`` (equation 9)."""
    t = np.asarray(horizon, dtype=float)
    p = params
    z = t / (p.alpha + t)
    h = hyp2f1(p.r, p.b, p.a + p.b - 1, z)
    return (p.a + p.b - 1) / (p.a - 1) * (1.0 - (p.alpha / (p.alpha + t)) ** p.r * h)


def simulate_bgnbd(params: BgNbdParams, T: np.ndarray, *, seed: int = 0) -> pd.DataFrame:
    """Draw ``frequency, recency`` for customers of age ``T`` from the model (vectorised).

    For tests and benchmarks: each customer's rate and drop-out probability
    are drawn, then purchases follow the BG/NBD story until ``T``.
    """
    rng = np.random.default_rng(seed)
    T = np.asarray(T, dtype=float)
    n = T.size
    lam = rng.gamma(params.r, 1.0 / params.alpha, n)
    drop = rng.beta(params.a, params.b, n)
    x = np.zeros(n)
    tx = np.zeros(n)
    t = np.zeros(n)
    live = np.ones(n, dtype=bool)
    while live.any():
        idx = np.flatnonzero(live)
        t[idx] += rng.exponential(1.0, idx.size) / np.maximum(lam[idx], 1e-300)
        within = t[idx] <= T[idx]
        bought = idx[within]
        x[bought] += 1
        tx[bought] = t[bought]
        # drop-out happens after a purchase
        stays = rng.random(bought.size) >= drop[bought]
        live[:] = False
        live[bought[stays]] = True
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T})
