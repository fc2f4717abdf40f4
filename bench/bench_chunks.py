"""Benchmark: ``score`` on 10M customers, read and scored in pieces, peak memory.

Run::

    nice .venv/bin/python -m bench.bench_chunks                # 10M customers
    .venv/bin/python -m bench.bench_chunks --rows 1e6         # a quick look

One simulation (``simulate_large(train + rows, n_features=30, seed=0)``) gives a training
file (``--train-rows``, default 200k) and a fresh file of ``--rows`` other customers
(written in slices, ``churn`` removed). A bundle is trained with
``python -m churn_core train --cv 2 --no-search`` (not timed: the model only has to
exist), then ``python -m churn_core score BUNDLE fresh.csv --out scored.csv`` runs with
its defaults: files of 256 MB and more are scored in 128 MB pieces. Recorded: wall and CPU
time, the peak RSS of the process tree (sampled every 50 ms), rows written, the fresh
file's size, the machine's load. Results go to ``bench/results/chunks.json`` and ``.csv``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from bench.bench_cli import run_step
from bench.common import machine, parse_sizes, print_table, write_results

N_FEATURES = 30
SEED = 0
SLICE = 1_000_000


def make_files(rows: int, train_rows: int, work: Path) -> tuple[Path, Path]:
    """The training file and the fresh file (no label), from one simulation."""
    from churn_core.simulate import simulate_large

    work.mkdir(parents=True, exist_ok=True)
    train, fresh = work / f"train_{train_rows}.csv", work / f"fresh_{rows}.csv"
    if train.is_file() and fresh.is_file():
        return train, fresh
    both = simulate_large(train_rows + rows, n_features=N_FEATURES, seed=SEED)
    both.iloc[:train_rows].to_csv(train, index=False)
    later = both.iloc[train_rows:].drop(columns=["churn"])
    del both
    with open(fresh, "w", encoding="utf-8", newline="") as fh:
        for start in range(0, rows, SLICE):
            later.iloc[start:start + SLICE].to_csv(fh, index=False, header=start == 0)
    return train, fresh


def _lines(path: Path) -> int:
    """Line ends in a file, read in blocks."""
    count = 0
    with open(path, "rb") as fh:
        while block := fh.read(64 * 1024**2):
            count += block.count(b"\n")
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1e7", help="customers to score")
    parser.add_argument("--train-rows", default="2e5", help="customers to train on")
    parser.add_argument("--work", default="/tmp/churn-bench-chunks")
    parser.add_argument("--name", default="chunks")
    parser.add_argument("--keep", action="store_true", help="keep the files afterwards")
    args = parser.parse_args(argv)
    rows, train_rows = parse_sizes(args.rows)[0], parse_sizes(args.train_rows)[0]
    info = machine()
    print(f"load average {info['load_average']}, calibration {info['calibration']}", flush=True)
    work = Path(args.work)
    t0 = time.perf_counter()
    train, fresh = make_files(rows, train_rows, work)
    print(f"files ready in {time.perf_counter() - t0:.0f} s; fresh file "
          f"{fresh.stat().st_size / 1024**3:.2f} GiB", flush=True)
    bundle, scored = work / "bundle", work / "scored.csv"
    shutil.rmtree(bundle, ignore_errors=True)
    trained = run_step("train (not counted)", [sys.executable, "-m", "churn_core", "train",
                                               str(train), "--out", str(bundle), "--cv", "2",
                                               "--no-search"])
    if trained["returncode"] != 0:
        print(trained["output_tail"], file=sys.stderr)
        return 1
    step = run_step("score", [sys.executable, "-m", "churn_core", "score", str(bundle),
                              str(fresh), "--out", str(scored)])
    written = _lines(scored) - 1 if scored.is_file() else 0
    row = {"rows": rows, "file_gib": fresh.stat().st_size / 1024**3, "step": "score",
           "seconds": step["seconds"], "cpu_seconds": step["cpu_seconds"],
           "peak_rss_gb": step["peak_rss_gb"], "written": written,
           "ok": step["returncode"] == 0, "load": os.getloadavg()[0]}
    print(step["output_tail"])
    print_table([row], [("rows", "customers", ","), ("file_gib", "file GiB", ".2f"),
                        ("seconds", "wall", "time"), ("cpu_seconds", "CPU", "time"),
                        ("peak_rss_gb", "peak GiB", ".2f"), ("written", "written", ","),
                        ("load", "load", ".1f")])
    path = write_results(args.name, {"machine": info, "train": trained, "score": step,
                                     "row": row, "load_after": os.getloadavg()}, [row])
    print(f"written to {path}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if row["ok"] and written == rows else 1


if __name__ == "__main__":
    sys.exit(main())
