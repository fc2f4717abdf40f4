"""Benchmark: the Dask engine on a local cluster of 2 workers beside one machine, same data.

Run on its own::

    nice .venv/bin/python -m bench.bench_dask --sizes 2e5,1e6

For each size it writes ``simulate_large(n, n_features=30)`` as ``--parts`` Parquet files
to ``bench/data/dask_<n>/`` (reused when present), then runs each contender in a fresh
child process:

- ``single machine``: pandas reads the folder, the schema is checked
  (``pipeline.check_frame``), and XGBoost learns in one process on the Dask path's split
  with the setting chosen as the Dask path chooses it, by the same search on samples
  (``distributed.reference.single_machine_auc``);
  held-out ROC-AUC exact;
- ``dask``: ``train --engine dask`` (``distributed.train.train_dask`` on a
  ``LocalCluster`` of 2 worker processes, 1 thread each), then ``score --engine dask`` of
  the same folder; held-out ROC-AUC from the score histograms;
- ``default`` (``--with-default``): the product's default ``train`` command (search,
  5-fold cross-fitting, refit on every row it is given) on the split's training and
  early-stopping rows, scored on the same held-out rows (peak: the command's process; its
  guarded reader is a child of its own).

``--threads 1`` (the default) sets ``OMP_NUM_THREADS=1`` for both children (the Dask
workers inherit it and run one thread each anyway), as the other benchmarks' recorded
runs do. Time is wall time of the child's work (cluster start included for Dask); peak memory
is the kernel's peak RSS (``VmHWM``) of the child, and for Dask also of each worker
process, summed. Results go to ``bench/results/dask.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import (
    GB,
    RESULTS,
    calibrate,
    emit,
    lifetime_peak_bytes,
    machine,
    run_child,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
OUT = RESULTS / "dask.json"


def data_folder(n: int, parts: int) -> Path:
    """Write (once) the simulated table of ``n`` rows as ``parts`` Parquet files."""
    from churn_core.simulate import simulate_large

    folder = DATA / f"dask_{n}_{parts}"
    if folder.is_dir() and len(list(folder.glob("*.parquet"))) == parts:
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    frame = simulate_large(n, n_features=30, seed=0)
    for i, rows in enumerate(np.array_split(np.arange(n), parts)):
        frame.iloc[rows].to_parquet(folder / f"part-{i:03d}.parquet", index=False)
    return folder


def child_single(folder: str) -> None:
    """One machine: read everything, check, fit on the Dask split, measure exactly."""
    import pandas as pd

    from churn_core.distributed.reference import single_machine_auc
    from churn_core.pipeline import check_frame

    start = time.perf_counter()
    frame = pd.read_parquet(folder)
    read_s = time.perf_counter() - start
    checked = check_frame(frame)
    check_s = time.perf_counter() - start - read_s
    auc, trees = single_machine_auc(frame, checked.schema, seed=42, by_id=False)
    emit({"roc_auc": auc, "trees": trees, "read_seconds": read_s, "check_seconds": check_s,
          "train_seconds": time.perf_counter() - start,
          "peak_rss_gb": lifetime_peak_bytes() / GB})


def child_default(folder: str) -> None:
    """The product's default ``train`` (search, 5-fold cross-fitting, refit) on the Dask
    split's training and early-stopping rows, measured on its held-out rows."""
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    from churn_core.__main__ import main as cli
    from churn_core.bundle import load_bundle
    from churn_core.distributed.parts import TEST, row_split
    from churn_core.labels import encode_label
    from churn_core.pipeline import check_frame
    from churn_core.score import predict_frame

    frame = pd.read_parquet(folder)
    schema = check_frame(frame.head(50_000)).schema
    split = row_split(frame, schema, 42, by_id=False)
    with tempfile.TemporaryDirectory() as tmp:
        learn = Path(tmp) / "learn.parquet"
        frame[split != TEST].to_parquet(learn, index=False)
        start = time.perf_counter()
        if cli(["train", str(learn), "--out", str(Path(tmp) / "model")]) != 0:
            raise SystemExit("train failed")
        train_s = time.perf_counter() - start
        bundle = load_bundle(Path(tmp) / "model")
    test = frame[split == TEST]
    y = encode_label(test[schema.label_column], schema).to_numpy()
    keep = ~np.isnan(y)
    auc = roc_auc_score(y[keep], predict_frame(bundle, test)[keep])
    emit({"roc_auc": float(auc), "train_seconds": train_s,
          "peak_rss_gb": lifetime_peak_bytes() / GB})


def child_dask(folder: str) -> None:
    """Dask: train on a LocalCluster of 2 worker processes, then score the folder."""
    from churn_core.bundle import save_bundle
    from churn_core.distributed.cluster import dask_client
    from churn_core.distributed.score import score_dask
    from churn_core.distributed.train import train_dask

    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, dask_client(None, processes=True) as client:
        up = time.perf_counter() - start
        result = train_dask(folder, client=client)
        save_bundle(Path(tmp) / "bundle", result.bundle)
        train_s = time.perf_counter() - start
        scored = score_dask(result.bundle, folder, Path(tmp) / "scores")
        score_s = time.perf_counter() - start - train_s
        workers = client.run(lifetime_peak_bytes)
    client_gb = lifetime_peak_bytes() / GB
    worker_gb = [v / GB for v in workers.values()]
    emit({"roc_auc": result.held_out.roc_auc, "trees": result.bundle.info["trees"],
          "cluster_start_seconds": up, "train_seconds": train_s, "score_seconds": score_s,
          "rows_scored": scored.rows, "client_peak_rss_gb": client_gb,
          "worker_peak_rss_gb": worker_gb, "peak_rss_gb": client_gb + sum(worker_gb)})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2e5", help="comma-separated row counts")
    parser.add_argument("--parts", type=int, default=8, help="Parquet files per table")
    parser.add_argument("--with-default", action="store_true",
                        help="also run the product's default train (search, 5-fold "
                        "cross-fitting) on the same split: slow")
    parser.add_argument("--threads", type=int, default=1,
                        help="OMP_NUM_THREADS of each child and its workers (default 1: on a "
                        "busy 2-core machine 2 XGBoost threads wait for each other; 0 = "
                        "XGBoost's default)")
    parser.add_argument("--child", nargs=2, metavar=("WHICH", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        which, folder = args.child
        {"single": child_single, "dask": child_dask, "default": child_default}[which](folder)
        return 0
    results = {"machine": machine(), "calibration": calibrate(),
               "load_average": os.getloadavg(), "runs": []}
    for n in (int(float(s)) for s in args.sizes.split(",")):
        folder = data_folder(n, args.parts)
        run = {"rows": n, "parts": args.parts, "threads": args.threads}
        for which in ("single", "dask", *(("default",) if args.with_default else ())):
            run[which] = run_child([Path(__file__), "--child", which, folder],
                                   threads=args.threads)
            run[which]["load_after"] = os.getloadavg()[0]
        results["runs"].append(run)
        s, d = run["single"], run["dask"]
        print(f"{n:>9,} rows  single machine: {s.get('wall_seconds', 0):6.1f} s wall, "
              f"peak {s.get('peak_rss_gb', 0):.2f} GB, ROC-AUC {s.get('roc_auc', 0):.4f}  |  "
              f"dask 2 workers: train {d.get('train_seconds', 0):6.1f} s, score "
              f"{d.get('score_seconds', 0):5.1f} s, peak {d.get('peak_rss_gb', 0):.2f} GB "
              f"(client {d.get('client_peak_rss_gb', 0):.2f} + workers), "
              f"ROC-AUC {d.get('roc_auc', 0):.4f}", flush=True)
        if "default" in run:
            f = run["default"]
            print(f"{'':>14}default train (one machine): {f.get('train_seconds', 0):6.1f} s, "
                  f"peak {f.get('peak_rss_gb', 0):.2f} GB, ROC-AUC {f.get('roc_auc', 0):.4f}",
                  flush=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"written to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
