"""BG/NBD and Gamma-Gamma: the published CDNOW fits, the likelihoods' gradients, predictions.

Fixture ``tests/data/cdnow_sample.csv.gz``: the CDNOW 1/10th sample (2,357 customers,
6,919 purchase lines, 1997-01-01 to 1998-06-30) from ``lifetimes/datasets/CDNOW_sample.txt``
in the ``Lifetimes-0.11.3-py3-none-any.whl`` wheel (``pip download --no-deps
lifetimes==0.11.3``), reduced to ``customer_id`` (the sample's own 1..2357 id), ``date``
(YYYYMMDD rewritten as ISO) and ``amount`` (dollar value), gzipped. lifetimes itself is
not installed. The summary derived from it matches the wheel's
``cdnow_customers_summary_with_transactions.csv`` (x, t_x, T, zbar) to its 2 decimals.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime

from churn_core.problems import ChurnDataError
from churn_core.value import (
    BgNbdParams,
    bgnbd,
    customer_value_table,
    expected_average_spend,
    expected_purchases,
    expected_purchases_new,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_value_models,
    gamma_gamma,
    probability_alive,
    rfm_summary,
    value_at_risk,
    value_at_risk_covered,
    value_column,
)
from churn_core.value.bgnbd import simulate_bgnbd
from churn_core.value.clv import alive_disagreement

CDNOW = Path(__file__).resolve().parents[1] / "data" / "cdnow_sample.csv.gz"


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    orders = pd.read_csv(CDNOW)
    return rfm_summary(orders, customer="customer_id", timestamp="date", amount="amount",
                       calibration_end="1997-09-30", time_unit="week",
                       holdout_end="1998-06-30")


def test_cdnow_summary_matches_published(cdnow):
    assert len(cdnow) == 2357
    first = cdnow.loc[1]               # bought 1997-01-01, -01-18 and -08-02 in calibration
    assert first["frequency"] == 2
    assert first["recency"] == pytest.approx(213 / 7)
    assert first["T"] == pytest.approx(272 / 7)        # 38.86 weeks
    assert first["monetary_value"] == pytest.approx((29.73 + 14.96) / 2)
    assert int((cdnow["frequency"] > 0).sum()) == 946  # repeat buyers in Fader-Hardie's note
    assert cdnow["frequency"].sum() == 2457


def test_cdnow_bgnbd_reproduces_published_fit(cdnow):
    p = fit_bgnbd(cdnow, time_unit="week")
    assert (round(p.r, 3), round(p.alpha, 3), round(p.a, 3), round(p.b, 3)) == \
        (0.243, 4.414, 0.793, 2.426)
    assert p.log_likelihood == pytest.approx(-9582.4, abs=0.1)   # the paper's LL
    assert p.customers == 2357


def test_cdnow_gamma_gamma_reproduces_published_fit(cdnow):
    p = fit_gamma_gamma(cdnow)
    assert (round(p.p, 2), round(p.q, 2), round(p.gamma, 2)) == (6.25, 3.74, 15.44)
    assert p.customers == 946
    # the note's mean spend of a customer with no history: p * gamma / (q - 1)
    assert p.population_mean == pytest.approx(6.25 * 15.44 / 2.74, rel=1e-2)


def test_cdnow_from_daily_days_in_days_unit_gives_same_model(cdnow):
    orders = pd.read_csv(CDNOW)
    days = rfm_summary(orders, customer="customer_id", timestamp="date",
                       calibration_end="1997-09-30", time_unit="day")
    p = fit_bgnbd(days, time_unit="day")
    # same model, time rescaled: alpha in days = 7 x alpha in weeks, the rest unchanged
    assert p.alpha == pytest.approx(4.4136 * 7, rel=1e-3)
    assert (round(p.r, 3), round(p.a, 3), round(p.b, 3)) == (0.243, 0.793, 2.426)
    assert (days["monetary_value"] == 0).all()     # no amount column: no spend


@pytest.mark.parametrize("point", [(0.3, 5.0, 0.8, 2.5), (2.0, 0.5, 3.0, 0.4)])
def test_bgnbd_gradient_matches_finite_differences(cdnow, point):
    x, tx, T = (cdnow[c].to_numpy(float) for c in ("frequency", "recency", "T"))
    lp = np.log(point)
    value, grad = bgnbd.negative_log_likelihood(lp, x, tx, T)
    numeric = approx_fprime(lp, lambda v: bgnbd.negative_log_likelihood(v, x, tx, T)[0], 1e-6)
    assert np.allclose(grad, numeric, rtol=1e-4, atol=1e-3)
    assert np.isfinite(value)


def test_gamma_gamma_gradient_matches_finite_differences(cdnow):
    rep = cdnow[cdnow["frequency"] > 0]
    x, m = rep["frequency"].to_numpy(float), rep["monetary_value"].to_numpy(float)
    lp = np.log([3.0, 2.0, 20.0])
    _, grad = gamma_gamma.negative_log_likelihood(lp, x, m)
    numeric = approx_fprime(lp, lambda v: gamma_gamma.negative_log_likelihood(v, x, m)[0], 1e-6)
    assert np.allclose(grad, numeric, rtol=1e-4, atol=1e-3)


def test_conditional_forecast_agrees_with_unconditional(cdnow):
    """Summed over customers, E[Y(t) | history] and E[X(T + t)] - E[X(T)] agree (same model)."""
    p = BgNbdParams(0.243, 4.414, 0.793, 2.426, 0.0, 0)
    T = cdnow["T"].to_numpy()
    conditional = expected_purchases(p, cdnow, 39).sum()
    unconditional = (expected_purchases_new(p, T + 39) - expected_purchases_new(p, T)).sum()
    assert conditional == pytest.approx(unconditional, rel=0.02)
    # and the repeat purchases in the calibration period (2,457) are what the model expects
    assert expected_purchases_new(p, T).sum() == pytest.approx(2457, rel=0.03)


def test_probability_alive_rules(cdnow):
    p = BgNbdParams(0.243, 4.414, 0.793, 2.426, 0.0, 0)
    alive = probability_alive(p, cdnow)
    assert ((alive > 0) & (alive <= 1)).all()
    assert (alive[cdnow["frequency"].to_numpy() == 0] == 1).all()
    # two customers with 3 repeats at the same age: the more recent one is more likely alive
    two = pd.DataFrame({"frequency": [3, 3], "recency": [30.0, 5.0], "T": [38.0, 38.0]})
    a = probability_alive(p, two)
    assert a[0] > a[1]


def test_fit_recovers_simulated_parameters():
    truth = BgNbdParams(0.8, 6.0, 1.5, 3.0, 0.0, 0)
    T = np.random.default_rng(1).uniform(20, 60, 20_000)
    sim = simulate_bgnbd(truth, T, seed=2)
    fit = fit_bgnbd(sim)
    assert fit.r == pytest.approx(truth.r, rel=0.1)
    assert fit.alpha == pytest.approx(truth.alpha, rel=0.15)
    assert fit.a == pytest.approx(truth.a, rel=0.3)
    assert fit.b == pytest.approx(truth.b, rel=0.3)
    # forecast of the next 20 weeks against the simulated continuation is unbiased in total
    later = simulate_bgnbd(truth, T + 20, seed=2)
    extra = later["frequency"].to_numpy() - sim["frequency"].to_numpy()
    assert expected_purchases(fit, sim, 20).sum() == pytest.approx(extra.sum(), rel=0.05)


def test_value_table_and_value_at_risk(cdnow):
    models = fit_value_models(cdnow, time_unit="week")
    assert models.gamma_gamma is not None
    table = customer_value_table(models, cdnow, horizon=13)
    spend = expected_average_spend(models.gamma_gamma, cdnow)
    assert np.allclose(table["expected_value"], table["expected_purchases"] * spend)
    discounted = customer_value_table(models, cdnow, horizon=13, discount_rate=0.01)
    assert (discounted["expected_value"] <= table["expected_value"] + 1e-9).all()
    assert (discounted["expected_value"] > 0.8 * table["expected_value"]).all()
    margin = customer_value_table(models, cdnow, horizon=13, margin=0.3)
    assert np.allclose(margin["expected_value"], 0.3 * table["expected_value"])
    var = value_at_risk([0.5, 0.1, np.nan], [100.0, 50.0, 10.0])
    assert var[:2].tolist() == [50.0, 5.0] and np.isnan(var[2])
    assert value_at_risk([0.2, 0.4], 10.0).tolist() == [2.0, 4.0]
    flags = alive_disagreement([0.95, 0.1, 0.5], [0.9, 0.85, 0.5])
    assert flags.tolist() == [True, False, False]
    d = models.to_dict()
    assert set(d["bgnbd"]) >= {"r", "alpha", "a", "b"} and set(d["gamma_gamma"]) >= {"p", "q",
                                                                                        "gamma"}


def test_without_spend_value_is_unknown_but_purchases_are_not(cdnow):
    no_spend = cdnow.assign(monetary_value=0.0)
    models = fit_value_models(no_spend)
    assert models.gamma_gamma is None and models.gamma_gamma_note
    table = customer_value_table(models, no_spend, horizon=13)
    assert table["expected_value"].isna().all()
    assert table["expected_purchases"].notna().all()


def test_user_mistakes_are_problems():
    orders = pd.DataFrame({"cid": ["a", "a", "b"], "when": ["2024-01-01", "x", "2024-02-01"],
                           "spend": ["10", "12", "abc"]})
    with pytest.raises(ChurnDataError) as e:
        rfm_summary(orders, customer="cid", timestamp="date", calibration_end="2024-03-01")
    assert e.value.problems[0].code == "VALUE_MISSING_COLUMN"
    with pytest.raises(ChurnDataError) as e:
        rfm_summary(orders, customer="cid", timestamp="when", amount="spend",
                    calibration_end="2024-03-01")
    assert e.value.problems[0].code == "VALUE_BAD_AMOUNT"
    assert e.value.problems[0].rows == (3,)
    with pytest.raises(ChurnDataError) as e:
        rfm_summary(orders, customer="cid", timestamp="when", calibration_end="2023-01-01")
    assert e.value.problems[0].code == "VALUE_NO_CALIBRATION_DATA"
    with pytest.raises(ChurnDataError) as e:
        rfm_summary(orders, customer="cid", timestamp="when", calibration_end="2024-03-01",
                    time_unit="month")
    assert e.value.problems[0].code == "VALUE_BAD_TIME_UNIT"
    bad = pd.DataFrame({"frequency": [1.0, -1.0], "recency": [2.0, 1.0], "T": [1.0, 3.0]})
    with pytest.raises(ChurnDataError) as e:
        fit_bgnbd(bad)
    assert {p.code for p in e.value.problems} == {"VALUE_BAD_SUMMARY"}
    assert e.value.problems[0].rows == (2,)
    with pytest.raises(ChurnDataError) as e:
        fit_gamma_gamma(pd.DataFrame({"frequency": [0.0, 1.0], "monetary_value": [0.0, 5.0]}))
    assert e.value.problems[0].code == "VALUE_NO_REPEAT_BUYERS"


def test_same_day_orders_are_one_purchase_and_unreadable_dates_are_left_out():
    orders = pd.DataFrame({"cid": ["a", "a", "a", "a", "b"],
                           "when": ["2024-01-01 09:00", "2024-01-01 17:00", "2024-01-08",
                                    "not a date", "2024-01-05"],
                           "spend": [10.0, 5.0, 30.0, 99.0, 7.0]})
    s = rfm_summary(orders, customer="cid", timestamp="when", amount="spend",
                    calibration_end="2024-01-15", time_unit="day")
    assert s.loc["a"].tolist() == [1.0, 7.0, 14.0, 30.0]
    assert s.loc["b"].tolist() == [0.0, 0.0, 10.0, 0.0]


def test_value_column_from_a_customer_table():
    table = pd.DataFrame({"spend": [120.0, None, 30.5], "bad": ["1", "x", "-3"]})
    assert value_column(table, "spend", missing=0.0).tolist() == [120.0, 0.0, 30.5]
    with pytest.raises(ChurnDataError) as e:
        value_column(table, "spend")
    assert e.value.problems[0].code == "VALUE_BAD_COLUMN" and e.value.problems[0].rows == (2,)
    with pytest.raises(ChurnDataError) as e:
        value_column(table, "bad")
    assert [p.rows for p in e.value.problems] == [(2,), (3,)]
    with pytest.raises(ChurnDataError) as e:
        value_column(table, "margin")
    assert e.value.problems[0].code == "VALUE_MISSING_COLUMN"


def test_share_of_value_at_risk_covered_by_the_top():
    var = [10.0, 50.0, np.nan, 40.0]
    assert value_at_risk_covered(var, 1) == pytest.approx(0.5)
    assert value_at_risk_covered(var, 2) == pytest.approx(0.9)
    assert value_at_risk_covered(var, 10) == pytest.approx(1.0)
    assert value_at_risk_covered([0.0, 0.0], 1) == 0.0
