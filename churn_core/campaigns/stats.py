"""Intervals for campaign results: Wilson, Newcombe's difference of proportions, power.

Every function takes numbers or numpy arrays of the same shape (vectorised), so a
report over ten deciles or a simulation of a thousand campaigns is one call.

The retention *uplift* of a campaign is the churn rate of the control group
minus the churn rate of the contacted group: positive when contacting kept
customers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

Z95 = float(norm.ppf(0.975))


def wilson_interval(x: np.ndarray | float, n: np.ndarray | float, *, z: float = Z95
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion ``x / n``.

    Parameters
    ----------
    x, n : array-like
        Successes and trials (same shape); ``n`` may be 0 (interval 0..1).
    z : float
        Normal quantile; 1.96 for 95 %.

    Returns
    -------
    low, high : ndarray
    """
    x = np.asarray(x, dtype=float)
    n = np.asarray(n, dtype=float)
    safe = np.where(n > 0, n, 1.0)
    p = x / safe
    denom = 1 + z * z / safe
    centre = (p + z * z / (2 * safe)) / denom
    with np.errstate(invalid="ignore"):  # x > n only where n == 0, masked below
        half = z * np.sqrt(p * (1 - p) / safe + z * z / (4 * safe * safe)) / denom
    low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
    high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    return low, high


def newcombe_interval(x1: np.ndarray | float, n1: np.ndarray | float,
                      x2: np.ndarray | float, n2: np.ndarray | float, *, z: float = Z95
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Difference ``x1/n1 - x2/n2`` with Newcombe's hybrid score interval (method 10).

    Newcombe (1998), "Interval estimation for the difference between independent
    proportions", Statistics in Medicine 17: the Wilson intervals of the two
    proportions combined; it keeps close to its nominal coverage with small groups
    and rates near 0 or 1, where the Wald interval does not.

    Returns
    -------
    diff, low, high : ndarray
        NaN where either group is empty.
    """
    n1a = np.asarray(n1, dtype=float)
    n2a = np.asarray(n2, dtype=float)
    p1 = np.asarray(x1, dtype=float) / np.where(n1a > 0, n1a, 1.0)
    p2 = np.asarray(x2, dtype=float) / np.where(n2a > 0, n2a, 1.0)
    l1, u1 = wilson_interval(x1, n1, z=z)
    l2, u2 = wilson_interval(x2, n2, z=z)
    diff = p1 - p2
    low = diff - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = diff + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    empty = (n1a <= 0) | (n2a <= 0)
    nan = np.full(np.shape(diff), np.nan)
    return (np.where(empty, nan, diff), np.where(empty, nan, low),
            np.where(empty, nan, high))


def uplift_interval(churned_control: np.ndarray | float, n_control: np.ndarray | float,
                    churned_contact: np.ndarray | float, n_contact: np.ndarray | float,
                    *, z: float = Z95) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Retention uplift (control churn rate minus contact churn rate) with its Newcombe interval.

    Returns
    -------
    uplift, low, high : ndarray
        As proportions (multiply by 100 for percentage points).
    """
    return newcombe_interval(churned_control, n_control, churned_contact, n_contact, z=z)


@dataclass(frozen=True)
class PowerCheck:
    """What a campaign of this size can learn.

    Attributes
    ----------
    n_contact, n_control : int
    base_rate : float
        Expected churn rate without action (the mean churn probability of the members).
    half_width : float
        Half-width of the 95 % interval of the uplift if there were no effect
        (e.g. 0.04 = the result will read "x +/- 4 points").
    mde : float
        Minimum detectable effect: the smallest true uplift found significant
        (5 %, two-sided) in 80 % of campaigns this size.
    expected_uplift : float or None
        Uplift the economics assume (success rate x base rate), when known.
    too_small : bool
        True when the mde exceeds the expected uplift (or 5 points when none is known).
    """

    n_contact: int
    n_control: int
    base_rate: float
    half_width: float
    mde: float
    expected_uplift: float | None
    too_small: bool


def power_check(n_contact: int, n_control: int, base_rate: float, *,
                expected_uplift: float | None = None, alpha: float = 0.05,
                power: float = 0.8, limit: float = 0.05) -> PowerCheck:
    """Interval half-width and minimum detectable effect for these group sizes.

    Normal approximation for a difference of proportions at ``base_rate``:
    ``mde = (z_{1-alpha/2} + z_{power}) * sqrt(p (1 - p) (1/n_contact + 1/n_control))``.
    10,000 customers at 30 % churn with a 5 % control group give a half-width of
    4.1 points and an mde of 5.9 points.

    Parameters
    ----------
    n_contact, n_control : int
    base_rate : float
        Churn rate expected without action.
    expected_uplift : float, optional
        The uplift the campaign hopes for; ``too_small`` compares against it.
    limit : float
        The mde above which a campaign is too small when no expected uplift is given.
    """
    p = float(np.clip(base_rate, 1e-6, 1 - 1e-6))
    if n_contact <= 0 or n_control <= 0:
        se = float("inf")
    else:
        se = float(np.sqrt(p * (1 - p) * (1 / n_contact + 1 / n_control)))
    z_a = float(norm.ppf(1 - alpha / 2))
    z_b = float(norm.ppf(power))
    mde = (z_a + z_b) * se
    bar = expected_uplift if expected_uplift and expected_uplift > 0 else limit
    return PowerCheck(int(n_contact), int(n_control), float(base_rate), z_a * se, mde,
                      expected_uplift, bool(mde > bar))


def binomial_bootstrap(churned: np.ndarray, n: np.ndarray, *, n_boot: int,
                       rng: np.random.Generator) -> np.ndarray:
    """Resampled churn counts of groups of fixed size (a stratified bootstrap).

    Drawing ``n`` customers with replacement from a group with ``churned``
    churners gives a Binomial(n, churned / n) count, so the bootstrap of many
    groups is one array draw instead of a loop over customers.

    Parameters
    ----------
    churned, n : ndarray of int, same shape
    n_boot : int
    rng : numpy Generator

    Returns
    -------
    ndarray, shape ``(n_boot, *churned.shape)``
    """
    churned = np.asarray(churned, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    p = np.where(n > 0, churned / np.where(n > 0, n, 1), 0.0)
    return rng.binomial(np.broadcast_to(n, (n_boot, *n.shape)),
                        np.broadcast_to(p, (n_boot, *p.shape)))


def mean_difference_interval(a: np.ndarray, b: np.ndarray, *, z: float = Z95
                             ) -> tuple[float, float, float]:
    """Difference of means ``mean(a) - mean(b)`` with a Welch (unequal variances) interval.

    Returns NaN when either sample is empty; a one-element sample has no variance
    and gives a zero-width contribution.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    if a.size == 0 or b.size == 0:
        return float("nan"), float("nan"), float("nan")
    diff = float(a.mean() - b.mean())
    var = (a.var(ddof=1) / a.size if a.size > 1 else 0.0) + \
        (b.var(ddof=1) / b.size if b.size > 1 else 0.0)
    half = z * float(np.sqrt(var))
    return diff, diff - half, diff + half
