"""Run every benchmark and write one summary table and chart.

Run::

    .venv/bin/python -m bench.run_all            # pipeline + interactive at 1e5,1e6; events 1e6
    .venv/bin/python -m bench.run_all --full     # events at every size of its own default
    .venv/bin/python -m bench.run_all --summary-only   # rebuild the summary from results/

Each benchmark runs as its own script (and so in its own processes) and writes
its own results file; this script then reads ``pipeline.json``,
``interactive.json`` and ``events.json`` from ``bench/results/`` and writes
``summary.json``, ``summary.csv`` and ``summary.html`` (plotly).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT, machine, print_table, write_results

BENCH = ROOT / "bench"
EVENTS_SMALLEST = "1e6"


def _run(script: str, *extra: str) -> int:
    cmd = [sys.executable, "-m", f"bench.{Path(script).stem}", *extra]
    print(f"\n$ {' '.join(cmd[1:])}", flush=True)
    return subprocess.run(cmd, cwd=ROOT).returncode


def _load(name: str) -> dict[str, Any] | None:
    """``<name>.json``, with the results of ``<name>_*.json`` runs (one size each) added."""
    path = RESULTS / f"{name}.json"
    payload = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    for extra in sorted(RESULTS.glob(f"{name}_*.json")):
        part = json.loads(extra.read_text(encoding="utf-8"))
        if payload is None:
            payload = {**part, "results": []}
        payload["results"] += [{**r, "run": extra.stem} for r in part.get("results", [])]
    return payload


def summary_rows() -> list[dict[str, Any]]:
    """One row per (benchmark, size, measure) from the result files present."""
    rows: list[dict[str, Any]] = []
    pipe = _load("pipeline")
    for r in (pipe or {}).get("results", []):
        for who in ("ours", "obvious"):
            res = r.get(who, {})
            if "total_seconds" not in res:
                continue
            note = "SHAP extrapolated from a sample" if res.get("shap_extrapolated") else ""
            rows.append({"benchmark": "pipeline", "run": r.get("run", "pipeline"),
                         "size": r["rows"], "measure": f"{who} total",
                         "seconds": res["total_seconds"],
                         "cpu_seconds": res.get("total_cpu_seconds"),
                         "peak_gb": max(res["peak_rss_gb"], res["vmhwm_gb"]),
                         "ratio": r.get("ratio") if who == "ours" else None,
                         "ratio_cpu": r.get("ratio_cpu") if who == "ours" else None,
                         "note": note})
            for s in res["steps"]:
                if s["counted"]:
                    rows.append({"benchmark": "pipeline", "run": r.get("run", "pipeline"),
                                 "size": r["rows"], "measure": f"{who}: {s['name']}",
                                 "seconds": s["seconds"],
                                 "cpu_seconds": s.get("cpu_seconds"),
                                 "peak_gb": s["peak_rss_gb"], "ratio": None, "note": s["note"]})
    inter = _load("interactive")
    for r in (inter or {}).get("results", []):
        for i in r.get("interactions", []):
            rows.append({"benchmark": "interactive", "run": r.get("run", "interactive"),
                         "size": r["rows"],
                         "measure": i["interaction"], "seconds": i["median_s"],
                         "peak_gb": None, "ratio": None,
                         "note": (f"{i['payload_kb']:.0f} KB JSON" if i.get("payload_kb")
                                  else i.get("note", ""))})
    events = _load("events")
    for r in (events or {}).get("results", []):
        for engine in ("duckdb", "duckdb_kept", "pandas"):
            res = r.get(engine, {})
            if "seconds" in res:
                rows.append({"benchmark": "events",
                             "run": f"events ({r.get('order', 'random')} order)",
                             "size": r["events"],
                             "measure": engine.replace("_kept", " (duplicates kept)"),
                             "seconds": res["seconds"], "peak_gb": res.get("peak_rss_gb"),
                             "ratio": r.get("speedup") if engine == "duckdb" else None,
                             "note": ""})
    return rows


def write_chart(rows: list[dict[str, Any]], path: Path) -> None:
    """Two panels: end-to-end totals (ours vs obvious), and interactive medians."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "End to end: train + explain + export (s, log)", "Interactive paths, median (ms, log)"))
    for who, color in (("ours", "#d62728"), ("obvious", "#7f7f7f")):
        part = [r for r in rows if r["benchmark"] == "pipeline" and r["measure"] == f"{who} total"]
        fig.add_trace(go.Bar(x=[f"{r['size']:,} ({r['run']})" for r in part],
                             y=[r["seconds"] for r in part],
                             name=who, marker_color=color,
                             text=[f"{r['seconds']:.0f} s, {r['peak_gb']:.1f} GB" for r in part],
                             hovertext=[r["note"] for r in part]), row=1, col=1)
    inter = [r for r in rows if r["benchmark"] == "interactive"
             and not r["measure"].startswith("chart:")]
    for size in sorted({r["size"] for r in inter}):
        part = [r for r in inter if r["size"] == size]
        fig.add_trace(go.Bar(y=[r["measure"] for r in part],
                             x=[r["seconds"] * 1000 for r in part], orientation="h",
                             name=f"{size:,} customers"), row=1, col=2)
    fig.add_vline(x=100, line_dash="dot", line_color="#2ca02c", row=1, col=2,
                  annotation_text="100 ms goal")
    fig.update_yaxes(type="log", row=1, col=1)
    fig.update_xaxes(type="log", row=1, col=2)
    fig.update_layout(template="plotly_white", height=650, barmode="group",
                      title="churn-radar benchmarks (bench/results/summary.csv)")
    fig.write_html(path, include_plotlyjs="cdn")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1e5,1e6", help="customer counts")
    parser.add_argument("--full", action="store_true", help="events at all its default sizes")
    parser.add_argument("--threads", default="0", help="OMP_NUM_THREADS for the children")
    parser.add_argument("--summary-only", action="store_true")
    args = parser.parse_args()
    failed = []
    if not args.summary_only:
        if _run("bench_pipeline.py", "--sizes", args.sizes, "--threads", args.threads):
            failed.append("bench_pipeline")
        if _run("bench_interactive.py", "--sizes", args.sizes, "--threads", args.threads):
            failed.append("bench_interactive")
        if (BENCH / "bench_events.py").exists():
            extra = ["--with-kept"] + ([] if args.full else ["--sizes", EVENTS_SMALLEST])
            if _run("bench_events.py", *extra):
                failed.append("bench_events")
    rows = summary_rows()
    write_results("summary", {"benchmark": "summary", "machine": machine(), "rows": rows},
                  rows)
    write_chart(rows, RESULTS / "summary.html")
    print_table(rows, [("benchmark", "benchmark", "s"), ("run", "run", "s"),
                       ("size", "size", ",d"),
                       ("measure", "measure", "s"), ("seconds", "time", "time"),
                       ("cpu_seconds", "CPU", "time"),
                       ("peak_gb", "peak GB", ".2f"), ("ratio", "ratio", ".1f"),
                       ("ratio_cpu", "CPU ratio", ".1f")])
    print(f"\nsummary written to {RESULTS.relative_to(ROOT)}/summary.json, .csv and .html")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
