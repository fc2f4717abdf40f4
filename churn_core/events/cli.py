"""``python -m churn_core build``: an event log to training and scoring tables."""

from __future__ import annotations

import argparse
import logging

from churn_core.events.build import build_tables
from churn_core.events.labels import ChurnDefinition
from churn_core.events.mapping import propose_mapping

log = logging.getLogger("churn_core")


def _cutoffs(text: str) -> str | list[str]:
    return "monthly" if text == "monthly" else [d.strip() for d in text.split(",") if d.strip()]


def cmd_build(args: argparse.Namespace) -> int:
    """Build the labelled training table, the scoring table and summary.json."""
    mapping = propose_mapping(args.events, overrides=args.mapping)
    for p in mapping.problems:
        log.info("%s %s", p.code, p.message)
    definition = ChurnDefinition(window_days=args.window, active_days=args.active,
                                 lead_days=args.lead, cutoffs=_cutoffs(args.cutoffs))
    result = build_tables(args.events, mapping, definition, out_dir=args.out,
                          progress=lambda f, m: log.info("[%3.0f%%] %s", 100 * f, m))
    for p in result.problems:
        if p.severity != "info":
            log.warning("%s %s", p.code, p.message)
    print(f"mapping: {mapping.to_string()}")
    for row in result.summary.get("dropped", []):
        print(f"left out: {row['count']:,} lines ({row['reason']})")
    print(f"{'cutoff':12} {'customers':>10} {'churned':>8} {'rate':>6}  used for")
    for c in result.summary.get("cutoffs", []):
        rate = "" if c.get("churn_rate") is None else f"{c['churn_rate']:.1%}"
        churned = "" if c.get("churned") is None else f"{c['churned']:,}"
        print(f"{c['cutoff']:12} {c['active_customers']:>10,} {churned:>8} {rate:>6}  "
              f"{c.get('used_for', '')}")
    print(f"training rows: {len(result.training):,}; customers to score: "
          f"{len(result.scoring):,}; written to {args.out}")
    return 0


def add_build_parser(sub: argparse._SubParsersAction) -> None:
    """Register the ``build`` command on the main parser."""
    p = sub.add_parser("build", help="build churn tables from a raw order/event log")
    p.add_argument("events", help="CSV, CSV.gz or Parquet event log")
    p.add_argument("--out", required=True, help="directory for training.parquet, "
                   "scoring.parquet and summary.json")
    p.add_argument("--window", type=int, default=90, help="churn window W in days")
    p.add_argument("--active", type=int, default=365, help="active in the last L days")
    p.add_argument("--lead", type=int, default=0, help="lead time G in days")
    p.add_argument("--cutoffs", default="monthly", help="'monthly' or DATE,DATE,...")
    p.add_argument("--mapping", default=None, help="column roles: col=role,col=role")
    p.set_defaults(func=cmd_build)
