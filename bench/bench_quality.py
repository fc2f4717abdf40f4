"""Benchmark: held-out ROC-AUC of the product's default path beside three reference models.

Run on its own::

    .venv/bin/python -m bench.bench_quality                       # the E-commerce workbook
    .venv/bin/python -m bench.bench_quality --data sample         # the bundled sample
    .venv/bin/python -m bench.bench_quality --data FILE [--label COL] [--id COL]

The table is read and checked as the product does (``io.read_table`` ->
``pipeline.check_frame``); its labelled rows are cut into 5 group-aware folds
(``splits.group_folds`` over ``Dataset.groups``: rows sharing an id or a
duplicated profile stay on one side). Split *k* tests on fold *k* (about 20 %)
and trains on the other four (about 80 %). For each split the two parts are
written as CSV files, and the contenders get the same files:

product
    the command line exactly as a user runs it, each command a fresh process:
    ``python -m churn_core train TRAIN.csv --out DIR`` (defaults; ``--label`` /
    ``--id`` only when given here), then ``python -m churn_core score DIR TEST.csv
    --out scores.csv``; ``churn_probability`` from the scores file (input order).
logreg
    one-hot (most frequent for missing) + median imputation + scaling,
    ``LogisticRegression(max_iter=2000)``.
hgb
    ``HistGradientBoostingClassifier(categorical_features="from_dtype")`` defaults,
    categories as pandas ``category`` dtype.
xgb
    ``XGBClassifier(enable_categorical=True, tree_method="hist")`` defaults.

The references use the product's feature columns (its schema: id, label and
excluded columns left out; dates as days since 1970) and its 0/1 label, and run
each in a fresh child process (:func:`bench.common.run_child`) that reads the
CSV files with pandas. Each figure is ROC-AUC on the 20 %; time is wall time
(product: train + score processes; references: fit + predict), peak memory the
peak RSS of the process (product: the larger of its two commands, from
``wait4``). Results go to ``bench/results/quality.json`` and ``quality.csv``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    GB,
    ROOT,
    Recorder,
    emit,
    fmt_seconds,
    machine,
    print_table,
    run_child,
    write_results,
)

ECOMMERCE = ROOT.parent / "shared" / "data" / "ecommerce_churn" / "E Commerce Dataset.xlsx"
SAMPLE = ROOT / "sample_data" / "customers.csv"
REFERENCES = ("logreg", "hgb", "xgb")
N_SPLITS = 5


# -- the table and its splits ----------------------------------------------------------------
def load(path: Path, label: str | None, id_column: str | None) -> tuple[Any, Any]:
    """Read and check ``path`` as the product does; return (read frame, Dataset)."""
    from churn_core.pipeline import check_frame
    from churn_core.reading.table import read_table
    from churn_core.schema import SchemaOverrides

    read = read_table(path)
    checked = check_frame(read.frame, overrides=SchemaOverrides(id_column=id_column,
                                                                label_column=label))
    if not checked.usable:
        errors = [p.message for p in checked.problems if p.severity == "error"]
        raise SystemExit(f"{path.name} cannot train a model: {'; '.join(errors)}")
    return read.frame, checked.dataset


def split_folds(dataset: Any, *, seed: int, n_splits: int) -> tuple[np.ndarray, np.ndarray]:
    """Labelled row positions and the fold of each (groups never cut)."""
    from churn_core.splits import group_folds

    labelled = np.flatnonzero(dataset.labelled)
    y = dataset.y.to_numpy()[labelled]
    fold = group_folds(y, dataset.groups[labelled], n_splits, seed=seed)
    return labelled, fold


def reference_spec(dataset: Any) -> dict[str, Any]:
    """Feature columns by type and the label/id names, for the reference children."""
    s = dataset.schema
    return {"numeric": [c for c in s.numeric if c in s.features],
            "categorical": [c for c in s.categorical if c in s.features],
            "datetime": [c for c in s.datetime if c in s.features]}


# -- the product: its command line -----------------------------------------------------------
def _run_cli(args: list[str], log_path: Path, timeout: float) -> tuple[float, int, int]:
    """Run ``python -m churn_core ARGS``; return (seconds, peak RSS bytes, exit status)."""
    start = time.perf_counter()
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen([sys.executable, "-m", "churn_core", *args], cwd=ROOT,
                                stdout=log, stderr=subprocess.STDOUT)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, usage.ru_maxrss * 1024, proc.returncode


def run_product(train_csv: Path, test_csv: Path, work: Path, args: argparse.Namespace,
                n_test: int) -> tuple[dict[str, Any], np.ndarray | None]:
    """Train and score through the command line; return the result and the test scores."""
    bundle, scores = work / "model", work / "scores.csv"
    schema_args = [*(["--label", args.label] if args.label else []),
                   *(["--id", args.id] if args.id else [])]
    train_s, train_peak, rc = _run_cli(["train", str(train_csv), "--out", str(bundle),
                                        *schema_args], work / "train.log", args.timeout)
    out: dict[str, Any] = {"train_seconds": train_s, "train_peak_gb": train_peak / GB}
    if rc != 0:
        tail = (work / "train.log").read_text(encoding="utf-8", errors="replace")[-800:]
        return {**out, "error": f"train exit status {rc}: {tail}"}, None
    out["train_output"] = [ln for ln in (work / "train.log").read_text(encoding="utf-8")
                           .splitlines() if not ln.startswith(("INFO", "DEBUG", "WARNING"))]
    score_s, score_peak, rc = _run_cli(["score", str(bundle), str(test_csv), "--out",
                                        str(scores)], work / "score.log", args.timeout)
    out |= {"score_seconds": score_s, "score_peak_gb": score_peak / GB,
            "seconds": train_s + score_s, "peak_rss_gb": max(train_peak, score_peak) / GB}
    if rc != 0:
        tail = (work / "score.log").read_text(encoding="utf-8", errors="replace")[-800:]
        return {**out, "error": f"score exit status {rc}: {tail}"}, None
    import pandas as pd

    table = pd.read_csv(scores, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    proba = pd.to_numeric(table["churn_probability"]).to_numpy(dtype=float)
    if proba.size != n_test:
        return {**out, "error": f"{proba.size} scores for {n_test} test rows"}, None
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    out["trees"] = manifest.get("info", {}).get("trees")
    return out, proba


# -- the references: one child process each --------------------------------------------------
def _frames(train_csv: str, test_csv: str, spec: dict[str, Any]) -> tuple[Any, Any]:
    import pandas as pd

    dtypes = {c: str for c in spec["categorical"] + spec["datetime"]}
    train = pd.read_csv(train_csv, dtype=dtypes)
    test = pd.read_csv(test_csv, dtype=dtypes)
    out = []
    for part in (train, test):
        X = pd.DataFrame(index=part.index)
        for c in spec["numeric"]:
            X[c] = pd.to_numeric(part[c], errors="coerce").astype(float)
        for c in spec["datetime"]:
            when = pd.to_datetime(part[c], errors="coerce", format="mixed")
            X[c] = (when - pd.Timestamp("1970-01-01")).dt.days.astype(float)
        for c in spec["categorical"]:
            X[c] = part[c].astype(object).where(part[c].notna(), None)
        out.append(X)
    X_train, X_test = out
    for c in spec["categorical"]:
        levels = sorted(X_train[c].dropna().unique())
        X_train[c] = pd.Categorical(X_train[c], categories=levels)
        X_test[c] = pd.Categorical(X_test[c], categories=levels)
    return X_train, X_test


def make_reference(name: str, spec: dict[str, Any], seed: int) -> Any:
    """The reference model ``name`` with its stated settings (defaults otherwise)."""
    if name == "logreg":
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        numeric = spec["numeric"] + spec["datetime"]
        prep = ColumnTransformer([
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            ("cat", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                  OneHotEncoder(handle_unknown="ignore")), spec["categorical"]),
        ])
        return make_pipeline(prep, LogisticRegression(max_iter=2000))
    if name == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier

        return HistGradientBoostingClassifier(categorical_features="from_dtype",
                                              random_state=seed)
    if name == "xgb":
        from xgboost import XGBClassifier

        return XGBClassifier(enable_categorical=True, tree_method="hist", random_state=seed)
    raise ValueError(f"unknown reference {name!r}")


def run_reference(args: argparse.Namespace) -> dict[str, Any]:
    """Child process: fit one reference on the 80 %, score the 20 %, return its ROC-AUC."""
    from sklearn.metrics import roc_auc_score

    spec = json.loads(Path(args.spec).read_text(encoding="utf-8"))
    y_train, y_test = np.load(args.y_train), np.load(args.y_test)
    with Recorder() as rec:
        with rec.step("read"):
            X_train, X_test = _frames(args.train, args.test, spec)
        with rec.step("fit + predict"):
            model = make_reference(args.child, spec, args.seed)
            if args.child == "logreg":  # one-hot needs plain objects, not categories
                X_train, X_test = (X.astype({c: object for c in spec["categorical"]})
                                   for X in (X_train, X_test))
            model.fit(X_train, y_train)
            proba = model.predict_proba(X_test)[:, 1]
    fit = next(s for s in rec.steps if s.name == "fit + predict")
    return {**rec.summary(), "roc_auc": float(roc_auc_score(y_test, proba)),
            "seconds": fit.seconds, "cpu_seconds": fit.cpu_seconds,
            "fit_peak_rss_gb": fit.peak_rss_gb}


# -- one split, all splits -------------------------------------------------------------------
def run_split(k: int, frame: Any, dataset: Any, labelled: np.ndarray, fold: np.ndarray,
              spec_path: Path, work: Path, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Write split ``k``'s files, run every contender on them, return one row per contender."""
    from sklearn.metrics import roc_auc_score

    train_rows, test_rows = labelled[fold != k], labelled[fold == k]
    y = dataset.y.to_numpy()
    y_train, y_test = y[train_rows].astype(int), y[test_rows].astype(int)
    train_csv, test_csv = work / "train.csv", work / "test.csv"
    frame.iloc[train_rows].to_csv(train_csv, index=False)
    # The held-out customers are scored as fresh data: without their churn column (a file
    # that still had it would have its churned rows left out of the scores).
    label = dataset.schema.label_column
    frame.iloc[test_rows].drop(columns=[label]).to_csv(test_csv, index=False)
    np.save(work / "y_train.npy", y_train)
    np.save(work / "y_test.npy", y_test)
    base = {"split": k + 1, "train_rows": int(train_rows.size), "test_rows": int(test_rows.size),
            "test_churn_rate": float(y_test.mean())}
    rows = []
    if "product" in args.models:
        res, proba = run_product(train_csv, test_csv, work, args, test_rows.size)
        if proba is not None:
            res["roc_auc"] = float(roc_auc_score(y_test, proba))
        rows.append({**base, "model": "product", **res})
        print(f"  split {k + 1}: product ROC-AUC {res.get('roc_auc', float('nan')):.4f} "
              f"(train {fmt_seconds(res.get('train_seconds'))}, score "
              f"{fmt_seconds(res.get('score_seconds'))})", flush=True)
    for name in (m for m in REFERENCES if m in args.models):
        res = run_child([__file__, "--child", name, "--train", train_csv, "--test", test_csv,
                         "--spec", spec_path, "--y-train", work / "y_train.npy",
                         "--y-test", work / "y_test.npy", "--seed", str(args.seed)],
                        timeout=args.timeout, threads=args.threads)
        rows.append({**base, "model": name, **res,
                     "peak_rss_gb": max(res.get("peak_rss_gb", 0.0), res.get("vmhwm_gb", 0.0))})
    return rows


COLUMNS = [("model", "model", "s"), ("roc_auc", "ROC-AUC", ".4f"), ("seconds", "time", "time"),
           ("peak_rss_gb", "peak RSS GB", ".2f")]


def summarise(rows: list[dict[str, Any]], models: list[str]) -> list[dict[str, Any]]:
    """Mean and standard deviation of ROC-AUC and mean time per model, over the splits."""
    out = []
    for m in models:
        mine = [r for r in rows if r["model"] == m and "roc_auc" in r]
        if not mine:
            out.append({"model": m, "splits": 0, "error": "no split finished"})
            continue
        aucs = np.array([r["roc_auc"] for r in mine])
        out.append({"model": m, "splits": len(mine), "roc_auc": float(aucs.mean()),
                    "roc_auc_std": float(aucs.std(ddof=1)) if aucs.size > 1 else 0.0,
                    "seconds": float(np.mean([r["seconds"] for r in mine])),
                    "peak_rss_gb": float(max(r.get("peak_rss_gb", 0.0) for r in mine))})
    return out


def _source(args: argparse.Namespace) -> Path:
    if args.data in (None, "ecommerce"):
        if not ECOMMERCE.exists():
            raise SystemExit(f"{ECOMMERCE} is absent; pass --data FILE or --data sample")
        return ECOMMERCE
    return SAMPLE if args.data == "sample" else Path(args.data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None,
                        help="customer table (default: the E-commerce workbook in "
                        "../shared/data; 'sample' for sample_data/customers.csv)")
    parser.add_argument("--label", help="label column (passed to train, as a user would)")
    parser.add_argument("--id", help="id column (passed to train, as a user would)")
    parser.add_argument("--splits", type=int, default=N_SPLITS, help="group-aware folds")
    parser.add_argument("--seed", type=int, default=0, help="seed of the folds and references")
    parser.add_argument("--models", default="product," + ",".join(REFERENCES),
                        help="contenders to run, comma-separated")
    parser.add_argument("--threads", type=int, default=0,
                        help="OMP_NUM_THREADS for the references (0 = library default)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per process")
    parser.add_argument("--out", default="quality", help="results name in bench/results/")
    parser.add_argument("--child", choices=REFERENCES, help=argparse.SUPPRESS)
    for hidden in ("--train", "--test", "--spec", "--y-train", "--y-test"):
        parser.add_argument(hidden, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        logging.basicConfig(level=logging.WARNING)
        emit(run_reference(args))
        return
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    source = _source(args)
    info = machine()
    print(f"machine: {info['cpus']} CPUs, {info['cpu']}, GPU: {info['gpu'] or 'none'}; "
          f"load average {info['load_average'][0]:.1f}; calibration {info['calibration']}")
    frame, dataset = load(source, args.label, args.id)
    labelled, fold = split_folds(dataset, seed=args.seed, n_splits=args.splits)
    spec = reference_spec(dataset)
    y = dataset.y.to_numpy()[labelled]
    print(f"data: {source.name}: {len(frame):,} rows, {labelled.size:,} labelled "
          f"({y.mean():.1%} churned), {np.unique(dataset.groups[labelled]).size:,} groups; "
          f"features {len(spec['numeric'])} numeric, {len(spec['categorical'])} categorical, "
          f"{len(spec['datetime'])} dates; {args.splits} group-aware splits "
          f"(each fold once as the ~{1 / args.splits:.0%} held out)", flush=True)

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench_quality_") as tmp:
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(json.dumps(spec), encoding="utf-8")
        for k in range(args.splits):
            work = Path(tmp) / f"split{k + 1}"
            work.mkdir()
            print(f"\n== split {k + 1} of {args.splits} ==", flush=True)
            split_rows = run_split(k, frame, dataset, labelled, fold, spec_path, work, args)
            print_table(split_rows, COLUMNS)
            for r in split_rows:
                if "error" in r:
                    print(f"  {r['model']} FAILED: {r['error']}")
            rows.extend(split_rows)
    means = summarise(rows, args.models)
    print(f"\n== mean over {args.splits} splits ==")
    print_table(means, [*COLUMNS[:2], ("roc_auc_std", "+/- (sd)", ".4f"), *COLUMNS[2:]])
    product = next((m for m in means if m["model"] == "product" and "roc_auc" in m), None)
    refs = [m for m in means if m["model"] != "product" and "roc_auc" in m]
    verdict = None
    if product and refs:
        best = max(refs, key=lambda m: m["roc_auc"])
        verdict = {"product": product["roc_auc"], "best_reference": best["model"],
                   "best_reference_roc_auc": best["roc_auc"],
                   "product_at_least_best": product["roc_auc"] >= best["roc_auc"]}
        print(f"\nproduct {product['roc_auc']:.4f} vs best reference {best['model']} "
              f"{best['roc_auc']:.4f}: "
              f"{'at least as good' if verdict['product_at_least_best'] else 'WORSE'}")
    flat = [{k: v for k, v in r.items() if k not in ("steps", "train_output")} for r in rows]
    payload = {"benchmark": "quality", "machine": info, "data": str(source.name),
               "rows": len(frame), "labelled": int(labelled.size),
               "churn_rate": float(y.mean()), "features": spec,
               "options": {k: v for k, v in vars(args).items() if k != "child"
                           and not k.startswith(("train", "test", "spec", "y_"))},
               "splits": rows, "means": means, "verdict": verdict}
    path = write_results(args.out, payload, flat + [{"split": "mean", **m} for m in means])
    print(f"\nresults written to {path.relative_to(path.parents[2])} (+ .csv)")


if __name__ == "__main__":
    main()
