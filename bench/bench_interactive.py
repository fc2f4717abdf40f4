"""Benchmark: the dashboard's interactive paths, server-side, at 100k and 1M customers.

Run on its own::

    .venv/bin/python -m bench.bench_interactive --sizes 1e5,1e6

Each size runs in a fresh child process. Setup (not an interaction, timed
separately): simulate the table, ``check_frame`` and ``fit_all`` with a quick
configuration (one setting, no CV, at most ``--trees`` trees), since what a
slider costs does not depend on model quality. Then, as the Alerts page does
on every rerun (``pages/alerts.py``, ``ui/actions.py``), it times:

- ``ThresholdCurve`` construction (the validation part and every row) and
  ``.at(t)``: median of ``--moves`` random slider positions;
- one whole slider move: test-curve point, flagged / medium counts by binary
  search on the sorted scores, expected profit from the profit table, tier
  counts, the at-risk page (slice of the list built once per model), and the
  two charts of the page built and serialised to JSON;
- the profit table and ``best_profit`` with a capacity, per change of the money inputs;
- risk tier counts, the page's binary search vs ``risk_tiers`` + value counts;
- the at-risk table: the list built once per model (``export_table(analysis, 0.0)``,
  first visit of the page) and the first page (top 50 by score);
- the size and build time of every chart's JSON payload (``churn_core.charts``).

Results go to ``bench/results/interactive.json`` and ``interactive.csv``.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import time
from collections.abc import Callable
from typing import Any

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

SLIDER_GOAL_S = 0.1
PLOT_POINTS = 2000  # pages/alerts.py thins the profit curve to this many points
PAGE_ROWS = 1000    # rows sent to the browser
SHOWN_ROWS = PAGE_ROWS  # ui.actions.SHOWN_ROWS: the at-risk rows listed once per model


def _median_time(fn: Callable[[Any], Any], inputs: list[Any]) -> tuple[float, float]:
    """Median and 95th percentile seconds of ``fn(x)`` over ``inputs``."""
    times = []
    for x in inputs:
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(0.95 * len(times)))]


def run(n: int, args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import pandas as pd

    from churn_core import charts, charts_explain, charts_segments, pipeline
    from churn_core.explain_points import point_importance, to_points
    from churn_core.model import TrainConfig
    from churn_core.pipeline import check_frame, export_table, fit_all
    from churn_core.segments import projection
    from churn_core.simulate import simulate_large
    from churn_core.threshold import Economics, ThresholdCurve, risk_tiers

    rows: list[dict[str, Any]] = []

    def record(name: str, median: float, p95: float | None = None, *, count: int = 1,
               payload_kb: float | None = None, note: str = "") -> None:
        rows.append({"interaction": name, "median_s": median, "p95_s": p95, "repeats": count,
                     "payload_kb": payload_kb, "note": note})

    config = TrainConfig(cv_folds=2, search=False, n_estimators=args.trees, side_models=False)
    with Recorder() as rec:
        with rec.step("setup: simulate + check_frame + fit_all (quick config)", counted=False):
            frame = simulate_large(n, seed=0)
            analysis = fit_all(check_frame(frame).dataset, config=config, explain_rows="top")
        scores = analysis.population.scores  # the customers to act on
        y = analysis.dataset.y.to_numpy(dtype=float)
        valid = analysis.result.rows  # every labelled row has an out-of-fold score
        rng = np.random.default_rng(0)
        moves = [float(t) for t in np.round(rng.uniform(0, 1, args.moves), 2)]

        # -- threshold curve ------------------------------------------------------------
        start = time.perf_counter()
        full = ThresholdCurve(y[valid], analysis.result.oof)
        record("ThresholdCurve build (out-of-fold scores, every labelled row)",
               time.perf_counter() - start, note=f"{valid.size:,} rows")
        record("ThresholdCurve.at(t) (every row)", *_median_time(full.at, moves),
               count=len(moves))
        start = time.perf_counter()
        ranked = pipeline.sorted_scores(analysis)  # once per model (session)
        record("SortedScores of the customers to act on (once per model)",
               time.perf_counter() - start, note=f"{ranked.n:,} customers")
        sorted_scores = ranked.ascending

        # -- money inputs: profit table + best threshold with a capacity ----------------
        econ = Economics(capacity=max(n // 20, 1))

        def profit_view(e: Economics) -> tuple[pd.DataFrame, Any]:
            table = pipeline.profit_table(analysis, e, scores=ranked)
            return table, pipeline.profit_threshold(analysis, e, table=table)

        econs = [Economics(value_retained=v, capacity=econ.capacity)
                 for v in np.linspace(100, 400, 20)]
        record("profit table + best_profit (capacity), per money change",
               *_median_time(profit_view, econs), count=len(econs))
        profit_table, best = profit_view(econ)

        # -- tiers ----------------------------------------------------------------------
        def tiers_search(t: float) -> pd.Series:
            flagged = int(n - np.searchsorted(sorted_scores, t, side="left"))
            medium = int(np.searchsorted(sorted_scores, t, side="left")
                         - np.searchsorted(sorted_scores, t / 2, side="left"))
            return pd.Series({"high": flagged, "medium": medium, "low": n - flagged - medium})

        record("tier counts: binary search on sorted scores (page)",
               *_median_time(tiers_search, moves), count=len(moves))
        record("tier counts: risk_tiers + value_counts (naive)",
               *_median_time(lambda t: pd.Series(risk_tiers(scores, t)).value_counts(),
                             moves[:20]), count=20)

        # -- at-risk list ----------------------------------------------------------------
        start = time.perf_counter()
        # ui.actions.at_risk: the riskiest SHOWN_ROWS, once per model
        at_risk_all = export_table(analysis, 0.0, limit=SHOWN_ROWS)
        record(f"at-risk list: riskiest {SHOWN_ROWS:,} built once per model",
               time.perf_counter() - start, note="first visit of the Alerts page")
        start = time.perf_counter()
        export_table(analysis, 0.0)
        record("at-risk list: every customer (before: built on the first visit)",
               time.perf_counter() - start, note="what the page built before")

        def first_page(_: float) -> pd.DataFrame:
            top = np.argpartition(-scores, 50)[:50]
            top = top[np.argsort(-scores[top], kind="stable")]
            return pd.DataFrame({"customer_id": analysis.population.ids[top],
                                 "churn_probability": scores[top]})

        record("first page: top 50 by score (argpartition)",
               *_median_time(first_page, moves[:50]), count=50)
        record("first page: full argsort, top 50 (naive)",
               *_median_time(lambda _: np.argsort(-scores)[:50], moves[:10]), count=10)

        # -- one whole slider move, as pages/alerts.py reruns it -----------------------
        step = max(len(profit_table) // PLOT_POINTS, 1)
        thinned = profit_table.iloc[::step]
        grid = profit_table["threshold"].to_numpy()
        best_t = float(min(best.value, 1.0))

        def slider_move(t: float) -> int:
            analysis.curve.at(t)
            view = pipeline.alert_view(analysis, t, capacity=econ.capacity, scores=ranked)
            counts = pd.Series({"high": view.high, "medium": view.medium, "low": view.low})
            i = min(int(np.searchsorted(grid, t, side="left")), len(grid) - 1)
            float(profit_table["profit"].iloc[i])
            page = at_risk_all.iloc[: int(counts["high"])].head(PAGE_ROWS)
            size = len(charts.profit_curve(thinned, best=best_t, current=t).to_json())
            size += len(charts.tier_counts(counts).to_json())
            return size + len(page)

        record("slider move: whole Alerts rerun, server side (no Streamlit)",
               *_median_time(slider_move, moves), count=len(moves),
               note="curve point, counts, profit, page slice, 2 charts to JSON")
        record("slider move without charts",
               *_median_time(lambda t: (analysis.curve.at(t), tiers_search(t),
                                        at_risk_all.iloc[: int(n * (1 - t))].head(PAGE_ROWS)),
                             moves), count=len(moves))

        # -- chart payloads ---------------------------------------------------------------
        expl = analysis.explanation
        pts = to_points(expl.contributions, expl.base_value, analysis.result.calibration)
        importance = point_importance(pts, expl)
        top_features = list(importance["feature"].head(10))
        points = projection(analysis.segments, analysis.X, analysis.segment_labels,
                            max_points=charts.MAX_POINTS) if analysis.segments else None
        ev = analysis.result.evaluation
        builders: dict[str, Callable[[], Any]] = {
            "profit_curve (thinned, as the page)": lambda: charts.profit_curve(
                thinned, best=best_t, current=0.5),
            "profit_curve (every threshold)": lambda: charts.profit_curve(
                profit_table, best=best_t, current=0.5),
            "tier_counts": lambda: charts.tier_counts(tiers_search(0.5)),
            "score_histogram (binned)": lambda: charts.score_histogram(scores,
                                                                            threshold=0.5),
            "importance": lambda: charts_explain.importance(importance),
            "beeswarm (top 10 features)": lambda: charts_explain.beeswarm(
                pts.points, expl.values, top_features),
            "dependence (top feature)": lambda: charts_explain.dependence(
                pts.points, expl.values, top_features[0]),
            "roc_curve": lambda: charts.roc_curve(ev.roc, auc=ev.roc_auc),
            "lift_gain": lambda: charts.lift_gain(ev.lift),
        }
        if points is not None:
            builders["segment_map"] = lambda: charts_segments.segment_map(points)
        for name, build in builders.items():
            start = time.perf_counter()
            text = build().to_json()
            record(f"chart: {name}", time.perf_counter() - start,
                   payload_kb=len(text.encode("utf-8")) / 1024)
    summary = rec.summary()
    slider = next(r for r in rows if r["interaction"].startswith("slider move: whole"))
    return {"rows": n, "setup_seconds": summary["steps"][0]["seconds"],
            "peak_rss_gb": max(summary["peak_rss_gb"], summary["vmhwm_gb"]),
            "interactions": rows, "slider_median_s": slider["median_s"],
            "slider_goal_met": slider["median_s"] <= SLIDER_GOAL_S,
            "rows_explained": len(analysis.explanation.reasons)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e5,1e6", help="comma-separated row counts")
    parser.add_argument("--moves", type=int, default=200, help="slider moves per measure")
    parser.add_argument("--trees", type=int, default=200, help="most trees in the setup model")
    parser.add_argument("--threads", type=int, default=0,
                        help="OMP_NUM_THREADS for the child (0 = library default)")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--out", default="interactive", help="results name in bench/results/")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        logging.basicConfig(level=logging.WARNING)
        emit(run(args.child, args))
        return
    info = machine()
    print(f"machine: {info['cpus']} CPUs, {info['cpu']}; load average "
          f"{info['load_average'][0]:.1f}; calibration {info['calibration']}")
    results, flat = [], []
    for size in parse_sizes(args.sizes):
        print(f"\n== {size:,} customers ==", flush=True)
        res = run_child([__file__, "--child", size, "--moves", args.moves, "--trees", args.trees],
                        timeout=args.timeout, threads=args.threads)
        results.append(res)
        if "error" in res:
            print(f"  FAILED: {res['error']}")
            continue
        print_table(res["interactions"], [
            ("interaction", "interaction", "s"), ("median_s", "median", "time"),
            ("p95_s", "p95", "time"), ("repeats", "n", "d"), ("payload_kb", "JSON KB", ".1f")])
        verdict = "meets" if res["slider_goal_met"] else "MISSES"
        print(f"  setup {fmt_seconds(res['setup_seconds'])}, peak RSS {res['peak_rss_gb']:.2f} GB;"
              f" slider move {fmt_seconds(res['slider_median_s'])} median: {verdict} the "
              f"{SLIDER_GOAL_S * 1000:.0f} ms goal")
        flat += [{"rows": size, **r} for r in res["interactions"]]
    payload = {"benchmark": "interactive", "machine": info,
               "goals": {"slider_seconds_at_1m": SLIDER_GOAL_S},
               "options": {k: v for k, v in vars(args).items() if k != "child"},
               "results": results}
    path = write_results(args.out, payload, flat)
    print(f"\nresults written to {path.relative_to(path.parents[2])} (+ .csv)")


if __name__ == "__main__":
    main()
