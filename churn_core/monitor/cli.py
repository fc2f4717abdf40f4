"""The monitoring commands of ``python -m churn_core``: monitor, outcomes, retrain.

Kept apart from ``churn_core/__main__.py``, which passes in its shared helpers
(problem printing, read options, progress, and ``echo``: it writes to standard output
only through that).
``monitor`` exits 3 when there is something to report (drift, or ROC-AUC under
``--min-auc``).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from functools import partial
from typing import Any

from churn_core.bundle import load_bundle, save_bundle
from churn_core.cli_types import CommandHelpers
from churn_core.model import TrainConfig
from churn_core.monitor.outcomes import record_outcomes
from churn_core.monitor.report import write_report
from churn_core.monitor.retrain import retrain
from churn_core.monitor.runs import ensure_schema, record_retrain
from churn_core.monitor.service import manifest_reference, model_hash, monitor
from churn_core.monitor.webhook import post_json
from churn_core.reading.table import read_table
from churn_core.store import open_store

EXIT_ALERT = 3


def cmd_monitor(args: argparse.Namespace, h: CommandHelpers) -> int:
    """Score fresh data, store the run, report drift and changes; 3 when there is an alert."""

    bundle = load_bundle(args.bundle)
    read = read_table(args.data, options=h.read_options(args))
    h.print_problems([p for p in read.problems if p.severity != "info"])
    reference = read_table(args.reference).frame if args.reference else None
    result = monitor(bundle, read.frame, conn=open_store(args.store),
                     reference=manifest_reference(args.bundle), reference_frame=reference,
                     min_auc=args.min_auc, progress=h.progress)
    r = result.report
    est = r["estimate"]
    h.echo(f"run {r['run_id']}{' (already stored: same model, same data)' if result.reused else ''}"
           f": {r['rows']:,} rows, {r['at_risk']:,} at risk at threshold {r['threshold']:.4f}")
    if est["roc_auc"] is not None:
        h.echo(f"estimated ROC-AUC {est['roc_auc']:.3f} ({est['roc_auc_low']:.3f}-"
               f"{est['roc_auc_high']:.3f})" + (f"; realised {r['realised']['roc_auc']:.3f}"
                                                if (r.get("realised") or {}).get("roc_auc")
                                                is not None else ""))
    if r.get("diff"):
        d = r["diff"]
        rho = "-" if d["spearman"] is None else f"{d['spearman']:.3f}"
        h.echo(f"since run {r['previous_run_id']}: {d['entered_count']:,} entered the at-risk "
               f"list ({d.get('entered_new_customers', 0):,} of them not in the previous run), "
               f"{d['left_count']:,} left; rank correlation {rho} over "
               f"{d['common_customers']:,} customers in both runs")
    h.echo("drift: " + (", ".join(r["drifted_features"]) or "none") if r.get("drift") else
           f"drift: {r.get('drift_note') or 'not measured'}")
    for alert in result.alerts:
        h.echo(f"ALERT   {alert}")
    if args.report:
        h.echo(f"report written to {write_report(args.report, r)}")
    if args.webhook and not result.reused:
        sent = post_json(args.webhook, r, timeout=args.webhook_timeout)
        h.echo(f"webhook: {'sent' if sent.ok else 'NOT sent (' + sent.error + ')'}")
    return EXIT_ALERT if result.alerts else 0


def cmd_outcomes(args: argparse.Namespace, h: CommandHelpers) -> int:
    """Record known outcomes for a stored run: realised figures replace the estimates."""

    read = read_table(args.data, options=h.read_options(args))
    conn = open_store(args.store)
    ensure_schema(conn)
    real = record_outcomes(conn, args.run_id, read.frame)
    auc = "-" if real.roc_auc != real.roc_auc else f"{real.roc_auc:.3f}"
    h.echo(f"run {args.run_id}: {real.rows:,} outcomes matched; realised ROC-AUC {auc}, "
           f"precision {real.precision:.3f}, recall {real.recall:.3f}")
    return 0


def cmd_retrain(args: argparse.Namespace, h: CommandHelpers) -> int:
    """Train a challenger on fresh labelled data; promote it to --out only when better."""

    champion = load_bundle(args.bundle)
    read = read_table(args.data, options=h.read_options(args))
    h.print_problems([p for p in read.problems if p.severity != "info"])
    config = TrainConfig(seed=args.seed, search=not args.no_search,
                         device=args.device)
    decision = retrain(champion, read.frame, config=config, holdout=args.holdout,
                       min_gain=args.min_gain, progress=h.progress)
    if decision.promoted:
        save_bundle(args.out, decision.challenger)
    conn = open_store(args.store)
    ensure_schema(conn)
    record_retrain(conn, champion_hash=model_hash(champion),
                   challenger_hash=model_hash(decision.challenger),
                   holdout_rows=decision.holdout_rows, champion_auc=decision.champion_auc,
                   challenger_auc=decision.challenger_auc, promoted=decision.promoted,
                   out_dir=str(args.out) if decision.promoted else None,
                   detail={"reason": decision.reason, "gain": decision.gain,
                           "gain_low": decision.gain_low, "gain_high": decision.gain_high,
                           "train_rows": decision.train_rows, "min_gain": decision.min_gain})
    h.echo(decision.reason)
    h.echo(f"PROMOTED: challenger written to {args.out}" if decision.promoted else
           "kept the champion: nothing written")
    return 0


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a share between 0 and 1")
    return value


def add_monitor_parsers(sub: Any, h: CommandHelpers, *,
                        add_read_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``monitor``, ``outcomes`` and ``retrain`` to the main parser's subcommands."""
    p = sub.add_parser("monitor", help="scheduled run: score, store, drift and changes "
                       "(exit 3 on an alert)")
    p.add_argument("bundle")
    p.add_argument("data")
    p.add_argument("--store", help="SQLite store (default: $CHURN_RADAR_HOME/churn_radar.db)")
    p.add_argument("--report", help="write the report here (.json, or .md for Markdown)")
    p.add_argument("--webhook", help="POST the JSON report to this http(s) address")
    p.add_argument("--webhook-timeout", type=float, default=5.0, help="seconds per attempt")
    p.add_argument("--min-auc", type=float, help="alert when ROC-AUC (realised, else "
                   "estimated) is under this")
    p.add_argument("--reference", help="training data to measure drift against (when the "
                   "bundle holds no reference profile)")
    add_read_args(p)
    p.set_defaults(func=partial(cmd_monitor, h=h))

    p = sub.add_parser("outcomes", help="record known outcomes for a stored monitoring run")
    p.add_argument("run_id")
    p.add_argument("data", help="table with the id and label columns")
    p.add_argument("--store", help="SQLite store (default: $CHURN_RADAR_HOME/churn_radar.db)")
    add_read_args(p)
    p.set_defaults(func=partial(cmd_outcomes, h=h))

    p = sub.add_parser("retrain", help="train a challenger on fresh labelled data and "
                       "promote it only when better")
    p.add_argument("bundle", help="the champion bundle")
    p.add_argument("data", help="fresh rows with outcomes")
    p.add_argument("--out", required=True, help="where to write the challenger if promoted")
    p.add_argument("--store", help="SQLite store for the decision (default: "
                   "$CHURN_RADAR_HOME/churn_radar.db)")
    p.add_argument("--holdout", type=_share, default=0.2, help="share held out for the "
                   "comparison (default %(default)s)")
    p.add_argument("--min-gain", type=float, default=0.0, help="ROC-AUC gain required")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--no-search", action="store_true", help="skip the small parameter search")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    add_read_args(p)
    p.set_defaults(func=partial(cmd_retrain, h=h))
