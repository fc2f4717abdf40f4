"""Command line: ``python -m churn_core COMMAND`` (``--help`` lists them).

This is the only module that writes to stdout; the library logs.

User mistakes print a readable message on stderr and exit with status 2;
never a traceback. Progress goes to stderr as log lines.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import xgboost as xgb

from churn_core.actions import load_action_rules
from churn_core.bundle import load_bundle, save_bundle
from churn_core.campaigns.cli import add_campaign_parsers
from churn_core.cli_text import format_problem, training_summary
from churn_core.cli_types import (
    CommandHelpers,
    amount,
    folds,
    positive_int,
    probability,
)
from churn_core.events.build import SCORING_FILE
from churn_core.events.cli import add_build_parser
from churn_core.events.modeling import event_overrides, is_event_table, read_summary
from churn_core.export import id_secret_from_env, pseudonymise, to_csv_bytes
from churn_core.model import TrainConfig
from churn_core.monitor.cli import add_monitor_parsers
from churn_core.outputs import output_path, write_file, writer_lock
from churn_core.pipeline import (
    CheckResult,
    build_splits,
    check_frame,
    customer_values,
    default_value_column,
    export_table,
    fit_all,
    make_bundle,
)
from churn_core.problems import (
    ChurnDataError,
    InvalidSetting,
    Problem,
    setting_problem,
)
from churn_core.reading.guarded import default_memory_mb, read_table_guarded
from churn_core.reading.table import ReadOptions, ReadResult, read_table
from churn_core.schema import SchemaOverrides
from churn_core.score import score_frame
from churn_core.score_chunks import score_csv_in_chunks, should_chunk
from churn_core.splits import Splits
from churn_core.threshold import Economics
from churn_core.value.cli import add_clv_parser

_STARTED = time.perf_counter()  # progress lines say the seconds since the command started
log = logging.getLogger("churn_core")
EXIT_USER = 2
AT_RISK_FILE = "at_risk.csv"
READ_TIMEOUT_S = 1800  # seconds a guarded read of DATA may take


def _progress(fraction: float, message: str) -> None:
    log.info("[%3.0f%% %6.1f s] %s", 100 * fraction, time.perf_counter() - _STARTED, message)


def _print_problems(problems: Sequence[Problem], stream=None) -> None:
    stream = stream or sys.stderr       # looked up per call, so redirections are honoured
    for p in problems:
        print(format_problem(p), file=stream)


def _read_options(args: argparse.Namespace, id_column: str | None = None) -> ReadOptions:
    """How to read DATA; the id column (``--id`` or the bundle's) is read exactly, as text."""
    return ReadOptions(encoding=args.encoding, delimiter=args.delimiter, sheet=args.sheet
                       ).with_id(id_column or getattr(args, "id", None))


def _read(path: str, options: ReadOptions) -> ReadResult:
    """Read a table in a child process with time and memory limits, as the dashboard does:
    a hostile or huge file ends with READ_TIMEOUT / READ_OUT_OF_MEMORY, exit 2."""
    if not Path(path).is_file():
        return read_table(path, options=options)  # FILE_NOT_FOUND, without a child
    return read_table_guarded(path, options=options, timeout_s=READ_TIMEOUT_S,
                              memory_mb=default_memory_mb())


def _overrides(args: argparse.Namespace) -> SchemaOverrides:
    return SchemaOverrides(id_column=args.id, label_column=args.label,
                           positive_value=args.positive)


@dataclass(frozen=True)
class Loaded:
    """A checked table and, for event-log builds, its time split and scoring table."""

    checked: CheckResult
    splits: Splits | None = None
    feature_labels: dict = field(default_factory=dict)
    scoring: pd.DataFrame | None = None
    as_of: str | None = None
    value_features: dict | None = None


def _load(args: argparse.Namespace) -> Loaded:
    """Read and check DATA; tables built from event logs get their roles, time split and
    the scoring table written beside them (the customers to act on)."""
    read = _read(args.data, _read_options(args))
    overrides = _overrides(args)
    event_table = is_event_table(read.frame) and not (args.label or args.id)
    summary = None
    if event_table:
        overrides = event_overrides(read.frame)
        # training needs the churn window of the build (a backtest must not look ahead)
        summary = read_summary(args.data, required=args.command == "train")
    checked = check_frame(read.frame, overrides=overrides, confirmed=args.confirm or (),
                          read=read)
    if not (event_table and checked.usable and checked.schema.label_column):
        return Loaded(checked)
    splits = build_splits(checked, summary, seed=getattr(args, "seed", 42))
    log.info("event table: backtest by time, test = latest cutoff (%d rows)", len(splits.test))
    # The customers to act on: the build's scoring table (one row per customer, last date).
    scoring_path = Path(args.data).parent / SCORING_FILE
    scoring = pd.read_parquet(scoring_path) if summary and scoring_path.is_file() else None
    return Loaded(checked, splits, dict((summary or {}).get("feature_labels", {})), scoring,
                  (summary or {}).get("scoring_date") if scoring is not None else None,
                  (summary or {}).get("value_features"))


def cmd_check(args: argparse.Namespace) -> int:
    """Print the validation report; 0 if the data can train a model, 2 if not."""
    checked = _load(args).checked
    s = checked.schema
    print(f"rows: {len(checked.dataset.frame):,}  columns: {checked.dataset.frame.shape[1]}")
    print(f"id column: {s.id_column or '-'}  label: {s.label_column or '-'} "
          f"(positive = {s.positive_label!r})")
    print(f"features: {len(s.features)} ({len(s.numeric)} numeric, {len(s.categorical)} "
          f"categorical, {len(s.datetime)} dates); excluded: {dict(s.excluded) or 'none'}")
    _print_problems([p for p in checked.problems if p.severity != "error"], stream=sys.stdout)
    # Errors go to stderr, so scripts that pipe the report still see why it is unusable.
    _print_problems([p for p in checked.problems if p.severity == "error"])
    print("usable: yes" if checked.usable else "usable: NO (see the errors on stderr)")
    return 0 if checked.usable else EXIT_USER


def _on_dask(args: argparse.Namespace) -> bool:
    """True for ``--engine dask``; ``--scheduler`` without it is refused."""
    if args.scheduler and args.engine != "dask":
        raise InvalidSetting("--scheduler needs --engine dask")
    return args.engine == "dask"


def _dask_command(args: argparse.Namespace) -> int:
    """Run ``train`` or ``score`` on Dask (``churn_core.distributed``, imported only here)."""
    from churn_core.distributed.cli import score_command, train_command

    helpers = CommandHelpers(print_problems=_print_problems, read_options=_read_options,
                             progress=_progress, echo=print)
    return (train_command if args.command == "train" else score_command)(args, helpers)


def cmd_train(args: argparse.Namespace) -> int:
    """Train on a table; write the bundle and the at-risk list of the customers to act on."""
    if _on_dask(args):
        return _dask_command(args)
    out = output_path(args.out, inputs=(args.data,), directory=True)
    if args.pseudonymise:
        id_secret_from_env()  # no key, no training: say so before the work
    rules = load_action_rules(args.actions) if args.actions else None
    loaded = _load(args)
    checked = loaded.checked
    if not checked.usable:
        _print_problems([p for p in checked.problems if p.severity == "error"])
        return EXIT_USER
    config = TrainConfig(seed=args.seed, cv_folds=args.cv, search=not args.no_search,
                         class_weight=args.class_weight, device=args.device)
    try:
        columns = [c.strip() for c in args.segment_columns.split(",") if c.strip()] \
            if args.segment_columns else None
        analysis = fit_all(checked.dataset, config=config, k=args.segments,
                           segment_features=columns,
                           feature_labels=loaded.feature_labels, splits=loaded.splits,
                           scoring=loaded.scoring, as_of=loaded.as_of, progress=_progress)
    except (ValueError, xgb.core.XGBoostError) as exc:  # e.g. too few churners to split
        raise ChurnDataError([Problem("TRAINING_FAILED", "error", str(exc).splitlines()[0],
                                      action="load more data or check the label")]) from None
    column = args.value_column or (default_value_column(analysis) if args.value is None
                                   else None)
    constant = Economics().value_retained if args.value is None else args.value
    values = customer_values(analysis, column=column, constant=constant)
    table = export_table(analysis, analysis.threshold.value, rules=rules, values=values)
    if args.pseudonymise:
        table = pseudonymise(table)
    bundle = make_bundle(analysis, value_features=loaded.value_features)
    # The list lives in the bundle folder, which is swapped in whole: never a new model
    # beside an old list.
    save_bundle(out, bundle, extra={AT_RISK_FILE: to_csv_bytes(table)})
    print("\n".join(training_summary(analysis, checked)))
    if loaded.value_features and loaded.value_features.get("reason"):
        print(loaded.value_features["reason"])
    print(f"bundle written to {args.out}")
    print(f"at-risk list: {len(table):,} of {len(analysis.population):,} customers to act on "
          f"({analysis.population.description}) written to {Path(out) / AT_RISK_FILE}; "
          f"customer value: {values.source}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """Score fresh data with a saved bundle."""
    if _on_dask(args):
        return _dask_command(args)
    out = output_path(args.out, inputs=(args.data, args.bundle))
    rules = load_action_rules(args.actions) if args.actions else None
    bundle = load_bundle(args.bundle)
    if should_chunk(args.data):
        return _score_in_chunks(args, bundle, rules, out)
    read = _read(args.data, _read_options(args, bundle.schema.id_column))
    _print_problems([p for p in read.problems if p.severity != "info"])
    try:
        result = score_frame(bundle, read.frame, threshold=args.threshold, top_n=args.top,
                             at_risk_only=args.at_risk_only, rules=rules, progress=_progress,
                             value=args.value_column or args.value,
                             explain_rows="all" if args.explain == "all" else "at_risk",
                             device=args.device)
    except (ValueError, xgb.core.XGBoostError) as exc:
        raise ChurnDataError([Problem("SCORING_FAILED", "error", str(exc).splitlines()[0],
                                      action="check the columns against the model's")]) from None
    _print_problems(result.problems)
    table = pseudonymise(result.table) if args.pseudonymise else result.table
    write_file(out, to_csv_bytes(table))
    # an at-risk-only table has no at_risk column (it would be true on every row)
    flagged = int(result.table["at_risk"].sum()) if "at_risk" in result.table else \
        len(result.table)
    print(f"scored {len(result.table):,} customers; {flagged:,} at risk at threshold "
          f"{result.threshold:.4f}; written to {args.out}")
    return 0


def _score_in_chunks(args: argparse.Namespace, bundle, rules, out: Path) -> int:
    """``score`` on a file too big to hold at once: read, score and write it in pieces."""
    done = score_csv_in_chunks(
        bundle, args.data, out, options=_read_options(args), threshold=args.threshold,
        top_n=args.top, at_risk_only=args.at_risk_only, rules=rules,
        value=args.value_column or args.value,
        explain_rows="all" if args.explain == "all" else "at_risk",
        transform_table=pseudonymise if args.pseudonymise else None, progress=_progress,
        device=args.device)
    _print_problems([p for p in done.problems if p.severity != "info"])
    print(f"scored {done.rows:,} customers in {done.pieces} pieces; {done.at_risk:,} at risk "
          f"at threshold {done.threshold:.4f}; written to {args.out}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Write the synthetic sample table."""
    from churn_core.simulate import simulate_customers

    out = output_path(args.out)
    frame = simulate_customers(args.n, seed=args.seed)
    write_file(out, frame.to_csv(index=False).encode("utf-8"))
    print(f"wrote {len(frame):,} synthetic customers to {args.out}")
    return 0


def _add_read_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--encoding", help="text encoding (default: detected)")
    p.add_argument("--delimiter", help="field delimiter (default: detected)")
    p.add_argument("--sheet", help="Excel sheet name (default: the first)")


def _add_actions_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--actions", metavar="FILE", help="reason-to-action rules, JSON or CSV "
                   "(default: the built-in rules; see sample_data/action_rules.json)")


def _add_pseudonymise_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--pseudonymise", action="store_true",
                   help="replace customer ids in the written list by keyed pseudonyms "
                   "(HMAC-SHA256; the key comes from CHURN_RADAR_ID_SECRET, 16+ characters)")


def _add_value_args(p: argparse.ArgumentParser, *, default_help: str) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--value", type=amount, default=None,
                   help="what a kept customer is worth, the same for everyone (default: "
                   + default_help + "); gives customer_value and value_at_risk in the list")
    g.add_argument("--value-column", metavar="COL",
                   help="a numeric column holding each customer's value (spend, margin)")


def _add_engine_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=["local", "dask"], default="local",
                   help="local (default): this machine; dask: partitioned Parquet (a folder "
                   "or a glob) on a Dask cluster (needs requirements-dask.txt)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, e.g. "
                   "tcp://host:8786 (default: a local cluster of 2 workers)")


def _add_schema_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--label", help="churn column (default: detected)")
    p.add_argument("--id", help="customer id column (default: detected)")
    p.add_argument("--positive", help="label value that means churned (default: detected)")
    p.add_argument("--confirm", action="append", metavar="COL",
                   help="keep a column flagged as leaking the label (repeatable)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m churn_core``."""
    parser = argparse.ArgumentParser(prog="python -m churn_core",
                                     description="churn-radar: churn early warning")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("check", help="validate a customer table")
    p.add_argument("data")
    _add_read_args(p)
    _add_schema_args(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("train", help="train a model and write a bundle")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="bundle directory to write")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--cv", type=folds, default=None,
                   help="cross-fitting folds (at least 2; every labelled row is scored out of "
                   "fold; default 5, or fewer from 150,000 labelled rows, where each fold "
                   "model learns from the size the learning curve measured)")
    p.add_argument("--segments", type=positive_int, default=None,
                   help="number of segments (default: chosen, 3 to 8)")
    p.add_argument("--segment-columns", default=None, metavar="COL,COL",
                   help="columns to segment on, comma-separated (default: recency, frequency, "
                   "money and tenure columns)")
    p.add_argument("--no-search", action="store_true", help="skip the small parameter search")
    p.add_argument("--class-weight", action="store_true", help="weight churners up")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    _add_actions_arg(p)
    _add_value_args(p, default_help="an event-log build's customer_value column when it "
                    f"has one, else {Economics().value_retained:g}")
    _add_pseudonymise_arg(p)
    _add_read_args(p)
    _add_schema_args(p)
    _add_engine_args(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("score", help="score fresh data with a saved bundle")
    p.add_argument("bundle")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="CSV to write (with --engine dask: a folder "
                   "of Parquet files)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--threshold", type=probability,
                   help="probability cut-off between 0 and 1 (default: the saved one)")
    g.add_argument("--top", type=positive_int, help="flag the N riskiest customers (N >= 1)")
    p.add_argument("--at-risk-only", action="store_true", help="write flagged rows only")
    _add_actions_arg(p)
    _add_value_args(p, default_help="the value saved with the model's threshold, else "
                    f"{Economics().value_retained:g}")
    p.add_argument("--explain", choices=["at-risk", "all"], default="at-risk",
                   help="which rows get reasons: the at-risk ones (default, fast on large "
                   "files) or every row")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                   help="where the reasons are computed (auto: the GPU when XGBoost can use one)")
    _add_pseudonymise_arg(p)
    _add_read_args(p)
    _add_engine_args(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("simulate", help="write the synthetic sample customer table")
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=positive_int, default=4000)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_simulate)

    helpers = CommandHelpers(print_problems=_print_problems, read_options=_read_options,
                             progress=_progress, echo=print)
    add_build_parser(sub, helpers, add_read_args=_add_read_args)
    add_clv_parser(sub, helpers, add_read_args=_add_read_args)
    add_campaign_parsers(sub, helpers, add_read_args=_add_read_args)
    add_monitor_parsers(sub, helpers, add_read_args=_add_read_args)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(message)s", stream=sys.stderr)
    try:
        out = getattr(args, "out", None)
        if args.command in ("train", "build") and out:
            # held for the whole run: a second run into the same --out is refused at once
            with writer_lock(output_path(out, directory=True)):
                return int(args.func(args))
        return int(args.func(args))
    except ChurnDataError as exc:
        _print_problems(exc.problems)
        return EXIT_USER
    except OSError as exc:  # missing input, full disk, no permission: a message, exit 2
        where = f": {exc.filename}" if exc.filename else ""
        print(f"ERROR   {exc.strerror or exc}{where}", file=sys.stderr)
        return EXIT_USER
    except duckdb.OutOfMemoryException as exc:
        _print_problems([Problem("EVENTS_OUT_OF_MEMORY", "error", str(exc).splitlines()[0],
                                 action="raise --memory-limit or use a smaller extract")])
        return EXIT_USER
    except InvalidSetting as exc:
        _print_problems([setting_problem(exc)])
        return EXIT_USER
    except ValueError as exc:
        _print_problems([Problem("INVALID_INPUT", "error", str(exc).splitlines()[0])])
        return EXIT_USER
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
