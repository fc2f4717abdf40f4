"""Read an event log into a compact per-customer-per-day table inside DuckDB.

All in DuckDB (never in pandas), in three scans of the file
(:mod:`churn_core.events.aggregate`): event types and exact-duplicate
candidates; orders, first-bought items and the gaps between order days; one
row per customer and day with every per-day value and the quality counts
(plus one scan for the extra copies, only when some lines repeat).
Table ``daily`` (keyed by an integer ``cust``, stored in customer order; table
``customers`` holds the text id once per customer) has one row per customer
and day with orders, returns, money, event-type counts, ratings, static
attributes, new items and the gap to the previous order day.

Every feature at a cutoff is then a filtered aggregate of ``daily``, so a
row's contribution depends only on its own date: no look-ahead by design.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from churn_core.events.aggregate import (
    map_ids,
    scan_log,
    stage_daily,
    stage_days,
    stage_keyed,
    stage_repeated_lines,
)
from churn_core.events.cleaning import kind_sql, money_sql, text_sql, timestamp_sql, typed_sql
from churn_core.events.mapping import check_mapping, describe_source, source_sql
from churn_core.events.source import engine_error
from churn_core.events.spill import spill_directory
from churn_core.events.types import EventMapping
from churn_core.problems import Problem, example_values
from churn_core.progress import Progress

logger = logging.getLogger(__name__)


TOP_EVENT_TYPES = 10
KEEP_DUPLICATES = ("left out; to count them as separate events, keep exact duplicates "
                   "(app: untick 'Leave out exact duplicate lines'; command line: "
                   "--keep-duplicates)")


_SIZE = re.compile(r"\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class EngineSettings:
    """DuckDB resources: memory cap, threads and spill directory.

    Parameters
    ----------
    memory_limit : str
        DuckDB ``memory_limit``; larger intermediate results spill to disk.
    threads : int or None
        Worker threads; ``None`` = every core this process may use (DuckDB's
        aggregates scale with cores; the memory cap holds whatever the count).
    temp_directory : str or None
        Where DuckDB spills; ``None`` = a fresh directory under the system temp.
    """

    memory_limit: str = "3GB"
    threads: int | None = None
    temp_directory: str | None = None

    def __post_init__(self) -> None:
        # passed to DuckDB's configuration: checked here, not left to DuckDB's parser
        problems = []
        if not (isinstance(self.memory_limit, str) and _SIZE.fullmatch(self.memory_limit)):
            problems.append(Problem(
                "EVENTS_BAD_SETTING", "error", f"memory_limit {str(self.memory_limit)[:40]!r} "
                "is not a size such as 3GB or 800MB.", values=(str(self.memory_limit)[:40],)))
        if self.threads is not None and (isinstance(self.threads, bool)
                                         or not isinstance(self.threads, int)
                                         or self.threads < 1):
            problems.append(Problem(
                "EVENTS_BAD_SETTING", "error", f"threads {self.threads!r} is not a whole number "
                "of 1 or more.", values=(str(self.threads)[:40],)))
        if problems:
            from churn_core.problems import ChurnDataError

            raise ChurnDataError(problems)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:          # not on Linux
        return os.cpu_count() or 1


def connect(engine: EngineSettings | None = None) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection with the given resource limits."""
    engine = engine or EngineSettings()
    threads = engine.threads or available_cores()
    tmp = engine.temp_directory or spill_directory()
    con = duckdb.connect(config={"memory_limit": engine.memory_limit, "threads": threads,
                                 "temp_directory": tmp, "preserve_insertion_order": False})
    # the bar is drawn on stdout for queries over ~2 s: noise in the app and the CLI
    con.execute("SET enable_progress_bar = false")
    return con


@dataclass(frozen=True)
class PreparedLog:
    """An event log staged in DuckDB (tables ``customers`` and ``daily``).

    Attributes
    ----------
    con : duckdb connection
        Holds the staged tables; reuse it for cutoffs and features.
    mapping : EventMapping
    source_name : str
    first_day, last_day : date
        Date range of the usable events.
    rows_read, rows_used : int
        Lines in the file; unique usable lines after drops.
    dropped : tuple of dict
        ``{"reason", "code", "count"}`` for every kind of dropped line.
    returns : int
        Lines recognised as returns/cancellations (kept, not purchases).
    event_types : tuple of str
        The most frequent event types, counted as features.
    has_money, has_returns : bool
        Whether monetary values / returns can be derived from the mapping.
    problems : tuple of Problem
    """

    con: duckdb.DuckDBPyConnection = dataclasses.field(repr=False, compare=False)
    mapping: EventMapping
    source_name: str
    first_day: date
    last_day: date
    rows_read: int
    rows_used: int
    dropped: tuple[dict, ...]
    returns: int
    event_types: tuple[str, ...]
    has_money: bool
    has_returns: bool
    problems: tuple[Problem, ...]


def _report(totals: dict, dups: int, returns: int, decided: dict,
            examples: list[str], m: EventMapping) -> tuple[list[dict], list[Problem]]:
    dropped, problems = [], []
    for key, code, reason, column in (
            ("no_id", "EVENTS_MISSING_ID", "no customer id", m.customer_id),
            ("bad_ts", "EVENTS_BAD_TIMESTAMP", "timestamp could not be read", m.timestamp),
            ("no_ts", "EVENTS_MISSING_TIMESTAMP", "no timestamp", m.timestamp),
            ("dups", "EVENTS_DUPLICATES", "exact duplicate of another line", None)):
        count = dups if key == "dups" else totals[key]
        if count:
            dropped.append({"reason": reason, "code": code, "count": int(count)})
            problems.append(Problem(
                code, "warning", f"{count:,} lines left out: {reason}.", column=column,
                count=int(count), values=tuple(examples) if key == "bad_ts" else (),
                action=KEEP_DUPLICATES if key == "dups" else "left out"))
    if returns:
        how = ", ".join(filter(None, [
            "event type " + "/".join(decided["return_types"]) if decided["return_types"] else "",
            "negative quantity" if m.quantity else "", "negative amount" if m.amount else "",
            "order id starting with C" if decided["c_prefix"] else "",
            f"return flag {m.return_flag!r}" if m.return_flag else ""]))
        problems.append(Problem(
            "EVENTS_RETURNS", "info",
            f"{returns:,} lines recognised as returns or cancellations ({how}); "
            "counted as returns, not purchases.", count=int(returns),
            action="counted as returns"))
    if m.event_type and not decided["purchase_types"]:
        problems.append(Problem(
            "EVENTS_NO_PURCHASE_TYPE", "info",
            "No event type looks like a purchase; every event that is not a return counts "
            "as an order.", column=m.event_type))
    return dropped, problems


def _refuse_nonsense(con: duckdb.DuckDBPyConnection, used: int, returns: int,
                     m: EventMapping) -> None:
    """Refuse a log dated in the future or holding no purchase at all.

    One line dated 2099 would put the test cutoff in 2099 and add hundreds of
    empty cutoffs; a log of returns only has no customer who ever bought.
    """
    from churn_core.problems import ChurnDataError

    today = date.today()
    future, first_future, last = con.execute(
        f"SELECT sum(n_events) FILTER (day > DATE '{today.isoformat()}'), "
        f"min(day) FILTER (day > DATE '{today.isoformat()}'), max(day) FROM daily").fetchone()
    problems = []
    if future:
        problems.append(Problem(
            "EVENTS_FUTURE_DATES", "error",
            f"{int(future):,} of {used:,} lines are dated after today ({today}), from "
            f"{first_future} to {last}: the churn windows and cutoffs would be placed in the "
            "future.", column=m.timestamp, count=int(future),
            values=(str(first_future), str(last)),
            action="fix the dates (or the timestamp format) or remove those lines"))
    if used and returns >= used:
        problems.append(Problem(
            "EVENTS_NO_PURCHASES", "error",
            f"All {used:,} usable lines are returns or cancellations (negative amounts or "
            "quantities, return types or flags): no customer ever bought, so there is no "
            "churn to learn.", count=used,
            action="check the amount/quantity sign and the event type mapping"))
    if problems:
        raise ChurnDataError(problems)


def prepare_log(source: str | Path, mapping: EventMapping, *,
                engine: EngineSettings | None = None, drop_duplicates: bool = True,
                progress: Progress | None = None) -> PreparedLog:
    """Stage an event log in DuckDB for cutoffs, labels and features.

    Parameters
    ----------
    source : str or Path
        CSV (optionally gzipped) or Parquet event log.
    mapping : EventMapping
        Column roles (see :func:`propose_mapping`).
    engine : EngineSettings, optional
        Memory limit, threads and spill directory.
    drop_duplicates : bool
        Drop lines identical in every mapped column (counted in ``dropped``).
    progress : callable(fraction, message), optional

    Returns
    -------
    PreparedLog

    Raises
    ------
    ChurnDataError
        ``EVENTS_UNREADABLE``, ``EVENTS_NO_CUSTOMER_ID``, ``EVENTS_NO_TIMESTAMP``,
        ``EVENTS_UNKNOWN_COLUMN``, or ``EVENTS_NO_USABLE_ROWS`` when no line has
        both a customer id and a timestamp.
    """
    from churn_core.problems import ChurnDataError

    con = connect(engine)
    types = describe_source(con, source, mapping)
    check_mapping(mapping, list(types))
    if progress:
        progress(0.0, "reading the event log")
    # Parquet is typed and cheap to rescan; text formats are parsed once into a DuckDB table
    is_parquet = source_sql(source, mapping).startswith("read_parquet")
    try:
        con.execute(f"CREATE OR REPLACE TEMP {'VIEW' if is_parquet else 'TABLE'} typed AS "
                    f"{typed_sql(source, mapping, types, typed_source=is_parquet)}")
    except duckdb.Error as exc:
        # ragged lines or bad bytes deep in a (compressed) text file, or too little memory
        raise engine_error(Path(source), exc, "check the file (delimiter, encoding, line "
                           "lengths) or save it again") from exc
    totals, vocab = scan_log(con, "typed", mapping, drop_duplicates)
    kind, decided = kind_sql(mapping, totals, vocab)
    money = money_sql(mapping) or "NULL::DOUBLE"
    lines = f"SELECT *, {kind} AS kind, {money} AS money FROM typed"
    event_types = [t for t, _ in vocab][:TOP_EVENT_TYPES] if mapping.event_type else []
    if progress:
        progress(0.2, "orders, and the first purchase of each product and category")
    # before the per-day table exists: the aggregate has the memory to itself
    stage_keyed(con, lines, mapping, merged=False)
    if progress:
        progress(0.45, "aggregating events per customer and day")
    stage_days(con, lines, mapping, event_types)
    if progress:
        progress(0.7, "customer keys")
    quality, merged = map_ids(con)
    totals |= quality
    if not totals["usable"]:
        raise ChurnDataError([Problem(
            "EVENTS_NO_USABLE_ROWS", "error",
            "No line has both a customer id and a readable timestamp.",
            count=totals["rows"], action="check the mapping and the timestamp format")])
    if merged:
        # spellings of one id merged: an order or item seen under two spellings counts once
        stage_keyed(con, lines, mapping, merged=True)
    copies = totals["repeated"] > 0
    if copies:
        if progress:
            progress(0.75, "exact duplicate lines")
        stage_repeated_lines(con, lines, mapping, event_types)
    if progress:
        progress(0.8, "one row per customer and day")
    stage_daily(con, mapping, len(event_types), copies)
    used, dups, return_lines, first_day, last_day = con.execute(
        "SELECT sum(n_events), sum(dups), coalesce(sum(return_lines), 0), min(day), max(day) "
        "FROM daily").fetchone()
    _refuse_nonsense(con, int(used or 0), int(return_lines), mapping)
    examples = []
    if totals["bad_ts"]:
        ts = mapping.timestamp
        parsed = timestamp_sql(ts, types[ts], mapping.timestamp_format)
        examples = [r[0] for r in con.execute(
            f"SELECT {text_sql(ts)} FROM {source_sql(source, mapping)} "
            f"WHERE {parsed} IS NULL AND {text_sql(ts)} IS NOT NULL LIMIT 5").fetchall()]
    dropped, problems = _report(totals, int(dups or 0), int(return_lines), decided,
                                list(example_values(examples)), mapping)
    logger.info("staged %s: %s lines read, %s used, dropped %s", Path(source).name,
                totals["rows"], used, dropped)
    return PreparedLog(
        con=con, mapping=mapping, source_name=Path(source).name,
        first_day=first_day, last_day=last_day,
        rows_read=int(totals["rows"]), rows_used=int(used or 0), dropped=tuple(dropped),
        returns=int(return_lines), event_types=tuple(event_types),
        has_money=money_sql(mapping) is not None, has_returns=decided["has_returns"],
        problems=tuple(mapping.problems) + tuple(problems))
