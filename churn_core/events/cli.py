"""The ``build`` command: an order/event log to the training and scoring tables (DuckDB)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from churn_core.cli_types import CommandHelpers, cutoffs, memory_limit, positive_int
from churn_core.events.build import build_tables
from churn_core.events.mapping import propose_mapping
from churn_core.events.staging import EngineSettings
from churn_core.events.types import ChurnDefinition
from churn_core.events.value_choice import MODES as VALUE_FEATURE_MODES
from churn_core.outputs import output_path
from churn_core.reading.table import ReadOptions

log = logging.getLogger("churn_core")


def cmd_build(args: argparse.Namespace, h: CommandHelpers) -> int:
    """Build the labelled training table, the scoring table and summary.json."""
    out = output_path(args.out, inputs=(args.events,), directory=True)
    decimal = None if args.decimal_comma is None else tuple(
        c.strip() for c in args.decimal_comma.split(",") if c.strip())
    read = ReadOptions(encoding=args.encoding, delimiter=args.delimiter, sheet=args.sheet,
                       header_row=args.header_row)
    mapping = propose_mapping(args.events, overrides=args.mapping, read=read,
                              decimal_comma=decimal, timestamp_format=args.timestamp_format)
    for p in mapping.problems:
        log.info("%s %s", p.code, p.message)
    definition = ChurnDefinition(window_days=args.window, active_days=args.active,
                                 lead_days=args.lead, cutoffs=cutoffs(args.cutoffs))
    engine = EngineSettings(memory_limit=args.memory_limit, threads=args.threads)
    result = build_tables(args.events, mapping, definition, out_dir=out, engine=engine,
                          drop_duplicates=not args.keep_duplicates,
                          value=not args.no_value, value_features=args.value_features,
                          partitioned=args.partitioned,
                          progress=h.progress)
    for p in result.problems:
        if p.severity != "info":
            log.warning("%s %s", p.code, p.message)
    h.echo(f"mapping: {mapping.to_string()}")
    for row in result.summary.get("dropped", []):
        h.echo(f"left out: {row['count']:,} lines ({row['reason']})")
    h.echo(f"{'cutoff':12} {'customers':>10} {'churned':>8} {'rate':>6}  used for")
    for c in result.summary.get("cutoffs", []):
        rate = "" if c.get("churn_rate") is None else f"{c['churn_rate']:.1%}"
        churned = "" if c.get("churned") is None else f"{c['churned']:,}"
        h.echo(f"{c['cutoff']:12} {c['active_customers']:>10,} {churned:>8} {rate:>6}  "
              f"{c.get('used_for', '')}")
    plan = result.summary["cutoff_plan"]
    train = plan["train_cutoffs"]
    h.echo(f"cutoffs: {plan['frequency']} ({plan['reason']})")
    if train:
        h.echo(f"backtest: test cutoff {plan['test_cutoff']}; training cutoffs {train[0]} to "
              f"{train[-1]} ({len(train)}), whose churn windows end by the test cutoff")
    choice = result.summary.get("value_features") or {}
    if choice.get("reason"):
        h.echo(choice["reason"])
    worth = (result.summary.get("customer_value") or {}).get("column")
    h.echo(f"customer value: {worth + ' (expected spend over the next year)' if worth else 'none'}")
    h.echo(f"training rows: {len(result.training):,}; customers to score: "
          f"{len(result.scoring):,}; written to {args.out}")
    if args.partitioned:
        h.echo(f"Parquet folders for --engine dask: {Path(args.out) / 'training'}, "
              f"{Path(args.out) / 'scoring'}")
    return 0


def add_build_parser(sub: Any, h: CommandHelpers, *,
                     add_read_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``build`` to the main parser's subcommands."""
    p = sub.add_parser("build", help="build churn tables from a raw order/event log")
    p.add_argument("events", help="CSV/TSV/TXT (any encoding, optionally .gz), .xlsx or "
                   "Parquet event log")
    p.add_argument("--out", required=True, help="directory for training.parquet, "
                   "scoring.parquet and summary.json")
    p.add_argument("--window", type=int, default=90, help="churn window W in days")
    p.add_argument("--active", type=int, default=365, help="active in the last L days")
    p.add_argument("--lead", type=int, default=0, help="lead time G in days")
    p.add_argument("--cutoffs", default="auto",
                   help="auto (month ends, or every 14/7 days when the log is too short "
                   "for a backtest by time), monthly, biweekly, weekly, or DATE,DATE,...")
    p.add_argument("--mapping", default=None, help="column roles: col=role,col=role")
    add_read_args(p)
    p.add_argument("--header-row", type=int, default=None,
                   help="0-based line of the header (default: detected)")
    p.add_argument("--decimal-comma", default=None, metavar="COLS",
                   help="columns written with a decimal comma, COL,COL ('' for none; "
                   "default: detected)")
    p.add_argument("--timestamp-format", default=None,
                   help="strptime format, epoch_s, epoch_ms, epoch_us, epoch_ns or iso_utc "
                   "(default: detected)")
    p.add_argument("--memory-limit", type=memory_limit, default=EngineSettings.memory_limit,
                   help="DuckDB memory cap, e.g. 3GB or 800MB (larger work spills to disk; "
                   "default %(default)s)")
    p.add_argument("--threads", type=positive_int, default=None,
                   help="DuckDB worker threads (default: every available core)")
    p.add_argument("--keep-duplicates", action="store_true",
                   help="count lines identical in every mapped column as separate events "
                   "(default: leave them out, with a count; also faster on large logs)")
    p.add_argument("--value-features", nargs="?", const="keep", default="auto",
                   choices=list(VALUE_FEATURE_MODES),
                   help="BG/NBD's probability alive, expected orders and spend in the churn "
                   "window (fitted at each cutoff) as churn features: auto (default) keeps them "
                   "when they raise the backtest's ROC-AUC by 0.002 or more, keep, or off")
    p.add_argument("--no-value", action="store_true",
                   help="skip the customer_value column (expected spend over the next year "
                   "from BG/NBD and Gamma-Gamma; train uses it as each customer's value)")
    p.add_argument("--partitioned", action="store_true",
                   help="also write the tables as folders of Parquet files (training/: one "
                   "per cutoff; scoring/) for train/score --engine dask")
    p.set_defaults(func=partial(cmd_build, h=h))
