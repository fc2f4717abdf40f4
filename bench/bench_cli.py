"""Benchmark: what users run, with defaults, beside the obvious pipeline, in one run.

Run::

    nice .venv/bin/python -m bench.bench_cli                 # 1M customers (about 15 min)
    .venv/bin/python -m bench.bench_cli --sizes 1e5 --light  # a quick look

For each size ``n`` one simulation (``simulate_large(2n, n_features=30, seed=0)``) gives a
training file (the first ``n`` rows, with ``churn``) and a fresh file of ``n`` other
customers (``churn`` removed; its true labels are kept for the ROC-AUC). Contenders:

ours (command line)
    the README's commands with their defaults, each a child process:
    ``python -m churn_core train train.csv --out DIR`` then
    ``python -m churn_core score DIR fresh.csv --out scored.csv``. Each step's wall time,
    CPU time (user + system of the process tree) and peak RSS of the process tree
    (sampled every 50 ms, the guarded reader's child included).
ours (app)
    the Model page's Train button with its default settings, in a child process: the Data
    page's reader (``read_table_guarded``) and ``check_frame``, then ``fit_all`` with
    ``TrainConfig()`` (what ``ui.flows.model.train`` calls), steps timed from its progress.
obvious
    pandas ``read_csv`` -> ``XGBClassifier()`` with its defaults (categorical columns as
    pandas categories) on a random 80 % -> read the fresh file, probabilities for every row
    -> ``shap.TreeExplainer`` on the riskiest 10 % -> the three largest reasons ->
    ``to_csv``; one child process, each step timed.
light rows (``--light``)
    ours with ``--cv 2 --no-search``, labelled as such: not what users run by default.

ROC-AUC is measured on the fresh file's true labels for every contender. The machine's
load average and a calibration loop are recorded (shared machines: compare CPU time too).
Results go to ``bench/results/cli.json`` and ``cli.csv``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil

from bench.common import (
    GB,
    ROOT,
    Recorder,
    emit,
    machine,
    parse_sizes,
    print_table,
    run_child,
    write_results,
)

N_FEATURES = 30
SEED = 0
ID, LABEL = "customer_id", "churn"


class TreeSampler:
    """Peak RSS (bytes) of a process and all its descendants, sampled in a thread."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval, self.peak = pid, interval, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    total += p.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak


def run_step(name: str, cmd: list[str], log: Path | None = None) -> dict[str, Any]:
    """Run one command line step; wall, CPU (children), peak tree RSS, exit status.

    Its output goes to ``log`` (a temporary file when None), to be followed while it runs.
    """
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    log = log or Path(tempfile.mkstemp(prefix="bench-step-", suffix=".log")[1])
    before = os.times()
    start = time.perf_counter()
    with open(log, "w", encoding="utf-8") as sink:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT)
        sampler = TreeSampler(proc.pid)
        proc.wait()
    wall = time.perf_counter() - start
    out = log.read_text(encoding="utf-8", errors="replace")
    peak = sampler.stop()
    after = os.times()
    cpu = (after.children_user - before.children_user) + \
        (after.children_system - before.children_system)
    if proc.returncode != 0:
        print(out[-3000:], file=sys.stderr)
    return {"step": name, "seconds": wall, "cpu_seconds": cpu, "peak_rss_gb": peak / GB,
            "returncode": proc.returncode, "output_tail": out[-1500:]}


def make_files(n: int, folder: Path) -> tuple[Path, Path, Path]:
    """Training file, fresh file (no label) and the fresh file's true labels (Parquet)."""
    from churn_core.simulate import simulate_large

    folder.mkdir(parents=True, exist_ok=True)
    train, fresh, truth = folder / f"train_{n}.csv", folder / f"fresh_{n}.csv", \
        folder / f"truth_{n}.parquet"
    if train.is_file() and fresh.is_file() and truth.is_file():
        return train, fresh, truth
    both = simulate_large(2 * n, n_features=N_FEATURES, seed=SEED)
    both.iloc[:n].to_csv(train, index=False)
    later = both.iloc[n:].reset_index(drop=True)
    later[[ID, LABEL]].to_parquet(truth)
    later.drop(columns=[LABEL]).to_csv(fresh, index=False)
    return train, fresh, truth


def auc_of(scores: pd.DataFrame, truth: Path, column: str) -> float:
    """ROC-AUC of ``column`` against the fresh customers' true labels (joined on the id)."""
    from sklearn.metrics import roc_auc_score

    labels = pd.read_parquet(truth)
    both = labels.merge(scores[[ID, column]].astype({ID: str}), on=ID, how="inner")
    if len(both) != len(labels):
        raise RuntimeError(f"{len(labels) - len(both)} customers missing from the scores")
    return float(roc_auc_score(both[LABEL], both[column]))


def run_ours(train: Path, fresh: Path, truth: Path, work: Path, *, light: bool,
             device: str = "auto") -> dict[str, Any]:
    bundle, scored = work / "bundle", work / "scored.csv"
    shutil.rmtree(bundle, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    scored.unlink(missing_ok=True)
    extra = (["--cv", "2", "--no-search"] if light else []) + \
        (["--device", device] if device != "auto" else [])
    steps = [run_step("train", [sys.executable, "-m", "churn_core", "train", str(train),
                                "--out", str(bundle), *extra], work / "train.log")]
    if steps[0]["returncode"] == 0:
        steps.append(run_step("score", [sys.executable, "-m", "churn_core", "score",
                                        str(bundle), str(fresh), "--out", str(scored)],
                              work / "score.log"))
    ok = all(s["returncode"] == 0 for s in steps)
    row: dict[str, Any] = {"steps": steps, "ok": ok}
    if ok:
        table = pd.read_csv(scored, dtype={ID: str}, usecols=[ID, "churn_probability",
                                                               "at_risk"])
        row["roc_auc"] = auc_of(table, truth, "churn_probability")
        row["at_risk"] = int(table["at_risk"].sum())
        manifest = json.loads((bundle / "manifest.json").read_text()) \
            if (bundle / "manifest.json").is_file() else {}
        row["trained"] = {k: manifest.get(k) for k in ("metrics", "params") if k in manifest}
    return row


def child_obvious(train: Path, fresh: Path, out: Path, device: str = "auto") -> dict[str, Any]:
    """The obvious pipeline, each step timed (runs in its own process).

    ``device`` "auto" trains on the GPU when XGBoost can use one (as ``train`` does).
    """
    import shap
    import xgboost as xgb

    from churn_core.model import detect_device

    device = detect_device(device)

    def categorical(frame: pd.DataFrame) -> pd.DataFrame:
        for c in frame.columns:
            if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c]):
                frame[c] = frame[c].astype("category")
        return frame

    with Recorder() as rec:
        with rec.step("read training CSV (pandas)"):
            df = pd.read_csv(train, dtype={ID: str})
            ids = df.pop(ID)
            y = df.pop(LABEL).to_numpy()
            X = categorical(df)
        with rec.step("fit XGBClassifier() defaults on 80 %"):
            rng = np.random.default_rng(SEED)
            fit = rng.random(len(X)) < 0.8
            model = xgb.XGBClassifier(enable_categorical=True, tree_method="hist",
                                      device=device)
            model.fit(X[fit], y[fit])
            del ids
        with rec.step("read the fresh CSV + score every row"):
            new = pd.read_csv(fresh, dtype={ID: str})
            new_ids = new.pop(ID)
            Xn = categorical(new)
            for c in X.columns:  # same category levels as in training
                if isinstance(X[c].dtype, pd.CategoricalDtype):
                    Xn[c] = pd.Categorical(Xn[c], categories=X[c].cat.categories)
            proba = model.predict_proba(Xn[X.columns])[:, 1]
        with rec.step("SHAP TreeExplainer on the riskiest 10 %"):
            top = np.argsort(-proba, kind="stable")[: max(1, len(proba) // 10)]
            values = shap.TreeExplainer(model).shap_values(Xn.iloc[top][X.columns])
            names = np.asarray(X.columns)
            order = np.argsort(-values, axis=1)[:, :3]
        with rec.step("to_csv"):
            table = pd.DataFrame({ID: new_ids, "churn_probability": proba})
            for k in range(3):
                table[f"reason_{k + 1}"] = ""
                table.loc[top, f"reason_{k + 1}"] = names[order[:, k]]
            table.to_csv(out, index=False)
    return rec.summary()


def child_app(train: Path) -> dict[str, Any]:
    """The Data page's read and check, then the Model page's Train button with defaults."""
    from churn_core.model import TrainConfig
    from churn_core.pipeline import check_frame, fit_all
    from churn_core.reading.guarded import default_memory_mb, read_table_guarded

    marks: list[tuple[float, float, str]] = []
    with Recorder() as rec:
        with rec.step("read (guarded, as the Data page)"):
            read = read_table_guarded(train, memory_mb=default_memory_mb())
        with rec.step("check_frame"):
            checked = check_frame(read.frame, read=read)
        with rec.step("fit_all, TrainConfig() (Train button defaults)"):
            def progress(fraction: float, message: str) -> None:
                marks.append((time.perf_counter(), fraction, message))
            analysis = fit_all(checked.dataset, config=TrainConfig(), progress=progress)
    summary = rec.summary()
    summary["progress"] = [(round(t - marks[0][0], 1), f, m) for t, f, m in marks]
    summary["oof_roc_auc"] = float(analysis.result.evaluation.roc_auc)
    summary["sizing"] = {"rows": analysis.result.sizing.rows,
                         "curve": analysis.result.sizing.curve}
    summary["leaderboard"] = analysis.result.leaderboard.to_dict(orient="records")
    return summary


def _summed(steps: list[dict[str, Any]]) -> dict[str, float]:
    return {"seconds": sum(s["seconds"] for s in steps),
            "cpu_seconds": sum(s.get("cpu_seconds") or 0.0 for s in steps),
            "peak_rss_gb": max((s["peak_rss_gb"] for s in steps), default=0.0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6", help="customers per file, e.g. 1e5,1e6")
    parser.add_argument("--light", action="store_true",
                        help="also run ours with --cv 2 --no-search (labelled 'light')")
    parser.add_argument("--skip", default="", help="contenders to leave out: ours,app,obvious")
    parser.add_argument("--work", default="/tmp/churn-bench-cli", help="folder for the files")
    parser.add_argument("--name", default="cli", help="result file name in bench/results")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                        help="XGBoost device for ours and the obvious pipeline (auto: the GPU "
                        "when XGBoost can use one, as train does)")
    parser.add_argument("--child", choices=["obvious", "app"], help=argparse.SUPPRESS)
    parser.add_argument("--train", help=argparse.SUPPRESS)
    parser.add_argument("--fresh", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "obvious":
        emit(child_obvious(Path(args.train), Path(args.fresh), Path(args.out), args.device))
        return 0
    if args.child == "app":
        emit(child_app(Path(args.train)))
        return 0

    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    info = machine()
    from churn_core.model import detect_device

    info["xgboost_device"] = detect_device(args.device)
    print(f"XGBoost device: {info['xgboost_device']}", flush=True)
    print(f"load average {info['load_average']}, calibration {info['calibration']}", flush=True)
    work = Path(args.work)
    rows: list[dict[str, Any]] = []
    runs: dict[str, Any] = {}
    for n in parse_sizes(args.sizes):
        t0 = time.perf_counter()
        train, fresh, truth = make_files(n, work)
        print(f"{n:,} customers: files ready in {time.perf_counter() - t0:.0f} s", flush=True)
        runs[str(n)] = run = {}
        configs = [("ours: train + score (defaults)", False)] + \
            ([("ours light: --cv 2 --no-search (not the default)", True)] if args.light else [])
        if "ours" in skip:
            configs = []
        for label, light in configs:
            print(f"{label} at {n:,} ...", flush=True)
            res = run_ours(train, fresh, truth, work / "ours", light=light, device=args.device)
            run[label] = res
            tot = _summed(res["steps"])
            for s in res["steps"]:
                rows.append({"size": n, "contender": label, "step": s["step"],
                             "seconds": s["seconds"], "cpu_seconds": s["cpu_seconds"],
                             "peak_rss_gb": s["peak_rss_gb"]})
            rows.append({"size": n, "contender": label, "step": "TOTAL", **tot,
                         "roc_auc": res.get("roc_auc"), "load": os.getloadavg()[0]})
        if "obvious" not in skip:
            print(f"obvious pipeline at {n:,} ...", flush=True)
            out = work / "obvious.csv"
            res = run_child(["-m", "bench.bench_cli", "--child", "obvious", "--train", train,
                             "--fresh", fresh, "--out", out, "--device", args.device])
            if "error" not in res:
                res["roc_auc"] = auc_of(pd.read_csv(out, dtype={ID: str},
                                                    usecols=[ID, "churn_probability"]),
                                        truth, "churn_probability")
                for s in res["steps"]:
                    rows.append({"size": n, "contender": "obvious", "step": s["name"],
                                 "seconds": s["seconds"], "cpu_seconds": s["cpu_seconds"],
                                 "peak_rss_gb": s["peak_rss_gb"]})
                rows.append({"size": n, "contender": "obvious", "step": "TOTAL",
                             "seconds": res["wall_seconds"],
                             "cpu_seconds": res["total_cpu_seconds"],
                             "peak_rss_gb": res["vmhwm_gb"], "roc_auc": res["roc_auc"],
                             "load": os.getloadavg()[0]})
            run["obvious"] = res
        if "app" not in skip:
            print(f"app Train button at {n:,} ...", flush=True)
            res = run_child(["-m", "bench.bench_cli", "--child", "app", "--train", train])
            if "error" not in res:
                for s in res["steps"]:
                    rows.append({"size": n, "contender": "app: Train button (defaults)",
                                 "step": s["name"], "seconds": s["seconds"],
                                 "cpu_seconds": s["cpu_seconds"],
                                 "peak_rss_gb": s["peak_rss_gb"]})
                rows.append({"size": n, "contender": "app: Train button (defaults)",
                             "step": "TOTAL", "seconds": res["total_seconds"],
                             "cpu_seconds": res["total_cpu_seconds"],
                             "peak_rss_gb": res["vmhwm_gb"],
                             "roc_auc": None, "oof_roc_auc": res.get("oof_roc_auc"),
                             "load": os.getloadavg()[0]})
            run["app"] = res
    print()
    print_table(rows, [("size", "rows", ","), ("contender", "contender", ""),
                       ("step", "step", ""), ("seconds", "wall", "time"),
                       ("cpu_seconds", "CPU", "time"), ("peak_rss_gb", "peak GB", ".2f"),
                       ("roc_auc", "ROC-AUC (fresh)", ".4f"), ("load", "load", ".1f")])
    path = write_results(args.name, {"machine": info, "runs": runs,
                                     "load_after": os.getloadavg()}, rows)
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
