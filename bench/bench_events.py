"""Benchmark: event log -> point-in-time features and labels, DuckDB vs the obvious pandas way.

Run on its own::

    .venv/bin/python -m bench.bench_events --sizes 1e6,1e7,1e8

For each size (and line order) it generates a synthetic log, 1 % of its lines
exact duplicates as in real exports, to
``bench/data/events_<n>_<order>_dups10pm.parquet``
in chunks (never the whole log in memory; reused when present), then runs
each engine in a fresh child process (so peak RSS is that engine's alone):
DuckDB through ``churn_core.events.build_tables`` and, up to ``--pandas-max``
events, the same features with pandas groupbys (both drop the duplicates).
``--with-kept`` also runs DuckDB keeping the duplicates: the cost of removing
them. Results go to ``bench/results/events.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
RESULTS = ROOT / "bench" / "results" / "events.json"
START = date(2022, 1, 1)
DAYS = 730
CUTOFFS = ("2022-09-30", "2022-10-31", "2022-11-30", "2022-12-31", "2023-03-31")
#: share of lines that are exact copies of another line of their chunk (UCI Online Retail: 1.0 %)
DUP_SHARE = 0.01
EVENT_TYPES = np.array(["view", "cart", "purchase", "return", "review"])
EVENT_P = np.array([0.55, 0.2, 0.18, 0.02, 0.05])
MAPPING = ("customer_id=customer_id,ts=timestamp,event_type=event_type,order_id=order_id,"
           "product=product,category=category,quantity=quantity,unit_price=unit_price,"
           "rating=rating,country=static")


def log_path(n: int, order: str) -> Path:
    """Where the generated log of ``n`` events in ``order`` is kept (named by its duplicates)."""
    return DATA / f"events_{n}_{order}_dups{DUP_SHARE * 1000:.0f}pm.parquet"


def generate(n: int, path: Path, *, order: str = "time", events_per_customer: int = 100,
             seed: int = 42, chunk: int = 2_000_000, dup_share: float = DUP_SHARE) -> None:
    """Write ``n`` synthetic events to Parquet, ``chunk`` rows at a time.

    ``order="time"``: lines in time order, as real logs are appended (each chunk
    covers the next slice of the two years). ``order="random"``: every chunk
    spans the whole two years in random order, the worst case for aggregation.
    ``dup_share`` of each chunk's lines are exact copies of other lines of the
    chunk, as exports of real logs have (the copy follows its line in time order).
    """
    rng = np.random.default_rng(seed)
    n_cust = max(n // events_per_customer, 100)
    customers = pa.array([f"C{i:08d}" for i in range(n_cust)])
    weights = rng.pareto(1.5, n_cust) + 0.2
    weights /= weights.sum()
    start = rng.integers(0, DAYS - 30, n_cust)
    life = rng.integers(30, DAYS, n_cust)          # customers stop at different times
    end = np.minimum(start + life, DAYS)
    countries = pa.array([f"country_{i}" for i in range(20)])
    country_of = rng.integers(0, 20, n_cust)
    products = pa.array([f"P{i:05d}" for i in range(5000)])
    t0 = np.datetime64(START.isoformat(), "us").astype(np.int64)
    schema = pa.schema([
        ("customer_id", pa.string()), ("ts", pa.timestamp("us")), ("event_type", pa.string()),
        ("order_id", pa.int64()), ("product", pa.string()), ("category", pa.string()),
        ("quantity", pa.int32()), ("unit_price", pa.float64()), ("rating", pa.float64()),
        ("country", pa.string())])
    tmp = path.with_suffix(".tmp")
    n_chunks = -(-n // chunk)
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for k, lo in enumerate(range(0, n, chunk)):
            size = min(chunk, n - lo)
            # sessions: a customer-day with ~5 events a few minutes apart (views, cart, order)
            n_sessions = size // 5 + 1
            if order == "time":
                # this chunk's slice of days; customers weighted by their days inside it
                a, b = DAYS * k / n_chunks, DAYS * (k + 1) / n_chunks
                first, last = np.maximum(start, a), np.minimum(end, b)
                p = weights * np.clip(last - first, 0, None)
                cust_s = rng.choice(n_cust, n_sessions, p=p / p.sum())
                day_s = np.floor(first[cust_s] + rng.random(n_sessions)
                                 * (last - first)[cust_s])
            else:
                cust_s = rng.choice(n_cust, n_sessions, p=weights)
                day_s = start[cust_s] + np.floor(rng.random(n_sessions) * (end - start)[cust_s])
            session = rng.integers(0, n_sessions, size)
            cust = cust_s[session]
            day = day_s[session] + rng.random(size) * 0.01
            if order == "time":
                by_time = np.argsort(day, kind="stable")
                cust, day = cust[by_time], day[by_time]
            ts = t0 + (day * 86_400e6).astype(np.int64)
            etype = rng.choice(len(EVENT_TYPES), size, p=EVENT_P)
            is_order = (etype == 2) | (etype == 3)
            prod = rng.integers(0, 5000, size)
            rating = np.where(etype == 4, rng.integers(1, 6, size), np.nan)
            order_ids = np.where(is_order, lo + np.arange(size), 0)
            batch = pa.record_batch([
                customers.take(pa.array(cust)), pa.array(ts, pa.timestamp("us")),
                pa.array(EVENT_TYPES[etype]),
                pa.array(order_ids, mask=~is_order), products.take(pa.array(prod)),
                pa.array(np.char.add("K", (prod % 50).astype(str))),
                pa.array(rng.integers(1, 6, size).astype(np.int32)),
                pa.array(np.round(rng.gamma(2.0, 10.0, size), 2)),
                pa.array(rating), countries.take(pa.array(country_of[cust]))], schema=schema)
            n_dups = round(dup_share * size)
            if n_dups:
                # the last n_dups lines become copies of earlier ones, placed right after them
                keep = size - n_dups
                rows = np.concatenate([np.arange(keep), rng.choice(keep, n_dups, replace=False)])
                batch = batch.take(pa.array(np.sort(rows, kind="stable")
                                            if order == "time" else rows))
            writer.write_batch(batch, row_group_size=1_000_000)
    tmp.rename(path)


def run_duckdb(path: Path, memory_limit: str, threads: int, *,
               drop_duplicates: bool = True) -> dict:
    """Build training + scoring tables with churn_core.events (DuckDB)."""
    from churn_core.events import (
        ChurnDefinition,
        EngineSettings,
        EventMapping,
        build_tables,
        prepare_log,
    )

    definition = ChurnDefinition(cutoffs=CUTOFFS)
    engine = EngineSettings(memory_limit=memory_limit, threads=threads)
    t = time.perf_counter()
    log = prepare_log(path, EventMapping.from_string(MAPPING), engine=engine,
                      drop_duplicates=drop_duplicates)
    staged = time.perf_counter() - t
    out = DATA / f"out_{path.stem}{'' if drop_duplicates else '_kept'}"
    result = build_tables(log, definition=definition, out_dir=out)
    total = time.perf_counter() - t
    check = result.training.groupby("cutoff")[["orders_90d", "days_since_last_order"]].sum()
    dups = sum(d["count"] for d in result.summary["dropped"] if d["code"] == "EVENTS_DUPLICATES")
    return {"seconds": total, "staging_seconds": staged, "training_rows": len(result.training),
            "duplicates_dropped": dups,
            "scoring_rows": len(result.scoring), "features": len(result.feature_labels),
            "churn_rate": float(result.training["churned"].mean()),
            "check": check.reset_index().astype(str).to_dict("records")}


def run_pandas(path: Path) -> dict:
    """The same core features the obvious pandas way: load, dedupe, groupby per cutoff."""
    import pandas as pd

    t = time.perf_counter()
    df = pd.read_parquet(path).drop_duplicates()
    df["day"] = df["ts"].dt.normalize()
    df["is_return"] = df["event_type"].eq("return")
    df["is_order"] = df["event_type"].eq("purchase")
    df["money"] = df["quantity"].abs() * df["unit_price"]
    last = df["day"].max()
    parts = []
    for cutoff in [*(pd.Timestamp(c) for c in CUTOFFS if pd.Timestamp(c) + pd.Timedelta(
            days=90) <= last), last]:
        h = df[df["day"] <= cutoff]
        orders = h[h["is_order"]].drop_duplicates(["customer_id", "day", "order_id"])
        g = orders.groupby("customer_id")
        out = pd.DataFrame({"last_order": g["day"].max()})
        out = out[out["last_order"] > cutoff - pd.Timedelta(days=365)]
        out["days_since_last_order"] = (cutoff - out["last_order"]).dt.days
        out["tenure_days"] = (cutoff - h.groupby("customer_id")["day"].min()).dt.days
        for w in (30, 90, 180, 365):
            recent = orders[orders["day"] > cutoff - pd.Timedelta(days=w)]
            rg = recent.groupby("customer_id")
            out[f"orders_{w}d"] = rg.size().reindex(out.index, fill_value=0)
            money = h[h["is_order"] & (h["day"] > cutoff - pd.Timedelta(days=w))]
            out[f"revenue_{w}d"] = money.groupby("customer_id")["money"].sum().reindex(
                out.index, fill_value=0)
        days = orders[["customer_id", "day"]].drop_duplicates().sort_values(["customer_id", "day"])
        days["gap"] = days.groupby("customer_id")["day"].diff().dt.days
        gaps = days.groupby("customer_id")["gap"]
        out["mean_days_between_orders"] = gaps.mean()
        out["std_days_between_orders"] = gaps.std()
        out["overdue_ratio"] = out["days_since_last_order"] / out["mean_days_between_orders"]
        rets = h[h["is_return"]].groupby("customer_id")["order_id"].nunique()
        n_ord = g.size()
        out["return_rate"] = rets.reindex(out.index, fill_value=0) / (
            n_ord + rets.reindex(n_ord.index, fill_value=0))
        out["distinct_products"] = orders.groupby("customer_id")["product"].nunique()
        counts = h[h["day"] > cutoff - pd.Timedelta(days=90)].groupby(
            ["customer_id", "event_type"]).size().unstack(fill_value=0)
        out = out.join(counts.add_prefix("events_"), how="left")
        out["avg_rating"] = h.groupby("customer_id")["rating"].mean()
        out["country"] = h.sort_values("ts").groupby("customer_id")["country"].last()
        future = df[df["is_order"] & (df["day"] > cutoff)
                    & (df["day"] <= cutoff + pd.Timedelta(days=90))]["customer_id"].unique()
        out["churned"] = (~out.index.isin(future)).astype(int)
        out["cutoff"] = cutoff
        parts.append(out.reset_index())
    training = pd.concat(parts[:-1], ignore_index=True)
    return {"seconds": time.perf_counter() - t, "training_rows": len(training),
            "scoring_rows": len(parts[-1]), "churn_rate": float(training["churned"].mean())}


def child(engine: str, path: Path, memory_limit: str, threads: int) -> None:
    """Run one engine and print its result with this process's peak RSS as JSON."""
    stop = {"rss": 0}
    if engine == "pandas":
        out = run_pandas(path)
    else:
        out = run_duckdb(path, memory_limit, threads, drop_duplicates=engine == "duckdb")
    stop["rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # Linux: KiB
    out["peak_rss_gb"] = stop["rss"] / 1024**3
    print("RESULT " + json.dumps(out))


def measure(engine: str, path: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", engine, "--path", str(path),
           "--memory-limit", args.memory_limit, "--threads", str(args.threads)]
    # the machine may be shared: the 1-minute load average before and after says how much
    load = {"load_before": os.getloadavg()[0]}
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    load["load_after"] = os.getloadavg()[0]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr or proc.stdout)[-2000:], "wall_seconds": wall} | load
    return json.loads(lines[-1][7:]) | {"wall_seconds": wall} | load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e6,1e7", help="comma-separated event counts")
    parser.add_argument("--pandas-max", type=float, default=1e7,
                        help="largest size run with pandas as well")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory_limit")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--order", default="time",
                        help="line order of the generated logs: time (as real logs are "
                             "appended), random (the worst case), or time,random for both")
    parser.add_argument("--with-kept", action="store_true",
                        help="also run DuckDB with exact duplicates kept (the cost of removing "
                             "them; --keep-duplicates of the command line)")
    parser.add_argument("--child", choices=["duckdb", "duckdb_kept", "pandas"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.path, args.memory_limit, args.threads)
        return
    DATA.mkdir(parents=True, exist_ok=True)
    results = []
    print(f"{'events':>12} {'order':>6} {'gen s':>7} {'file MB':>8} {'duckdb s':>9} "
          f"{'duckdb GB':>10} {'kept s':>7} {'pandas s':>9} {'pandas GB':>10} {'speedup':>8} "
          f"{'load':>5}")
    runs = [(int(float(s)), o) for s in args.sizes.split(",") for o in args.order.split(",")]
    for size, order in runs:
        path = log_path(size, order)
        t = time.perf_counter()
        if not path.exists():
            generate(size, path, order=order)
        gen = time.perf_counter() - t
        row = {"events": size, "order": order, "generate_seconds": gen,
               "file_mb": path.stat().st_size / 1e6,
               "memory_limit": args.memory_limit, "threads": args.threads,
               "duckdb": measure("duckdb", path, args)}
        if args.with_kept:
            row["duckdb_kept"] = measure("duckdb_kept", path, args)
        if size <= args.pandas_max:
            row["pandas"] = measure("pandas", path, args)
        else:
            row["pandas"] = {"skipped": f"{size:,} events exceed --pandas-max "
                                        f"{args.pandas_max:,.0f}: the whole log and its "
                                        "copies would not fit in memory"}
        d, p = row["duckdb"], row["pandas"]
        speed = (p["seconds"] / d["seconds"]) if "seconds" in p and "seconds" in d else None
        row["speedup"] = speed
        results.append(row)

        def fmt(r: dict, key: str, spec: str) -> str:
            return format(r[key], spec) if key in r else "-".rjust(int(spec.split(".")[0]))
        print(f"{size:>12,} {order:>6} {gen:>7.1f} {row['file_mb']:>8.0f} "
              f"{fmt(d, 'seconds', '9.1f')} {fmt(d, 'peak_rss_gb', '10.2f')} "
              f"{fmt(row.get('duckdb_kept', {}), 'seconds', '7.1f')} "
              f"{fmt(p, 'seconds', '9.1f')} {fmt(p, 'peak_rss_gb', '10.2f')} "
              f"{(f'{speed:.1f}x' if speed else '-'):>8} {fmt(d, 'load_before', '5.1f')}")
        for name in ("duckdb", "duckdb_kept", "pandas"):
            if "error" in row.get(name, {}):
                print(f"  {name} failed: {row[name]['error'][-500:]}")
            elif "skipped" in row.get(name, {}):
                print(f"  {name} skipped: {row[name]['skipped']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    # sizes not run this time keep their last result (each row names its memory limit)
    done = {(r["events"], r["order"]) for r in results}
    if RESULTS.exists():
        kept = [r for r in json.loads(RESULTS.read_text())["results"]
                if (r["events"], r.get("order", "random")) not in done]
        results = sorted(kept + results, key=lambda r: (r["events"], r.get("order", "random")))
    RESULTS.write_text(json.dumps({
        "machine": {"python": platform.python_version(), "cpus": args.threads,
                    "memory_limit": args.memory_limit},
        "cutoffs": list(CUTOFFS), "window_days": 90, "date": str(date.today()),
        "start": START.isoformat(), "end": (START + timedelta(days=DAYS)).isoformat(),
        "results": results}, indent=2))
    print(f"results written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
