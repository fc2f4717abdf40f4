"""Two-sample tests for drift: KS against a quantile sketch, chi-squared homogeneity,
missing shares, levels never seen, and Holm's correction.

Every test is two-sample, because the reference is a sample too.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

MIN_EXPECTED = 5.0


# -- tests ------------------------------------------------------------------------------------
def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm-adjusted p-values (NaN stays NaN and does not count as a test)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    if idx.size == 0:
        return out
    order = idx[np.argsort(p[idx], kind="stable")]
    m = order.size
    adjusted = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out[order] = np.minimum(adjusted, 1.0)
    return out


def _sketch_cdf(q: np.ndarray, x: np.ndarray, side: str) -> np.ndarray:
    """CDF of the quantile sketch ``q`` at ``x`` (right-continuous, or left limits)."""
    probs = np.linspace(0.0, 1.0, q.size)
    i = np.searchsorted(q, x, side=side)
    inside = (i > 0) & (i < q.size)
    out = np.where(i >= q.size, 1.0, 0.0)
    lo, hi = i[inside] - 1, i[inside]
    width = q[hi] - q[lo]
    frac = np.where(width > 0, (x[inside] - q[lo]) / np.where(width > 0, width, 1.0), 1.0)
    out[inside] = probs[lo] + frac * (probs[hi] - probs[lo])
    return out


def ks_against_sketch(quantiles: np.ndarray, n_ref: int, current: np.ndarray
                      ) -> tuple[float, float]:
    """Two-sample KS statistic and asymptotic p-value of ``current`` against a sketch.

    The sketch stands for ``n_ref`` reference values; the p-value is Smirnov's, as
    :func:`scipy.stats.ks_2samp` uses for large samples.
    """
    q = np.asarray(quantiles, dtype=float)
    x = np.sort(current)
    m = x.size
    j = np.arange(1, m + 1)
    d_plus = np.max(j / m - _sketch_cdf(q, x, "right"))
    d_minus = np.max(_sketch_cdf(q, x, "left") - (j - 1) / m)
    d = float(max(d_plus, d_minus, 0.0))
    en = n_ref * m / (n_ref + m)
    return d, float(stats.kstwo.sf(d, max(np.round(en), 1)))


def _pool_columns(table: np.ndarray) -> np.ndarray:
    """Merge columns of a 2 x K count table whose smallest expected count is under 5."""
    total = table.sum()
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / total
    small = expected.min(axis=0) < MIN_EXPECTED
    if not small.any():
        return table
    big = table[:, ~small]
    pooled = table[:, small].sum(axis=1, keepdims=True)
    if big.shape[1] and (np.outer(table.sum(axis=1), pooled.sum(axis=0)) / total).min() \
            < MIN_EXPECTED:
        # Still too small on its own: fold it into the smallest remaining column.
        smallest = int(np.argmin(big.sum(axis=0)))
        big = big.copy()
        big[:, smallest] += pooled[:, 0]
        return big
    return np.hstack([big, pooled])


def chi2_homogeneity(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Chi-squared test that two count vectors (same categories) come from one distribution."""
    table = _pool_columns(np.vstack([ref_counts, cur_counts]).astype(float))
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or (table.sum(axis=1) == 0).any():
        return 0.0, 1.0
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    return float(chi2), float(p)


def missing_share_test(ref_missing: int, ref_rows: int, cur_missing: int, cur_rows: int
                       ) -> float:
    """Two-sided p-value that the missing share differs (Fisher's exact two-proportion test)."""
    if ref_rows == 0 or cur_rows == 0 or (ref_missing == 0 and cur_missing == 0):
        return 1.0
    if ref_missing == ref_rows and cur_missing == cur_rows:
        return 1.0
    table = [[ref_missing, ref_rows - ref_missing], [cur_missing, cur_rows - cur_missing]]
    return float(stats.fisher_exact(table).pvalue)


def vanished_levels(levels: list[str], ref_counts: np.ndarray, cur_counts: np.ndarray,
              cur_present: int, alpha: float) -> tuple[str, ...]:
    """Reference levels absent now although chance would almost surely have shown them."""
    total = ref_counts.sum()
    if total == 0 or cur_present == 0:
        return ()
    share = ref_counts / total
    with np.errstate(divide="ignore"):
        log_absent = cur_present * np.log1p(-np.minimum(share, 1 - 1e-12))
    gone = (cur_counts == 0) & (log_absent < np.log(alpha))
    return tuple(lv for lv, g in zip(levels, gone, strict=True) if g)


def unseen_level_p(ref_counts: np.ndarray, cur_counts: np.ndarray, new_counts: np.ndarray, *,
                   draws: int = 4000, seed: int = 0) -> float:
    """One-sided p-value that the current rows in levels the reference never saw are more
    than chance.

    Conditional permutation test: given every level's total count over both samples,
    a level lands wholly in the current sample with probability ``(m / (N + m)) ** total``
    when both samples come from one distribution (with-replacement approximation); the
    statistic is the rows in such levels. High-cardinality columns see many new
    levels by chance in small samples, which this null accounts for. The tail comes
    from ``draws`` seeded simulations; beyond them, from Bernstein's inequality.
    """
    t_obs = float(np.sum(new_counts))
    n_ref, n_cur = float(np.sum(ref_counts)), float(np.sum(cur_counts) + t_obs)
    if t_obs == 0 or n_ref == 0:
        return 1.0
    totals = np.concatenate([np.asarray(ref_counts) + np.asarray(cur_counts),
                             np.asarray(new_counts)]).astype(float)
    totals = totals[totals > 0]
    pi = (n_cur / (n_ref + n_cur)) ** totals
    keep = pi > 1e-9
    totals, pi = totals[keep], pi[keep]
    if totals.size == 0:
        return 1.0 / (draws + 1)
    rng = np.random.default_rng(seed)
    sims = (rng.random((draws, totals.size)) < pi) @ totals
    hits = int(np.sum(sims >= t_obs))
    if hits:
        return (hits + 1) / (draws + 1)
    mean, var = float(totals @ pi), float((totals**2) @ (pi * (1 - pi)))
    gap = t_obs - mean
    bound = np.exp(-gap**2 / 2 / (var + totals.max() * gap / 3)) if gap > 0 else 1.0
    return float(min(bound, 1.0 / (draws + 1)))
