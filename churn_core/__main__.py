"""Command line: ``python -m churn_core check|train|score|build|simulate``.

This is the only module that writes to stdout; the library logs.

User mistakes print a readable message on stderr and exit with status 2;
never a traceback. Progress goes to stderr as log lines.
"""

from __future__ import annotations

import argparse
import logging
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import xgboost as xgb

from churn_core.bundle import load_bundle, save_bundle
from churn_core.events.build import build_tables
from churn_core.events.cutoffs import FREQUENCIES
from churn_core.events.labels import ChurnDefinition
from churn_core.events.mapping import propose_mapping
from churn_core.events.modeling import (
    backtest_splits,
    definition_from_summary,
    event_overrides,
    is_event_table,
    read_summary,
)
from churn_core.events.staging import EngineSettings
from churn_core.export import to_csv_bytes
from churn_core.guard import default_memory_mb, read_table_guarded
from churn_core.io import ReadOptions, ReadResult, read_table
from churn_core.model import TrainConfig
from churn_core.outputs import output_path, write_file, writer_lock
from churn_core.pipeline import CheckResult, check_frame, export_table, fit_all, make_bundle
from churn_core.problems import ChurnDataError, Problem, describe_rows
from churn_core.schema import SchemaOverrides
from churn_core.score import score_frame
from churn_core.splits import Splits

log = logging.getLogger("churn_core")
EXIT_USER = 2
READ_TIMEOUT_S = 1800  # seconds a guarded read of DATA may take


def _progress(fraction: float, message: str) -> None:
    log.info("[%3.0f%%] %s", 100 * fraction, message)


def format_problem(p: Problem) -> str:
    """One line for a problem: severity, code, column, message, rows and values."""
    parts = [f"{p.severity.upper():7} {p.code}"]
    if p.column:
        parts.append(f"[{p.column}]")
    parts.append(p.message)
    if p.rows:
        parts.append(f"({describe_rows(p.rows, p.count)})")
    if p.values:
        parts.append("values: " + ", ".join(repr(v) for v in p.values))
    if p.action:
        parts.append(f"-> {p.action}")
    return " ".join(parts)


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


def _load(args: argparse.Namespace) -> tuple[CheckResult, Splits | None, dict]:
    """Read and check DATA; tables built from event logs get their roles and time split."""
    read = _read(args.data, _read_options(args))
    overrides = _overrides(args)
    splits, labels = None, {}
    event_table = is_event_table(read.frame) and not (args.label or args.id)
    summary = None
    if event_table:
        overrides = event_overrides(read.frame)
        # training needs the churn window of the build (a backtest must not look ahead)
        summary = read_summary(args.data, required=args.command == "train")
    checked = check_frame(read.frame, overrides=overrides, confirmed=args.confirm or (),
                          read=read)
    if event_table and checked.usable and checked.schema.label_column:
        labels = dict((summary or {}).get("feature_labels", {}))
        splits = backtest_splits(read.frame, definition=definition_from_summary(summary),
                                 seed=getattr(args, "seed", 42),
                                 labelled=checked.dataset.y.notna().to_numpy())
        log.info("event table: backtest by time, test = latest cutoff (%d rows)",
                 len(splits.test))
    return checked, splits, labels


def cmd_check(args: argparse.Namespace) -> int:
    """Print the validation report; 0 if the data can train a model, 2 if not."""
    checked, _, _ = _load(args)
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


def cmd_train(args: argparse.Namespace) -> int:
    """Train on a table and write the bundle."""
    out = output_path(args.out, inputs=(args.data,), directory=True)
    export = output_path(args.export, inputs=(args.data,)) if args.export else None
    checked, splits, labels = _load(args)
    if not checked.usable:
        _print_problems([p for p in checked.problems if p.severity == "error"])
        return EXIT_USER
    config = TrainConfig(seed=args.seed, cv_folds=args.cv, search=not args.no_search,
                         class_weight=args.class_weight, device=args.device)
    try:
        analysis = fit_all(checked.dataset, config=config, k=args.segments,
                           feature_labels=labels, splits=splits, progress=_progress)
    except (ValueError, xgb.core.XGBoostError) as exc:  # e.g. too few churners to split
        raise ChurnDataError([Problem("TRAINING_FAILED", "error", str(exc).splitlines()[0],
                                      action="load more data or check the label")]) from None
    bundle = make_bundle(analysis)
    save_bundle(out, bundle)
    m = analysis.metrics()
    warnings = [p for p in checked.problems if p.severity == "warning"]
    print(f"rows used: {m['rows_train']:,} train / {m['rows_valid']:,} validation / "
          f"{m['rows_test']:,} test (of {len(checked.dataset.frame):,})")
    print(f"device: {m['device']}")
    if m["cv_roc_auc"] is None:
        print("CV ROC-AUC: not computed (--cv 0)")
    else:
        print(f"CV ROC-AUC: {m['cv_roc_auc']:.4f} +/- {m['cv_roc_auc_std']:.4f}")
    print(f"test ROC-AUC: {m['roc_auc']:.4f}  PR-AUC: {m['pr_auc']:.4f}  "
          f"(base rate {m['base_rate']:.3f})")
    base_cv = m["baseline_cv_roc_auc"]
    print(f"baseline (logistic regression) ROC-AUC: test {m['baseline_roc_auc']:.4f}"
          + ("" if base_cv is None else f", CV {base_cv:.4f}"))
    print(f"threshold: {analysis.threshold:.4f} ({analysis.threshold_method})")
    print(f"segments: {analysis.segments.k if analysis.segments else 0}")
    print(f"warnings: {len(warnings)}")
    for p in warnings:
        print("  " + format_problem(p))
    print(f"bundle written to {args.out}")
    if export is not None:
        table = export_table(analysis, analysis.threshold)
        write_file(export, to_csv_bytes(table))
        print(f"at-risk list ({len(table):,} customers) written to {args.export}")
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    """Score fresh data with a saved bundle."""
    out = output_path(args.out, inputs=(args.data, args.bundle))
    bundle = load_bundle(args.bundle)
    read = _read(args.data, _read_options(args, bundle.schema.id_column))
    _print_problems([p for p in read.problems if p.severity != "info"])
    try:
        result = score_frame(bundle, read.frame, threshold=args.threshold, top_n=args.top,
                             at_risk_only=args.at_risk_only, progress=_progress)
    except (ValueError, xgb.core.XGBoostError) as exc:
        raise ChurnDataError([Problem("SCORING_FAILED", "error", str(exc).splitlines()[0],
                                      action="check the columns against the model's")]) from None
    _print_problems(result.problems)
    write_file(out, to_csv_bytes(result.table))
    flagged = int(result.table["at_risk"].sum())
    print(f"scored {len(read.frame):,} rows; {flagged:,} at risk at threshold "
          f"{result.threshold:.4f}; written to {args.out}")
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    """Write the synthetic sample table."""
    from churn_core.simulate import simulate_customers

    out = output_path(args.out)
    frame = simulate_customers(args.n, seed=args.seed)
    write_file(out, frame.to_csv(index=False).encode("utf-8"))
    print(f"wrote {len(frame):,} synthetic customers to {args.out}")
    return 0


def _cutoffs(text: str) -> str | list[str]:
    return text if text in FREQUENCIES else [d.strip() for d in text.split(",") if d.strip()]


def _memory_limit(text: str) -> str:
    if not re.fullmatch(r"\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", text, re.I):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size such as 3GB or 800MB")
    return text.strip()


def _folds(text: str) -> int:
    if text.strip() == "0":
        return 0
    if not text.strip().isdigit() or int(text) < 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not 0 (no cross-validation) or a number "
                                         "of folds of 2 or more")
    return int(text)


def _positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def _probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:  # also refuses NaN and infinities
        raise argparse.ArgumentTypeError(f"{text!r} is not a probability between 0 and 1")
    return value


def cmd_build(args: argparse.Namespace) -> int:
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
                                 lead_days=args.lead, cutoffs=_cutoffs(args.cutoffs))
    engine = EngineSettings(memory_limit=args.memory_limit, threads=args.threads)
    result = build_tables(args.events, mapping, definition, out_dir=out, engine=engine,
                          drop_duplicates=not args.keep_duplicates, progress=_progress)
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
    plan = result.summary["cutoff_plan"]
    train = plan["train_cutoffs"]
    print(f"cutoffs: {plan['frequency']} ({plan['reason']})")
    if train:
        print(f"backtest: test cutoff {plan['test_cutoff']}; training cutoffs {train[0]} to "
              f"{train[-1]} ({len(train)}), whose churn windows end by the test cutoff")
    print(f"training rows: {len(result.training):,}; customers to score: "
          f"{len(result.scoring):,}; written to {args.out}")
    return 0


def _add_read_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--encoding", help="text encoding (default: detected)")
    p.add_argument("--delimiter", help="field delimiter (default: detected)")
    p.add_argument("--sheet", help="Excel sheet name (default: the first)")


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
    p.add_argument("--cv", type=_folds, default=5, help="cross-validation folds (0 to skip)")
    p.add_argument("--segments", type=_positive_int, default=None,
                   help="number of segments (default: auto)")
    p.add_argument("--no-search", action="store_true", help="skip the small parameter search")
    p.add_argument("--class-weight", action="store_true", help="weight churners up")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--export", help="also write the at-risk CSV here")
    _add_read_args(p)
    _add_schema_args(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("score", help="score fresh data with a saved bundle")
    p.add_argument("bundle")
    p.add_argument("data")
    p.add_argument("--out", required=True, help="CSV to write")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--threshold", type=_probability,
                   help="probability cut-off between 0 and 1 (default: the saved one)")
    g.add_argument("--top", type=_positive_int, help="flag the N riskiest customers (N >= 1)")
    p.add_argument("--at-risk-only", action="store_true", help="write flagged rows only")
    _add_read_args(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("simulate", help="write the synthetic sample customer table")
    p.add_argument("--out", required=True)
    p.add_argument("--n", type=_positive_int, default=4000)
    p.add_argument("--seed", type=int, default=7)
    p.set_defaults(func=cmd_simulate)

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
    _add_read_args(p)
    p.add_argument("--header-row", type=int, default=None,
                   help="0-based line of the header (default: detected)")
    p.add_argument("--decimal-comma", default=None, metavar="COLS",
                   help="columns written with a decimal comma, COL,COL ('' for none; "
                   "default: detected)")
    p.add_argument("--timestamp-format", default=None,
                   help="strptime format, epoch_s, epoch_ms, epoch_us, epoch_ns or iso_utc "
                   "(default: detected)")
    p.add_argument("--memory-limit", type=_memory_limit, default=EngineSettings.memory_limit,
                   help="DuckDB memory cap, e.g. 3GB or 800MB (larger work spills to disk; "
                   "default %(default)s)")
    p.add_argument("--threads", type=_positive_int, default=None,
                   help="DuckDB worker threads (default: every available core)")
    p.add_argument("--keep-duplicates", action="store_true",
                   help="count lines identical in every mapped column as separate events "
                   "(default: leave them out, with a count; also faster on large logs)")
    p.set_defaults(func=cmd_build)
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
    except ValueError as exc:
        _print_problems([Problem("INVALID_INPUT", "error", str(exc).splitlines()[0])])
        return EXIT_USER
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
