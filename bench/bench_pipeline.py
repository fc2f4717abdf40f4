"""Benchmark: train + explain the riskiest customers + export, ours vs the obvious pipeline.

Run on its own::

    .venv/bin/python -m bench.bench_pipeline --sizes 1e5,1e6

For each size both contenders run on the same synthetic table
(``simulate.simulate_large(n, n_features=30, seed=0)``: numeric and
categorical columns, ~5 % missing), each in a fresh child process so that
each peak memory is its own:

ours
    ``pipeline.check_frame`` (schema, validation with the leakage screen,
    dataset) -> ``pipeline.fit_all`` (split, small search, final model with
    early stopping, logistic baseline, score every row, segments, SHAP +
    reasons for the riskiest rows: ``explain_rows="top"``) ->
    ``pipeline.export_table`` -> ``export.to_csv_bytes``. The steps inside
    ``fit_all`` are timed from its progress messages.
obvious
    pandas + ``XGBClassifier(enable_categorical=True, tree_method="hist")``
    with its defaults on an 80 % split -> probabilities for every row ->
    ``shap.TreeExplainer(model).shap_values`` on EVERY row -> the three
    largest SHAP features per row -> ``DataFrame.to_csv``. Above
    ``--obvious-shap-max`` rows SHAP is timed on that many rows and the time
    extrapolated linearly (TreeSHAP cost is linear in rows); the output says so.

Generating the table is timed but not counted in either total. Results go to
``bench/results/pipeline.json`` and ``pipeline.csv``.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from bench.common import (
    GB,
    Recorder,
    emit,
    fmt_seconds,
    machine,
    parse_sizes,
    print_table,
    run_child,
    write_results,
)

N_FEATURES = 30
SEED = 0
OBVIOUS_SHAP_MAX = 100_000
FRESH_ROWS = 200_000
# fit_all reports progress as fractions; these bands name its steps (see pipeline.fit_all and
# training.train, whose fractions fit_all scales by 0.8: search 0.05..0.25, cross-fitting
# 0.25..0.75, refit 0.78..0.8; then segments 0.82, explain 0.86..0.98).
FIT_ALL_STEPS = (
    (0.2, "train: parameter search"),
    (0.62, "train: cross-fit 4 model families on 5 folds"),
    (0.82, "train: refit the champion on every row + calibration + score"),
    (0.86, "segments (fit + assign)"),
    (1.01, "explain the customers to act on + threshold"),
)


def _fit_all_step(fraction: float, message: str) -> str:
    return next(name for upper, name in FIT_ALL_STEPS if fraction < upper)


def _tables(n: int):
    """The training table and a fresh table of customers neither contender has seen, drawn
    from one simulation (the seed also draws the simulation's true model)."""
    from churn_core.simulate import simulate_large

    both = simulate_large(n + min(n, FRESH_ROWS), n_features=N_FEATURES, seed=SEED)
    return both.iloc[:n].reset_index(drop=True), both.iloc[n:].reset_index(drop=True)


def run_ours(n: int, args: argparse.Namespace) -> dict[str, Any]:
    from churn_core.export import to_csv_bytes
    from churn_core.model import TrainConfig
    from churn_core.pipeline import check_frame, export_table, fit_all

    config = TrainConfig(cv_folds=args.cv_folds, search=not args.no_search, device=args.device)
    with Recorder(use_tracemalloc=args.tracemalloc) as rec:
        with rec.step("generate data", counted=False):
            frame, fresh = _tables(n)
        with rec.step("check: schema + validate + dataset"):
            checked = check_frame(frame)

        # Split fit_all into its steps: each progress message closes the window since the
        # previous one, which belongs to the step that the previous message opened.
        marks: list[tuple[float, float, str, int]] = []
        current = {"step": FIT_ALL_STEPS[0][1]}

        def progress(fraction: float, message: str) -> None:
            marks.append((time.perf_counter(), time.process_time(), current["step"],
                          rec.sampler.reset()))
            current["step"] = _fit_all_step(fraction, message)

        rec.sampler.reset()
        prev, prev_cpu = time.perf_counter(), time.process_time()
        analysis = fit_all(checked.dataset, config=config, explain_rows="top", progress=progress)
        marks.append((time.perf_counter(), time.process_time(), current["step"],
                      rec.sampler.reset()))
        spans: dict[str, list[float]] = {}
        for t, cpu, step, peak in marks:
            s = spans.setdefault(step, [0.0, 0.0, 0.0])
            s[0] += t - prev
            s[1] += cpu - prev_cpu
            s[2] = max(s[2], peak)
            prev, prev_cpu = t, cpu
        for name, (seconds, cpu, peak) in spans.items():
            rec.add(name, seconds, int(peak), cpu_seconds=cpu)

        threshold = analysis.threshold.value
        with rec.step("export: at-risk table"):
            table = export_table(analysis, threshold)
        with rec.step("export: to_csv_bytes"):
            data = to_csv_bytes(table)
        with rec.step("quality: score a fresh table (not counted)", counted=False):
            from sklearn.metrics import roc_auc_score

            from churn_core.features import transform

            X_fresh, _ = transform(analysis.result.preprocessor, fresh)
            fresh_auc = float(roc_auc_score(fresh["churn"], analysis.result.predict(X_fresh)))
    r = analysis.result
    return {
        **rec.summary(),
        "contender": "ours", "rows": n,
        "config": {"cv_folds": config.cv_folds, "search": config.search,
                   "device": r.device, "explain_rows": "top"},
        "params": {k: r.params.get(k) for k in ("max_depth", "learning_rate",
                                                "min_child_weight", "device")},
        "trees": r.trees, "champion": r.champion,
        "oof_roc_auc": r.evaluation.roc_auc,
        "fresh_roc_auc": fresh_auc,
        "baseline_roc_auc": r.baseline_auc,
        "leaderboard": r.leaderboard.to_dict(orient="records"),
        "rows_explained": len(analysis.explanation.reasons),
        "segments": analysis.segments.k if analysis.segments else 0,
        "threshold": threshold,
        "rows_exported": len(table),
        "csv_mb": len(data) / 1e6,
    }


def run_obvious(n: int, args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np
    import pandas as pd
    import shap
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from xgboost import XGBClassifier


    extrapolated = n > args.obvious_shap_max
    with Recorder(use_tracemalloc=args.tracemalloc) as rec:
        with rec.step("generate data", counted=False):
            frame, fresh = _tables(n)
        with rec.step("prepare: X, y, 80/20 split"):
            X = frame.drop(columns=["customer_id", "churn"])
            y = frame["churn"]
            X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y,
                                                      random_state=SEED)
        with rec.step("train: XGBClassifier defaults"):
            model = XGBClassifier(enable_categorical=True, tree_method="hist",
                                  device=args.device if args.device != "auto" else "cpu")
            model.fit(X_tr, y_tr)
        with rec.step("score every row"):
            proba = model.predict_proba(X)[:, 1]
        auc = float(roc_auc_score(y_te, model.predict_proba(X_te)[:, 1]))
        fresh_auc = float(roc_auc_score(fresh["churn"], model.predict_proba(
            fresh.drop(columns=["customer_id", "churn"]))[:, 1]))
        explainer = shap.TreeExplainer(model)
        if not extrapolated:
            with rec.step("SHAP: TreeExplainer on every row"):
                values = explainer.shap_values(X)
        else:
            m = args.obvious_shap_max
            with rec.step(f"SHAP: TreeExplainer on {m:,} rows (measured)", counted=False):
                sample = explainer.shap_values(X.iloc[:m])
            measured = rec.steps[-1]
            # The export below needs a value per row: repeat the sample (same size, same
            # memory as the real thing); only the time of the full run is extrapolated.
            values = np.resize(sample, (n, sample.shape[1]))
            rec.add(f"SHAP: TreeExplainer on every row (EXTRAPOLATED x{n / m:.0f})",
                    measured.seconds * n / m, int(measured.peak_rss_gb * GB),
                    cpu_seconds=(measured.cpu_seconds or 0.0) * n / m,
                    note=f"measured {measured.seconds:.1f} s on {m:,} rows, scaled linearly")
        with rec.step("export: top-3 SHAP features + to_csv"):
            names = np.asarray(X.columns, dtype=object)
            top = np.argsort(-values, axis=1)[:, :3]
            out = pd.DataFrame({"customer_id": frame["customer_id"], "churn_probability": proba,
                                "reason_1": names[top[:, 0]], "reason_2": names[top[:, 1]],
                                "reason_3": names[top[:, 2]]})
            data = out.to_csv(index=False).encode("utf-8")
    return {**rec.summary(), "contender": "obvious", "rows": n, "trees": model.n_estimators or 100,
            "test_roc_auc": auc, "fresh_roc_auc": fresh_auc, "shap_extrapolated": extrapolated,
            "shap_rows_measured": min(n, args.obvious_shap_max),
            "rows_explained": n, "rows_exported": len(out), "csv_mb": len(data) / 1e6}


def child(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    run = run_ours if args.child == "ours" else run_obvious
    emit(run(args.size, args))


def _child_args(args: argparse.Namespace, contender: str, size: int) -> list[str]:
    out = [__file__, "--child", contender, "--size", str(size), "--cv-folds", str(args.cv_folds),
           "--obvious-shap-max", str(args.obvious_shap_max), "--device", args.device]
    if args.no_search:
        out.append("--no-search")
    if args.tracemalloc:
        out.append("--tracemalloc")
    return out


def _print_contender(res: dict[str, Any]) -> None:
    if "error" in res:
        print(f"  FAILED: {res['error']}")
        return
    print_table(
        [{**s, "name": s["name"] + ("" if s["counted"] else "  (not counted)")}
         for s in res["steps"]],
        [("name", "step", "s"), ("seconds", "time", "time"), ("cpu_seconds", "CPU", "time"),
         ("peak_rss_gb", "peak RSS GB", ".2f"), ("rss_after_gb", "RSS after GB", ".2f")])
    print(f"  total {fmt_seconds(res['total_seconds'])} (CPU "
          f"{fmt_seconds(res['total_cpu_seconds'])}), peak RSS {res['peak_rss_gb']:.2f} GB "
          f"(kernel VmHWM {res['vmhwm_gb']:.2f} GB), child wall {res['wall_seconds']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e5,1e6", help="comma-separated row counts")
    parser.add_argument("--cv-folds", type=int, default=5,
                        help="cross-fitting folds for ours (default 5, the product's default)")
    parser.add_argument("--no-search", action="store_true", help="ours: one setting, no search")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--obvious-shap-max", type=int, default=OBVIOUS_SHAP_MAX,
                        help="above this many rows the obvious SHAP time is extrapolated")
    parser.add_argument("--tracemalloc", action="store_true",
                        help="also record Python allocation peaks (slower)")
    parser.add_argument("--threads", type=int, default=0,
                        help="OMP_NUM_THREADS for both contenders (0 = library default)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per contender")
    parser.add_argument("--contenders", default="ours,obvious",
                        help="which to run, e.g. 'ours' to re-measure after a change")
    parser.add_argument("--out", default="pipeline", help="results name in bench/results/")
    parser.add_argument("--child", choices=["ours", "obvious"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    info = machine()
    print(f"machine: {info['cpus']} CPUs, {info['cpu']}, GPU: {info['gpu'] or 'none'}; "
          f"load average {info['load_average'][0]:.1f}; calibration {info['calibration']}; "
          f"threads {args.threads or 'default'}")
    results, rows = [], []
    for size in parse_sizes(args.sizes):
        entry: dict[str, Any] = {"rows": size}
        for contender in args.contenders.split(","):
            print(f"\n== {size:,} customers: {contender} ==", flush=True)
            res = run_child(_child_args(args, contender, size), timeout=args.timeout,
                            threads=args.threads)
            entry[contender] = res
            _print_contender(res)
            for s in res.get("steps", []):
                rows.append({"rows": size, "contender": contender, "step": s["name"],
                             "seconds": round(s["seconds"], 3),
                             "cpu_seconds": round(s["cpu_seconds"] or 0.0, 3),
                             "peak_rss_gb": round(s["peak_rss_gb"], 3),
                             "counted": s["counted"], "note": s["note"]})
            if "total_seconds" in res:
                rows.append({"rows": size, "contender": contender, "step": "TOTAL",
                             "seconds": round(res["total_seconds"], 3),
                             "cpu_seconds": round(res["total_cpu_seconds"], 3),
                             "peak_rss_gb": round(max(res["peak_rss_gb"], res["vmhwm_gb"]), 3),
                             "counted": True, "note": ""})
        ours, obvious = entry.get("ours", {}), entry.get("obvious", {})
        if "total_seconds" in ours and "total_seconds" in obvious:
            entry["ratio"] = obvious["total_seconds"] / ours["total_seconds"]
            # CPU time is the steadier figure on a machine shared with other work.
            entry["ratio_cpu"] = obvious["total_cpu_seconds"] / ours["total_cpu_seconds"]
            flag = " (obvious SHAP extrapolated)" if obvious.get("shap_extrapolated") else ""
            print(f"\n{size:,} customers: ours {fmt_seconds(ours['total_seconds'])} "
                  f"(peak {max(ours['peak_rss_gb'], ours['vmhwm_gb']):.2f} GB) vs obvious "
                  f"{fmt_seconds(obvious['total_seconds'])}{flag} "
                  f"(peak {max(obvious['peak_rss_gb'], obvious['vmhwm_gb']):.2f} GB): "
                  f"ours is {entry['ratio']:.1f}x faster (CPU time: ours "
                  f"{fmt_seconds(ours['total_cpu_seconds'])} vs "
                  f"{fmt_seconds(obvious['total_cpu_seconds'])}, {entry['ratio_cpu']:.1f}x)",
                  flush=True)
        results.append(entry)
    payload = {"benchmark": "pipeline", "machine": info,
               "goals": {"seconds_at_1m": 60, "speedup": 5, "peak_gb_at_1m": 3},
               "options": {k: v for k, v in vars(args).items() if k not in ("child", "size")},
               "results": results}
    path = write_results(args.out, payload, rows)
    print(f"\nresults written to {path.relative_to(path.parents[2])} (+ .csv)")


if __name__ == "__main__":
    main()
