"""Benchmark: the profit band at 100k customers and the value models at 1M, against the obvious way.

Run on its own::

    .venv/bin/python -m bench.bench_value --band-sizes 1e5 --value-sizes 1e6

Each contender runs in a fresh child process (time and peak RSS of its own).

Profit band (goal: 100,000 customers in under 2 s on 2 cores), 200 stratified
resamples, 90 % band:

- ``ours``: :func:`churn_core.money.profit_band` (draw counts per resample,
  one cumulative sum per resample in chunks, out-of-bag check of the optimum);
- ``loop``: the obvious way: per resample, draw indices per class, sort the
  resample by score, cumulative sum, read the curve at the grid and its
  maximum (no out-of-bag check, so it does less work).

Value models (goal: 1M customers' fit and scoring in under 60 s): customers
simulated from BG/NBD in days (integer days, like a daily log) with a
Gamma-Gamma spend (setup, not timed), then

- ``ours``: :func:`churn_core.value.fit_value_models` (distinct customers
  compressed, analytic gradients) and :func:`customer_value_table`;
- ``plain``: scipy ``minimize`` on the per-customer log-likelihood with
  numerical gradients, no compression (at most ``--plain-max`` customers,
  since it is slow; its time is reported at that size).

Results go to ``bench/results/value.json`` and ``value.csv``.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import numpy as np

from bench.common import (
    Recorder,
    emit,
    fmt_seconds,
    machine,
    parse_sizes,
    print_table,
    run_child,
    write_results,
)

BAND_GOAL_S = 2.0
VALUE_GOAL_S = 60.0


def _scores(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(float)
    s = 1 / (1 + np.exp(-(0.3 * (y - 0.2) + rng.normal(0, 0.2, n)) / 0.2))
    return y, s, rng.uniform(50, 400, n)


def _band_loop(y: np.ndarray, s: np.ndarray, v: np.ndarray, resamples: int, grid: np.ndarray,
               seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The obvious bootstrap: resample, sort, cumulative sum, once per resample."""
    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y > 0), np.flatnonzero(y == 0)
    gain = y * 0.3 * v - 22.0
    curves, best = np.empty((resamples, grid.size)), np.empty(resamples)
    for b in range(resamples):
        idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
        order = idx[np.argsort(-s[idx], kind="stable")]
        cum = np.concatenate([[0.0], np.cumsum(gain[order])])
        curves[b] = np.interp(grid, np.arange(cum.size), cum)
        best[b] = cum.max()
    return np.percentile(curves, [5, 95], axis=0), np.percentile(best, [5, 95])


def _simulate_values(n: int, seed: int = 0):
    import pandas as pd

    from churn_core.value.bgnbd import BgNbdParams, simulate_bgnbd

    rng = np.random.default_rng(seed)
    T = rng.integers(1, 731, n).astype(float)
    sim = simulate_bgnbd(BgNbdParams(0.25, 30.0, 0.8, 2.5, 0.0, 0, "day"), T, seed=seed)
    sim["recency"] = np.floor(sim["recency"])
    x = sim["frequency"].to_numpy()
    nu = rng.gamma(3.7, 1 / 15.0, n)
    spend = rng.gamma(np.maximum(6.0 * x, 1e-9), 1 / np.maximum(nu * x, 1e-9))
    sim["monetary_value"] = np.where(x > 0, spend, 0.0)
    return pd.DataFrame(sim)


def _plain_fit(summary) -> Any:
    """BG/NBD the obvious way: per-customer terms, numerical gradient, no compression."""
    from scipy.optimize import minimize
    from scipy.special import betaln, gammaln

    x, tx, T = (summary[c].to_numpy(float) for c in ("frequency", "recency", "T"))

    def nll(lp: np.ndarray) -> float:
        r, alpha, a, b = np.exp(lp)
        a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
        a3 = np.where(x > 0, betaln(a + 1, b + np.maximum(x, 1) - 1) - betaln(a, b)
                      - (r + x) * np.log(alpha + tx), -np.inf)
        return -float(np.sum(a1 + np.logaddexp(a2, a3)))

    return minimize(nll, np.zeros(4), method="L-BFGS-B")


def child(kind: str, contender: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    from churn_core.money import Campaign, profit_band
    from churn_core.value import customer_value_table, fit_value_models

    out: dict[str, Any] = {"kind": kind, "contender": contender, "rows": n}
    if kind == "band":
        out["resamples"] = args.resamples
    with Recorder() as rec:
        if kind == "band":
            with rec.step("setup", counted=False):
                y, s, v = _scores(n)
            with rec.step("band"):
                if contender == "ours":
                    band = profit_band(y, s, v, Campaign(), resamples=args.resamples, seed=1)
                    out["best_profit_band"] = [band.best_profit_low, band.best_profit_high]
                else:
                    grid = np.unique(np.linspace(0, n, 400).round())
                    _, best = _band_loop(y, s, v, args.resamples, grid, seed=1)
                    out["best_profit_band"] = best.tolist()
        else:
            with rec.step("setup (simulate)", counted=False):
                summary = _simulate_values(n)
            if contender == "ours":
                with rec.step("fit"):
                    models = fit_value_models(summary, time_unit="day")
                with rec.step("score"):
                    table = customer_value_table(models, summary, horizon=90)
                out["params"] = models.to_dict()["bgnbd"]
                out["scored"] = len(table)
            else:
                with rec.step("fit"):
                    res = _plain_fit(summary)
                out["params"] = dict(zip(["r", "alpha", "a", "b"], np.exp(res.x).tolist(),
                                         strict=True))
                out["evaluations"] = int(res.nfev)
    summary_ = rec.summary()
    out |= {"seconds": summary_["total_seconds"], "cpu_seconds": summary_["total_cpu_seconds"],
            "peak_rss_gb": max(summary_["peak_rss_gb"], summary_["vmhwm_gb"]),
            "steps": summary_["steps"]}
    return out


def _goal_line(what: str, ours: dict[str, Any], goal_s: float, goal_rows: int) -> str:
    """One goal's verdict: time, CPU and peak, met or missed (judged only at its own size)."""
    met = ("meets" if ours["seconds"] <= goal_s else "MISSES") \
        if ours["rows"] >= goal_rows else "smaller than the size of"
    return (f"  {what}: {fmt_seconds(ours['seconds'])} (CPU {fmt_seconds(ours['cpu_seconds'])}), "
            f"peak {ours['peak_rss_gb']:.2f} GB: {met} the {goal_s:.0f} s goal")


def comparison(results: list[dict[str, Any]], info: dict[str, Any]) -> str:
    """The plain verdict: each goal met or missed, ours beside the obvious way."""
    by = {(r["kind"], r["contender"]): r for r in results if "error" not in r}
    lines = [f"\nverdict (load average {info['load_average'][0]:.1f} on {info['cpus']} CPUs; "
             "time = wall clock of the timed steps, CPU beside it):"]
    ours, loop = by.get(("band", "ours")), by.get(("band", "loop"))
    if ours:
        lines.append(_goal_line(
            f"profit band, {ours['rows']:,} customers, {ours.get('resamples', 200)} resamples",
            ours, BAND_GOAL_S, 100_000))
        if loop:
            lines.append(
                f"    obvious loop (resample, sort, cumsum; no out-of-bag check): "
                f"{fmt_seconds(loop['seconds'])} (CPU {fmt_seconds(loop['cpu_seconds'])}), "
                f"peak {loop['peak_rss_gb']:.2f} GB: ours is "
                f"{loop['seconds'] / max(ours['seconds'], 1e-9):.1f}x faster")
    ours, plain = by.get(("value", "ours")), by.get(("value", "plain"))
    if ours:
        lines.append(_goal_line(
            f"value models, {ours['rows']:,} customers (BG/NBD + Gamma-Gamma fit, then scoring)",
            ours, VALUE_GOAL_S, 1_000_000))
        if plain:
            per_ours = ours["seconds"] / ours["rows"]
            per_plain = plain["seconds"] / plain["rows"]
            lines.append(
                f"    plain scipy fit (per-customer likelihood, numerical gradient) on "
                f"{plain['rows']:,}: {fmt_seconds(plain['seconds'])}, peak "
                f"{plain['peak_rss_gb']:.2f} GB, BG/NBD fit only: per customer ours is "
                f"{per_plain / max(per_ours, 1e-12):.1f}x faster while also scoring")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--band-sizes", default="1e5", help="customers for the profit band")
    parser.add_argument("--value-sizes", default="1e6", help="customers for the value models")
    parser.add_argument("--resamples", type=int, default=200)
    parser.add_argument("--plain-max", type=int, default=200_000,
                        help="most customers for the plain (slow) value fit")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--out", default="value", help="results name in bench/results/")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        logging.basicConfig(level=logging.WARNING)
        kind, contender, n = args.child
        emit(child(kind, contender, int(n), args))
        return
    info = machine()
    print(f"machine: {info['cpus']} CPUs, {info['cpu']}; load average "
          f"{info['load_average'][0]:.1f}")
    runs = [("band", c, n) for n in parse_sizes(args.band_sizes) for c in ("ours", "loop")]
    runs += [("value", "ours", n) for n in parse_sizes(args.value_sizes)]
    runs += [("value", "plain", min(n, args.plain_max)) for n in parse_sizes(args.value_sizes)]
    results = []
    for kind, contender, n in runs:
        res = run_child([__file__, "--child", kind, contender, n, "--resamples",
                         args.resamples], timeout=args.timeout)
        res.setdefault("kind", kind)
        res.setdefault("contender", contender)
        res.setdefault("rows", n)
        results.append(res)
    print_table(results, [("kind", "what", "s"), ("contender", "contender", "s"),
                          ("rows", "customers", ",d"), ("seconds", "time", "time"),
                          ("cpu_seconds", "CPU", "time"), ("peak_rss_gb", "peak RSS GB", ".2f")])
    for r in results:
        if "error" in r:
            print(f"  {r['kind']} {r['contender']} FAILED: {r['error']}")
    print(comparison(results, info))
    flat = [{k: v for k, v in r.items() if k not in ("steps", "params", "best_profit_band")}
            for r in results]
    payload = {"benchmark": "value", "machine": info,
               "goals": {"band_seconds_at_100k": BAND_GOAL_S,
                         "value_seconds_at_1m": VALUE_GOAL_S},
               "options": {k: v for k, v in vars(args).items() if k != "child"},
               "results": results}
    path = write_results(args.out, payload, flat)
    print(f"\nresults written to {path.relative_to(path.parents[2])} (+ .csv)")


if __name__ == "__main__":
    main()
