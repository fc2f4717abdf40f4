"""Drift and label-free estimates: false alarms, power, CBPE gap and timing.

Run::

    .venv/bin/python -m bench.bench_monitor [--runs 1000] [--large-runs 50]

Writes ``bench/results/monitor.json``. Each false-alarm run profiles one sample
and compares an independent sample of the same distribution (four kinds of
column plus the score); any flag is a false alarm.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.common import machine, write_results
from churn_core.monitor.drift import compare
from churn_core.monitor.estimate import estimate_performance, realised_performance
from churn_core.monitor.profile import reference_profile
from tests.unit.test_monitor_drift import sample


def false_alarms(n: int, runs: int) -> dict:
    rng = np.random.default_rng(100 + n)
    alarms, start = 0, time.perf_counter()
    for _ in range(runs):
        ref = reference_profile(sample(rng, n), scores=rng.beta(2, 5, n))
        rep = compare(ref, sample(rng, n), scores=rng.beta(2, 5, n))
        alarms += bool(rep.drifted_features or rep.score_drifted)
    return {"rows": n, "runs": runs, "alarms": alarms, "rate": alarms / runs,
            "seconds_per_run": (time.perf_counter() - start) / runs}


def power(trials: int) -> dict:
    rng = np.random.default_rng(11)
    hits = sum(compare(reference_profile(sample(rng, 10_000)),
                       sample(rng, 10_000, shift=0.2)).drifted_features == ["x"]
               for _ in range(trials))
    return {"rows": 10_000, "shift_sd": 0.2, "trials": trials, "detected": hits / trials}


def cbpe_gap(trials: int) -> dict:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(5)
    beta, b0 = np.array([1.2, -0.8, 0.5]), -1.5

    def draw(n, mean, sd):
        X = rng.normal(mean, sd, (n, 3))
        return X, (rng.random(n) < 1 / (1 + np.exp(-(X @ beta + b0)))).astype(float)

    X, y = draw(20_000, 0.0, 1.0)
    model = LogisticRegression().fit(X, y)
    gaps = []
    for _ in range(trials):
        Xs, ys = draw(5_000, rng.normal(0, 0.7, 3), rng.uniform(0.6, 1.5, 3))
        p = model.predict_proba(Xs)[:, 1]
        gaps.append(abs(estimate_performance(p, 0.5).roc_auc
                        - realised_performance(ys, p, 0.5).roc_auc))
    return {"trials": trials, "median_gap": float(np.median(gaps)), "max_gap": float(max(gaps))}


def timing(n: int) -> dict:
    rng = np.random.default_rng(0)
    ref = reference_profile(sample(rng, n), scores=rng.random(n))
    cur, scores = sample(rng, n), rng.random(n)
    start = time.perf_counter()
    estimate_performance(scores, 0.5)
    est = time.perf_counter() - start
    start = time.perf_counter()
    compare(ref, cur, scores=scores)
    return {"rows": n, "compare_s": time.perf_counter() - start, "estimate_s": est}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--large-runs", type=int, default=50)
    args = parser.parse_args()
    results = {"machine": machine(),
               "false_alarms": [false_alarms(100, args.runs), false_alarms(1_000, args.runs),
                                false_alarms(100_000, args.large_runs)],
               "power": power(50), "cbpe": cbpe_gap(50),
               "timing": [timing(100_000), timing(1_000_000)]}
    for key, value in results.items():
        print(key, value, flush=True)
    write_results("monitor", results, results["false_alarms"])


if __name__ == "__main__":
    main()
