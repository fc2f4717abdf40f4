"""Campaign statistics: Wilson and Newcombe intervals, power, and their coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from churn_core.campaigns.assign import assign_groups
from churn_core.campaigns.report import effects
from churn_core.campaigns.stats import (
    binomial_bootstrap,
    mean_difference_interval,
    newcombe_interval,
    power_check,
    uplift_interval,
    wilson_interval,
)


def test_wilson_matches_published_values():
    # Newcombe (1998), table I: 0/10 -> 0 to 0.2775; 81/263 -> 0.2553 to 0.3662.
    low, high = wilson_interval(np.array([0, 81]), np.array([10, 263]))
    assert np.allclose(low, [0.0, 0.2553], atol=1e-4)
    assert np.allclose(high, [0.2775, 0.3662], atol=1e-4)


def test_newcombe_matches_published_example():
    # Newcombe (1998), example (a): 56/70 - 48/80, method 10 gives 0.0524 to 0.3339.
    diff, low, high = newcombe_interval(56, 70, 48, 80)
    assert diff == pytest.approx(0.2)
    assert (float(low), float(high)) == pytest.approx((0.0524, 0.3339), abs=1e-4)


def test_empty_group_gives_unknown_not_a_number():
    diff, low, high = newcombe_interval(3, 0, 5, 10)
    assert np.isnan(diff) and np.isnan(low) and np.isnan(high)


def test_uplift_is_control_minus_contact():
    up, low, high = uplift_interval(60, 200, 240, 1000)   # control 30 %, contact 24 %
    assert float(up) == pytest.approx(0.06)
    assert low < 0.06 < high


def test_power_matches_the_issue_example():
    # 10,000 customers at 30 % churn, 5 % control: an interval of about +/-4 points.
    check = power_check(9500, 500, 0.30)
    assert check.half_width == pytest.approx(0.041, abs=0.001)
    assert check.mde == pytest.approx(0.059, abs=0.001)
    assert check.too_small
    assert not power_check(9500, 500, 0.30, expected_uplift=0.08).too_small


@pytest.mark.parametrize(("n_contact", "n_control", "p_contact", "p_control"), [
    (800, 200, 0.30, 0.30), (800, 200, 0.24, 0.30), (900, 100, 0.15, 0.25),
    (1800, 200, 0.30, 0.30), (400, 100, 0.50, 0.50)])
def test_exact_coverage_is_close_to_95(n_contact, n_control, p_contact, p_control):
    """Coverage summed over every possible outcome (no simulation noise)."""
    xt, xc = np.arange(n_contact + 1), np.arange(n_control + 1)
    grid_t, grid_c = np.meshgrid(xt, xc, indexing="ij")
    prob = np.outer(binom.pmf(xt, n_contact, p_contact), binom.pmf(xc, n_control, p_control))
    _, low, high = uplift_interval(grid_c, n_control, grid_t, n_contact)
    truth = p_control - p_contact
    coverage = float((prob * ((low <= truth) & (truth <= high))).sum())
    assert 0.945 <= coverage <= 0.96
    if p_contact == p_control == 0.30:
        assert coverage >= 0.95   # no effect, churn 30 %: contains 0 in at least 95 %


def _simulate(seed: int, p_contact: float, p_control: float, *, campaigns: int = 1000,
              members: int = 1000, holdout: float = 0.2) -> pd.DataFrame:
    """``campaigns`` campaigns, each drawing its own control group by name, then churn."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"C{i:05d}" for i in range(members)])
    strata = np.repeat(np.arange(10), members // 10)
    control = np.concatenate([assign_groups(ids, strata, name=f"simulated {k}", holdout=holdout)
                              for k in range(campaigns)])
    churned = rng.uniform(size=control.size) < np.where(control, p_control, p_contact)
    frame = pd.DataFrame({"campaign": np.repeat(np.arange(campaigns), members),
                          "grp": np.where(control, "control", "contact"),
                          "churned": churned.astype(float)})
    return effects(frame, "campaign")


def test_simulated_campaigns_cover_the_true_uplift():
    """1,000 campaigns (800 contacted at 24 % churn, 200 control at 30 %): 93-97 % coverage."""
    result = _simulate(42, 0.24, 0.30)
    assert len(result) == 1000 and (result["n_control"] == 200).all()
    covered = (result["uplift_ci_low"] <= 6.0) & (result["uplift_ci_high"] >= 6.0)
    assert 0.93 <= covered.mean() <= 0.97


def test_simulated_campaigns_without_effect_contain_zero():
    """Without an effect the interval contains 0 in about 95 % of 1,000 campaigns.

    The exact rate is 95.02 % (summed over every outcome above); a run of 1,000
    campaigns lands within +/-1.4 points of it (two standard errors), so the
    simulation is held to that and the exact test to >= 95 %.
    """
    result = _simulate(43, 0.30, 0.30)
    contains = (result["uplift_ci_low"] <= 0) & (result["uplift_ci_high"] >= 0)
    assert contains.mean() >= 0.95 - 2 * np.sqrt(0.95 * 0.05 / 1000)


def test_binomial_bootstrap_keeps_group_sizes_and_rates():
    rng = np.random.default_rng(0)
    draws = binomial_bootstrap(np.array([30, 0]), np.array([100, 50]), n_boot=4000, rng=rng)
    assert draws.shape == (4000, 2)
    assert draws[:, 0].mean() == pytest.approx(30, abs=0.5)
    assert (draws[:, 1] == 0).all()


def test_mean_difference_interval():
    d, low, high = mean_difference_interval(np.array([1.0, 2, 3, 4]), np.array([0.0, 1, 2]))
    assert d == pytest.approx(1.5)
    assert low < 1.5 < high
    assert np.isnan(mean_difference_interval(np.array([]), np.array([1.0]))[0])
