"""Profit curve, limits, bootstrap band and its verdict, sensitivity, EMP, figures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import beta as beta_dist

from churn_core.money import Campaign, emp_churn, profit_band, profit_curve, sensitivity_table
from churn_core.money.charts import profit_band_figure, tornado_figure
from churn_core.problems import ChurnDataError
from churn_core.threshold import Economics, ThresholdCurve


def _scored(n: int, seed: int, skill: float = 0.3, rate: float = 0.2):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rate).astype(float)
    s = 1 / (1 + np.exp(-(skill * (y - rate) + rng.normal(0, 0.2, n)) / 0.2))  # no ties
    return y, s


def _brute_curve(y, s, v, c: Campaign):
    """Profit of contacting the first m customers, sorted by score, one at a time (no ties)."""
    order = np.argsort(-s, kind="stable")
    gains = y[order] * c.success_rate * v[order] - c.cost_per_contact
    return np.concatenate([[0.0], np.cumsum(gains)])


def test_curve_matches_brute_force_and_threshold_payoff():
    y, s = _scored(500, 1)
    v = np.random.default_rng(2).uniform(50, 400, 500).round(2)  # money: whole cents
    c = Campaign(offer_cost=15, success_rate=0.35, contact_cost=3)
    curve = profit_curve(y, s, v, c)
    brute = _brute_curve(y, s, v, c)
    assert np.allclose(curve.table["profit"], brute)
    assert curve.best.profit == pytest.approx(brute.max())
    assert curve.best.contacted == int(np.argmax(brute))
    # a constant value gives threshold.py's best profit (same payoff definition)
    econ = Economics(value_retained=200, offer_cost=15, success_rate=0.35, contact_cost=3)
    const = profit_curve(y, s, 200.0, Campaign.from_economics(econ))
    assert const.best.profit == pytest.approx(ThresholdCurve(y, s).best_profit(econ).profit)


def test_capacity_budget_and_marginal():
    y, s = _scored(2000, 3, skill=0.5)
    free = profit_curve(y, s, 200.0, Campaign())
    assert free.best_constrained == free.best and free.best.limited_by == ""
    assert free.best.marginal < 5      # beyond the optimum the next contacts do not pay
    cap = int(free.best.contacted // 2)
    capped = profit_curve(y, s, 200.0, Campaign(capacity=cap))
    assert capped.best_constrained.contacted == cap
    assert capped.best_constrained.limited_by == "capacity"
    assert capped.best_constrained.marginal > 0     # one more call would still pay
    assert capped.best.profit == pytest.approx(free.best.profit)
    assert not capped.table.loc[capped.table["contacted"] > cap, "feasible"].any()
    budget = Campaign(budget=22 * 100)              # 22 per contact: 100 contacts
    b = profit_curve(y, s, 200.0, budget)
    assert b.best_constrained.contacted == pytest.approx(100)
    assert b.best_constrained.limited_by == "budget"
    assert b.best_constrained.cost <= 2200 + 1e-9
    # population scaling: the same shares, ten times the customers and money
    pop = profit_curve(y, s, 200.0, Campaign(), population=20_000)
    assert pop.best.share == pytest.approx(free.best.share)
    assert pop.best.profit == pytest.approx(10 * free.best.profit)


def test_ties_are_averaged_and_value_at_risk_ranking():
    y = np.array([1, 0, 0, 1, 0, 0], dtype=float)
    s = np.array([0.9, 0.9, 0.5, 0.5, 0.5, 0.1])
    c = Campaign(offer_cost=0, success_rate=1.0, contact_cost=0)
    curve = profit_curve(y, s, 10.0, c)
    # first tie group {1, 0}: contacting one of the two earns 5 on average
    assert curve.table["profit"].tolist()[:3] == pytest.approx([0.0, 5.0, 10.0])
    assert curve.table["profit"].iloc[3] == pytest.approx(10 + 10 / 3)
    v = np.array([1.0, 1.0, 1.0, 500.0, 1.0, 1.0])
    by_var = profit_curve(y, s, v, c, ranking="value_at_risk")
    assert by_var.table["profit"].iloc[1] == pytest.approx(500.0)  # 0.5 x 500 ranks first
    risk = profit_curve(y, s, v, Campaign(success_rate=1.0, offer_cost=0, contact_cost=0.0))
    assert by_var.table["profit"].iloc[1] > risk.table["profit"].iloc[1]


def test_bad_inputs_are_problems():
    with pytest.raises(ChurnDataError) as e:
        profit_curve([1, 0], [0.5, np.nan])
    assert e.value.problems[0].code == "PROFIT_BAD_SCORE" and e.value.problems[0].rows == (2,)
    with pytest.raises(ChurnDataError) as e:
        profit_curve([1, 0], [0.5, 0.2], [10.0, -1.0])
    assert e.value.problems[0].code == "PROFIT_BAD_VALUE"
    with pytest.raises(ChurnDataError) as e:
        profit_curve([1, 0, 1], [0.5, 0.2])
    assert e.value.problems[0].code == "PROFIT_LENGTH_MISMATCH"
    with pytest.raises(ValueError):
        Campaign(success_rate=1.5)


def test_band_on_a_good_model_is_reliable_and_brackets_the_curve():
    y, s = _scored(3000, 5, skill=0.6)
    band = profit_band(y, s, 200.0, Campaign(), resamples=200, seed=1)
    assert band.reliable and band.verdict.startswith("Reliable")
    t = band.table
    assert (t["low"] <= t["profit"] + 1e-6).mean() > 0.95
    assert (t["high"] >= t["profit"] - 1e-6).mean() > 0.95
    assert band.at_optimum_low <= band.best_profit <= band.at_optimum_high
    assert band.best_share_low <= band.best_share <= band.best_share_high
    assert t.loc[0, "low"] == t.loc[0, "high"] == 0     # nobody contacted: no uncertainty
    # the same seed gives the same band
    again = profit_band(y, s, 200.0, Campaign(), resamples=200, seed=1)
    assert again.summary() == band.summary()


@pytest.mark.parametrize("value", [22 / (0.3 * 0.2) * 0.9, 200.0])
def test_random_scores_band_contains_zero_in_95_percent_of_seeds(value):
    """Random scores, economics where random contacting does not pay on average."""
    seeds, hits, naive = 40, 0, 0
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        y = (rng.random(1500) < 0.2).astype(float)
        s = rng.random(1500)
        band = profit_band(y, s, value, Campaign(), resamples=200, seed=seed)
        hits += band.best_profit_low <= 0 <= band.best_profit_high
        naive += band.at_optimum_low <= 0
        assert band.reliable == (band.best_profit_low > 0)
        if not band.reliable:
            assert band.verdict.startswith("No profit is reliable")
    assert hits / seeds >= 0.95
    # the band at the fixed in-sample optimum is what selection flatters: it is the weaker test
    assert naive <= hits


def test_band_respects_capacity():
    y, s = _scored(2000, 8, skill=0.6)
    band = profit_band(y, s, 200.0, Campaign(capacity=100), resamples=200, seed=2)
    assert band.best_share_high <= 100 / 2000 + 1e-12
    assert band.curve.best_constrained.limited_by == "capacity"


def test_sensitivity_table():
    y, s = _scored(2000, 9, skill=0.5)
    table = sensitivity_table(y, s, 200.0, Campaign(), swing=0.2)
    assert set(table["input"]) == {"value", "success_rate", "offer_cost", "contact_cost"}
    assert table["swing"].is_monotonic_decreasing
    row = table.set_index("input")
    base = profit_curve(y, s, 200.0, Campaign()).best.profit
    assert row["best_base"].to_numpy() == pytest.approx(base)
    # value and acceptance enter the profit as a product: same +/-20 % swing
    assert row.loc["value", "best_high"] == pytest.approx(row.loc["success_rate", "best_high"])
    assert row.loc["value", "best_high"] > base > row.loc["value", "best_low"]
    assert row.loc["offer_cost", "best_high"] < base < row.loc["offer_cost", "best_low"]
    # re-planning never does worse than keeping today's plan
    for side in ("low", "high"):
        assert (table[f"best_{side}"] >= table[f"plan_{side}"] - 1e-9).all()
    hi = profit_curve(y, s, 200.0, Campaign(offer_cost=24.0)).best.profit
    assert row.loc["offer_cost", "best_high"] == pytest.approx(hi)
    with pytest.raises(ValueError):
        sensitivity_table(y, s, ranges={"margin": (0, 1)})


def _emp_brute(y, s, clv, d, f, a, b):
    """Integrate the max over every threshold (no convex hull) numerically with quad.

    Where the best threshold changes is found by scanning a grid of acceptance rates;
    quad then integrates each smooth piece.
    """
    order = np.argsort(-s, kind="stable")
    ys, ss = y[order], s[order]
    ends = np.append(np.flatnonzero(ss[1:] != ss[:-1]), ss.size - 1)
    tp = np.concatenate([[0.0], np.cumsum(ys)[ends]]) / y.size
    fp = np.concatenate([[0.0], np.cumsum(1 - ys)[ends]]) / y.size
    slope, intercept = tp * (clv - d), -tp * f - fp * (d + f)

    def best(g):
        return np.max(intercept + slope * g)

    grid = np.linspace(0, 1, 20001)
    winner = np.argmax(intercept[None, :] + slope[None, :] * grid[:, None], axis=1)
    change = np.flatnonzero(winner[1:] != winner[:-1])
    j, k = winner[change], winner[change + 1]
    kinks = (intercept[j] - intercept[k]) / (slope[k] - slope[j])
    edges = np.concatenate([[0.0], np.sort(kinks), [1.0]])
    return sum(quad(lambda g: best(g) * beta_dist.pdf(g, a, b), lo, hi, epsabs=1e-12,
                    epsrel=1e-12)[0] for lo, hi in zip(edges[:-1], edges[1:], strict=True))


@pytest.mark.parametrize("seed, params", [(0, (200, 10, 1, 6, 14)), (1, (150, 12, 2, 5, 10)),
                                          (2, (300, 40, 5, 2, 3))])
def test_emp_equals_brute_force_integration(seed, params):
    y, s = _scored(800, seed, skill=0.4)
    if seed == 1:
        s = np.round(s, 1)            # many ties
    clv, d, f, a, b = params
    got = emp_churn(y, s, clv=clv, incentive_cost=d, contact_cost=f, alpha=a, beta=b)
    assert got.emp == pytest.approx(_emp_brute(y, s, clv, d, f, a, b), abs=1e-6)
    assert 0 <= got.share <= 1


def test_emp_ranks_models_and_checks_input():
    y, good = _scored(2000, 4, skill=0.6)
    _, weak = _scored(2000, 4, skill=0.05)
    assert emp_churn(y, good).emp > emp_churn(y, weak).emp
    with pytest.raises(ChurnDataError) as e:
        emp_churn(np.zeros(5), np.arange(5.0))
    assert e.value.problems[0].code == "PROFIT_ONE_CLASS"


def test_emp_equals_empulse():
    empulse = pytest.importorskip("empulse.metrics", reason="empulse is a test-only dependency")
    for seed, kw in ((0, {}), (1, {"clv": 150.0, "incentive_cost": 12.0, "contact_cost": 2.0,
                                   "alpha": 5.0, "beta": 10.0})):
        y, s = _scored(3000, seed, skill=0.3)
        if seed:
            s = np.round(s, 2)
        ours = emp_churn(y, s, **kw)
        assert ours.emp == pytest.approx(empulse.empc_score(y.astype(int), s, **kw), abs=1e-6)
        assert ours.share == pytest.approx(
            empulse.empc_score.optimal_rate(y.astype(int), s, **kw), abs=1e-6)


def test_figures_have_titles_and_units():
    y, s = _scored(1500, 6, skill=0.5)
    campaign = Campaign(capacity=100)
    band = profit_band(y, s, 200.0, campaign, resamples=200, seed=0)
    fig = profit_band_figure(band, currency="EUR")
    assert fig.layout.yaxis.title.text == "expected profit (EUR)"
    assert "%" in fig.layout.xaxis.title.text
    assert fig.layout.title.text in ("Profit is reliable", "No profit is reliable")
    names = [t.name for t in fig.data]
    assert "90% bootstrap band" in names and "best without limits" in names
    by_count = profit_band_figure(band, by_share=False)
    assert by_count.layout.xaxis.title.text.startswith("customers contacted")
    tornado = tornado_figure(sensitivity_table(y, s, 200.0, campaign), currency="EUR")
    assert tornado.layout.xaxis.title.text == "best expected profit (EUR)"
    assert len(tornado.data) == 2 and len(tornado.data[0].y) == 4


def test_band_scales_to_the_population():
    y, s = _scored(1000, 11, skill=0.5)
    base = profit_band(y, s, 200.0, Campaign(), resamples=200, seed=3)
    pop = profit_band(y, s, 200.0, Campaign(), population=10_000, resamples=200, seed=3)
    for key in ("best_profit", "best_profit_low", "best_profit_high", "at_optimum_low"):
        assert getattr(pop, key) == pytest.approx(10 * getattr(base, key))
    assert pop.best_share_low == pytest.approx(base.best_share_low)
    assert np.allclose(pop.table["high"], 10 * base.table["high"])


def test_money_totals_are_exact_in_cents():
    """Totals of amounts are summed in cents: ten customers worth 0.10 are worth 1.00
    exactly, and a budget of 0.30 pays for 3 contacts at 0.10 (floating point: 2)."""
    from churn_core.money.campaign import contacts_paid, money_cumsum, to_cents

    assert money_cumsum([0.1] * 10)[-1] == 1.0
    assert np.cumsum([0.1] * 10)[-1] != 1.0                      # what floats give
    assert money_cumsum([0.1, 0.2])[-1] == 0.3
    assert contacts_paid(0.30, 0.10) == 3.0 and 0.30 // 0.10 == 2.0
    assert to_cents(19.999) == 2000 and to_cents([1.25, 3.0]).tolist() == [125, 300]
    econ = Economics(value_retained=1.0, offer_cost=0.05, contact_cost=0.05, budget=0.30)
    assert econ.contact_limit == 3
    assert Campaign(offer_cost=0.05, contact_cost=0.05, budget=0.30).contact_limit() == 3.0
    y = np.ones(10)
    curve = profit_curve(y, np.linspace(1, 0, 10), np.full(10, 0.1),
                         Campaign(offer_cost=0.0, success_rate=1.0, contact_cost=0.0))
    assert curve.table["profit"].iloc[-1] == 1.0


def _rows_profit_loop(m, cw, cbp, churn_at, c, scale):
    out = np.empty(m.shape)
    for i in range(cw.shape[0]):
        k = np.clip(np.searchsorted(cw[i], m[i], side="left"), 1, cw.shape[1] - 1)
        x0, x1 = cw[i, k - 1], cw[i, k]
        y0, y1 = cbp[i, churn_at[k - 1]], cbp[i, churn_at[k]]
        frac = np.divide(m[i] - x0, x1 - x0, out=np.ones_like(m[i]), where=x1 > x0)
        out[i] = scale * (c.success_rate * (y0 + np.clip(frac, 0, 1) * (y1 - y0))
                          - c.cost_per_contact * m[i])
    return out


def test_vectorised_band_rows_equal_a_loop_over_rows():
    """The band reads every resample's curve with one searchsorted: same as row by row,
    with ties (tie groups) and points beyond a row's size."""
    from churn_core.money.bootstrap import _cumulative, _draw_counts, _Layout, _rows_profit
    from churn_core.money.campaign import rank_customers

    rng = np.random.default_rng(3)
    y = (rng.random(3000) < 0.25).astype(float)
    s = np.round(rng.random(3000), 2)                             # many ties
    ranked = rank_customers(y, s, rng.uniform(10, 90, 3000))
    layout = _Layout.of(ranked)
    c = Campaign()
    for w in (_draw_counts(rng, ranked, 7), (_draw_counts(rng, ranked, 5) == 0)):
        cw, cbp = _cumulative(ranked, layout, w)
        assert (w.sum(axis=1) == cw[:, -1]).all()
        m = rng.uniform(0, 3100, size=(cw.shape[0], 40))
        m[:, 0] = 0.0
        assert np.allclose(_rows_profit(m, cw, cbp, layout, c, 2.0),
                           _rows_profit_loop(m, cw, cbp, layout.churn_at, c, 2.0))
