"""The ``clv`` command of ``python -m churn_core``: customer value from an order/event log.

Kept apart from ``churn_core/__main__.py``, which passes in its shared helpers; it writes to
standard output (the fitted parameters as JSON) only through the ``echo`` it is given.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from churn_core.cli_types import CommandHelpers
from churn_core.events.mapping import propose_mapping
from churn_core.export import to_csv_bytes
from churn_core.reading.table import ReadOptions
from churn_core.value.events import value_from_log

log = logging.getLogger("churn_core")


def cmd_clv(args: argparse.Namespace, h: CommandHelpers) -> int:
    """Fit BG/NBD and Gamma-Gamma on an event log; print the parameters, write the table."""

    read = ReadOptions(encoding=args.encoding, delimiter=args.delimiter, sheet=args.sheet)
    mapping = propose_mapping(args.events, overrides=args.mapping, read=read)
    result = value_from_log(args.events, calibration_end=args.calibration_end,
                            time_unit=args.time_unit, horizon_days=args.horizon,
                            mapping=mapping, drop_duplicates=not args.keep_duplicates,
                            progress=h.progress)
    for p in result.problems:
        if p.severity != "info":
            log.warning("%s %s", p.code, p.message)
    if result.models.gamma_gamma is None:
        log.warning("no spend model: %s", result.models.gamma_gamma_note)
    text = json.dumps(result.to_dict(), indent=2)
    h.echo(text)
    if args.json:
        Path(args.json).write_text(text + "\n", encoding="utf-8")
    if args.out:
        Path(args.out).write_bytes(to_csv_bytes(result.table))
        log.info("per-customer values (%d customers) written to %s", len(result.table), args.out)
    return 0


def add_clv_parser(sub: Any, h: CommandHelpers, *,
                   add_read_args: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``clv`` to the main parser's subcommands."""
    p = sub.add_parser("clv", help="customer value from an order/event log (BG/NBD, Gamma-Gamma)")
    p.add_argument("events", help="event log, read like build's")
    p.add_argument("--calibration-end", required=True, metavar="DATE",
                   help="last day the models learn from (YYYY-MM-DD)")
    p.add_argument("--time-unit", choices=["day", "week"], default="week")
    p.add_argument("--horizon", type=float, default=90.0,
                   help="days ahead for expected purchases and value (default 90)")
    p.add_argument("--json", help="also write the fitted parameters to this JSON file")
    p.add_argument("--out", help="CSV of the per-customer values to write")
    p.add_argument("--mapping", default=None, help="column roles: col=role,col=role")
    p.add_argument("--keep-duplicates", action="store_true",
                   help="count identical lines as separate orders")
    add_read_args(p)
    p.set_defaults(func=partial(cmd_clv, h=h))
