"""Customer value from the fitted models, value at risk, and where the models disagree.

:func:`fit_value_models` fits BG/NBD (purchases) and, when spend is known,
Gamma-Gamma (spend per purchase) on an RFM summary;
:func:`customer_value_table` gives every customer their probability of
being alive, expected purchases, expected spend per purchase and expected
value over a horizon. :func:`value_at_risk` multiplies a churn probability
by a value: the money expected to be lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from churn_core.problems import ChurnDataError, Problem, example_rows, example_values
from churn_core.value.bgnbd import (
    BgNbdParams,
    expected_purchases,
    fit_bgnbd,
    probability_alive,
)
from churn_core.value.gamma_gamma import (
    GammaGammaParams,
    expected_average_spend,
    fit_gamma_gamma,
    spend_frequency_correlation,
)

logger = logging.getLogger(__name__)

VALUE_COLUMNS = ("p_alive", "expected_purchases", "expected_spend", "expected_value")
# An event-log build's estimate of what each customer is worth (not a churn feature).
BUILD_VALUE_COLUMN = "customer_value"


@dataclass(frozen=True)
class ValueModels:
    """The fitted value models of one calibration period.

    Attributes
    ----------
    bgnbd : BgNbdParams
    gamma_gamma : GammaGammaParams or None
        None when the log has no spend, or too few repeat buyers with one.
    spend_frequency_corr : float
        Correlation of frequency and mean spend among repeat buyers; the
        Gamma-Gamma model assumes it is near 0.
    gamma_gamma_note : str
        Why Gamma-Gamma was not fitted (empty when it was).
    """

    bgnbd: BgNbdParams
    gamma_gamma: GammaGammaParams | None = None
    spend_frequency_corr: float = float("nan")
    gamma_gamma_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return ``{"bgnbd": {...}, "gamma_gamma": {...} or None, ...}``, JSON-ready."""
        corr = self.spend_frequency_corr
        return {"bgnbd": self.bgnbd.to_dict(),
                "gamma_gamma": self.gamma_gamma.to_dict() if self.gamma_gamma else None,
                "spend_frequency_corr": None if np.isnan(corr) else corr,
                "gamma_gamma_note": self.gamma_gamma_note}


def fit_value_models(summary: pd.DataFrame, *, time_unit: str = "week") -> ValueModels:
    """Fit BG/NBD, and Gamma-Gamma when the summary carries spend.

    Parameters
    ----------
    summary : pandas.DataFrame
        From :func:`churn_core.value.rfm.rfm_summary`.
    time_unit : str
        Unit of ``recency`` and ``T``.

    Returns
    -------
    ValueModels

    Raises
    ------
    ChurnDataError
        From the BG/NBD fit (a Gamma-Gamma failure is recorded in
        ``gamma_gamma_note`` instead: value then falls back to purchases only).
    """
    bg = fit_bgnbd(summary, time_unit=time_unit)
    if "monetary_value" not in summary.columns or not (summary["monetary_value"] > 0).any():
        return ValueModels(bg, None, gamma_gamma_note="no spend in the log")
    corr = spend_frequency_correlation(summary)
    try:
        gg = fit_gamma_gamma(summary)
    except ChurnDataError as exc:
        return ValueModels(bg, None, corr, gamma_gamma_note=exc.summary())
    if abs(corr) > 0.3:
        logger.warning("spend and frequency correlate (%.2f): Gamma-Gamma assumes they do not",
                       corr)
    return ValueModels(bg, gg, corr)


def customer_value_table(models: ValueModels, summary: pd.DataFrame, *, horizon: float,
                         margin: float = 1.0, discount_rate: float = 0.0,
                         steps: int = 12) -> pd.DataFrame:
    """Expected purchases, spend and value of every customer over ``horizon``.

    Parameters
    ----------
    models : ValueModels
    summary : pandas.DataFrame
        RFM summary of the customers to value (the fit's or newer).
    horizon : float
        In the models' time unit (e.g. 13 weeks = the churn window).
    margin : float, default 1.0
        Share of spend that is profit; value = spend x margin.
    discount_rate : float, default 0.0
        Per time unit; with a positive rate the horizon is cut into ``steps``
        and each step's purchases are discounted to today.
    steps : int
        Discounting steps (ignored without discounting).

    Returns
    -------
    pandas.DataFrame
        The summary columns plus ``p_alive``, ``expected_purchases``,
        ``expected_spend`` (NaN without a spend model) and ``expected_value``
        (purchases x spend x margin, discounted; NaN without a spend model).
    """
    if horizon < 0 or margin < 0 or discount_rate < 0:
        raise ValueError("horizon, margin and discount_rate must be >= 0")
    bg = models.bgnbd
    purchases = expected_purchases(bg, summary, horizon)
    if models.gamma_gamma is not None:
        spend = expected_average_spend(models.gamma_gamma, summary)
    else:
        spend = np.full(len(summary), np.nan)
    if discount_rate > 0 and horizon > 0:
        edges = np.linspace(0.0, horizon, steps + 1)
        cum = np.column_stack([expected_purchases(bg, summary, h) for h in edges[1:]])
        per_step = np.diff(np.column_stack([np.zeros(len(summary)), cum]), axis=1)
        discounted = per_step @ (1.0 + discount_rate) ** -edges[1:]
    else:
        discounted = purchases
    out = summary.copy()
    out["p_alive"] = probability_alive(bg, summary)
    out["expected_purchases"] = purchases
    out["expected_spend"] = spend
    out["expected_value"] = discounted * spend * margin
    return out


def value_at_risk(churn_probability: Any, value: Any) -> np.ndarray:
    """Expected value lost per customer: churn probability x value (NaN stays NaN).

    ``value`` is an array (one per customer) or a constant.
    """
    p = np.asarray(churn_probability, dtype=float)
    return p * np.broadcast_to(np.asarray(value, dtype=float), p.shape)


def alive_disagreement(p_alive: Any, churn_probability: Any, *, gap: float = 0.5) -> np.ndarray:
    """Flag customers where BG/NBD and the churn model disagree strongly.

    True where ``|(1 - p_alive) - churn_probability| >= gap``: e.g. the churn
    model says 0.9 while BG/NBD is 95 % sure the customer is still active.
    """
    a = np.asarray(p_alive, dtype=float)
    c = np.asarray(churn_probability, dtype=float)
    return np.abs((1.0 - a) - c) >= gap


def value_column(frame: pd.DataFrame, column: str, *, missing: float | None = None
                 ) -> np.ndarray:
    """Per-customer value from a column the user picks (spend, order value, margin).

    Parameters
    ----------
    frame : pandas.DataFrame
        The customer table.
    column : str
        The value column; text numbers (``"1,299"``) are read by ``pd.to_numeric``
        after the table reader's conversions.
    missing : float, optional
        Value given to customers whose cell is empty; None: empty cells are an error.

    Returns
    -------
    numpy.ndarray of float

    Raises
    ------
    ChurnDataError
        ``VALUE_MISSING_COLUMN``; ``VALUE_BAD_COLUMN`` for text, negative or
        infinite values, or empty cells without ``missing`` (rows and values named).
    """
    if column not in frame.columns:
        raise ChurnDataError([Problem(
            "VALUE_MISSING_COLUMN", "error", f"Column {column!r} is not in the table.",
            column=column, values=tuple(map(str, list(frame.columns)[:5])),
            action="pick an existing column or use a constant value")])
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    empty = raw.isna().to_numpy()
    checks = [(~empty & np.isnan(values), "are not numbers"),
              (np.isinf(values) | (values < 0), "are negative or infinite")]
    if missing is None:
        checks.append((empty, "are empty"))
    problems = []
    for bad, why in checks:
        if bad.any():
            rows, count = example_rows(bad)
            problems.append(Problem(
                "VALUE_BAD_COLUMN", "error", f"{count:,} values of {column!r} {why}.",
                column=column, rows=rows, count=count,
                values=example_values(raw.to_numpy()[bad]),
                action="fix them, give empty cells a value, or use a constant value"))
    if problems:
        raise ChurnDataError(problems)
    return np.where(empty, float(missing or 0.0), values)


def value_at_risk_covered(at_risk: Any, top_n: int) -> float:
    """Share of all value at risk held by the ``top_n`` customers with the most of it.

    NaN entries count as 0; returns 0.0 when there is no value at risk at all.
    """
    v = np.nan_to_num(np.asarray(at_risk, dtype=float), nan=0.0)
    total = v.sum()
    if total <= 0 or top_n <= 0:
        return 0.0
    top = np.partition(v, v.size - min(top_n, v.size))[v.size - min(top_n, v.size):]
    return float(top.sum() / total)
