"""Gamma-Gamma: what a customer's future purchases will be worth on average.

Fader and Hardie, "The Gamma-Gamma model of monetary value" (2013 note):
a customer's spend per purchase is ``Gamma(p, nu)`` around their own mean,
and ``nu ~ Gamma(q, gamma)`` across customers. Fitted on the repeat buyers'
mean repeat spend ``m_x`` over ``x`` repeat purchases; a customer's expected
spend is then a weighted mean of the population mean ``p * gamma / (q - 1)``
and their own ``m_x``, the weight growing with ``x``.

The model assumes spend does not depend on purchase frequency; check the
correlation of ``frequency`` and ``monetary_value`` (see
:func:`spend_frequency_correlation`) before relying on it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import digamma, gammaln

from churn_core.problems import ChurnDataError, Problem
from churn_core.value.fitting import check_summary, compress, fit_failed

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GammaGammaParams:
    """Fitted Gamma-Gamma parameters (``gamma`` is the paper's scale of ``nu``).

    Attributes
    ----------
    p, q, gamma : float
    log_likelihood : float
    customers : int
        Repeat buyers with positive spend that the fit used.
    """

    p: float
    q: float
    gamma: float
    log_likelihood: float
    customers: int

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-ready dict."""
        return asdict(self)

    @property
    def population_mean(self) -> float:
        """Mean spend per purchase of a customer the model knows nothing about (q > 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("inf")


def _repeat_buyers(summary: pd.DataFrame) -> pd.DataFrame:
    check_summary(summary, ("frequency", "monetary_value"))
    keep = (summary["frequency"] > 0) & (summary["monetary_value"] > 0)
    return summary.loc[keep, ["frequency", "monetary_value"]]


def negative_log_likelihood(log_params: np.ndarray, x: np.ndarray, m: np.ndarray,
                            weights: np.ndarray | None = None,
                            groups: tuple[np.ndarray, np.ndarray] | None = None
                            ) -> tuple[float, np.ndarray]:
    """Negative log-likelihood of the mean spends and its gradient in ``log(p, q, gamma)``.

    Per repeat buyer with ``x`` repeat purchases of mean ``m``:
    ``ln G(px+q) - ln G(px) - ln G(q) + q ln gamma + (px-1) ln m + px ln x
    - (px+q) ln(x m + gamma)``. ``groups`` (``np.unique(x, return_inverse=True)``)
    lets the gamma functions run once per distinct ``x``.
    """
    p, q, g = np.exp(log_params)
    w = np.ones_like(x) if weights is None else weights
    ux, inv = groups if groups is not None else np.unique(x, return_inverse=True)
    pu = p * ux
    px = p * x
    log_x, log_m = np.log(x), np.log(m)
    log_xm_g = np.log(x * m + g)
    ll = ((gammaln(pu + q) - gammaln(pu))[inv] - gammaln(q) + q * np.log(g)
          + (px - 1) * log_m + px * log_x - (px + q) * log_xm_g)
    psi_sum = digamma(pu + q)
    d_p = x * ((psi_sum - digamma(pu))[inv] + log_m + log_x - log_xm_g)
    d_q = (psi_sum - digamma(q))[inv] + np.log(g) - log_xm_g
    d_g = q / g - (px + q) / (x * m + g)
    grad = np.array([np.dot(w, d_p) * p, np.dot(w, d_q) * q, np.dot(w, d_g) * g])
    return -float(np.dot(w, ll)), -grad


def fit_gamma_gamma(summary: pd.DataFrame, *,
                    initial: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> GammaGammaParams:
    """Fit Gamma-Gamma by maximum likelihood on the repeat buyers.

    Parameters
    ----------
    summary : pandas.DataFrame
        ``frequency`` and ``monetary_value`` per customer; customers without a
        repeat purchase or with a spend <= 0 are left out of the fit.
    initial : 3 floats
        Starting ``p, q, gamma`` (``gamma`` is scaled by the mean spend).

    Returns
    -------
    GammaGammaParams

    Raises
    ------
    ChurnDataError
        ``VALUE_NO_REPEAT_BUYERS`` when fewer than 2 customers have a repeat
        purchase with spend; ``VALUE_FIT_FAILED`` when the optimiser fails.
    """
    buyers = _repeat_buyers(summary)
    if len(buyers) < 2:
        raise ChurnDataError([Problem(
            "VALUE_NO_REPEAT_BUYERS", "error",
            f"Only {len(buyers)} customers have a repeat purchase with a spend; the spend "
            "model needs more.", count=len(buyers),
            action="map an amount column, or use a constant value per customer")])
    x, m, w = compress(buyers, ("frequency", "monetary_value"))
    start = np.log(np.array(initial) * np.array([1.0, 1.0, float(np.average(m, weights=w))]))
    groups = np.unique(x, return_inverse=True)
    res = minimize(negative_log_likelihood, start, args=(x, m, w, groups), jac=True,
                   method="L-BFGS-B", bounds=[(-20, 20)] * 3,
                   options={"maxiter": 2000, "gtol": 1e-9, "ftol": 1e-15})
    if not np.isfinite(res.fun) or (not res.success and "ABNORMAL" not in str(res.message)):
        raise fit_failed("Gamma-Gamma", str(res.message))
    p, q, g = (float(v) for v in np.exp(res.x))
    logger.info("Gamma-Gamma fit on %d repeat buyers: p=%.4f q=%.4f gamma=%.4f",
                int(w.sum()), p, q, g)
    return GammaGammaParams(p=p, q=q, gamma=g, log_likelihood=-float(res.fun),
                            customers=int(w.sum()))


def expected_average_spend(params: GammaGammaParams, summary: pd.DataFrame) -> np.ndarray:
    """Expected spend per future purchase, per customer (the population mean without repeats).

    ``(p * (gamma + x * m_x)) / (p * x + q - 1)``; customers without a repeat
    purchase (or with no spend) get ``p * gamma / (q - 1)``.
    """
    x = summary["frequency"].to_numpy(float)
    m = summary["monetary_value"].to_numpy(float)
    known = (x > 0) & (m > 0)
    x = np.where(known, x, 0.0)
    m = np.where(known, m, 0.0)
    p, q, g = params.p, params.q, params.gamma
    return p * (g + x * m) / (p * x + q - 1)


def spend_frequency_correlation(summary: pd.DataFrame) -> float:
    """Pearson correlation of frequency and mean spend among repeat buyers (NaN if < 3)."""
    buyers = _repeat_buyers(summary)
    if len(buyers) < 3:
        return float("nan")
    return float(np.corrcoef(buyers["frequency"], buyers["monetary_value"])[0, 1])
