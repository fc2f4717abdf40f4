"""Column roles of an event log: propose them from the header and a sample, parse overrides.

The proposal opens the file (:mod:`churn_core.events.source`: format, encoding,
layout, decimal commas), reads the first ``sample_size`` rows through DuckDB,
scores every column against each role by its name (English, Chinese and common
European synonyms) and checks the values (:mod:`churn_core.events.detect`:
timestamps parse, amounts are numbers, ratings lie in 0..10, static attributes
have few values per customer). Each column gets at most one role. A file without
a header line gets its roles from the values alone.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd

from churn_core.events.cleaning import check_timestamp_format
from churn_core.events.detect import (
    ColumnStats,
    column_stats,
    describe_time_format,
    roles_from_values,
    values_fit,
)
from churn_core.events.names import name_score
from churn_core.events.source import (
    describe_source,
    engine_error,
    open_source,
    quote,
    relation_sql,
    source_sql,
)
from churn_core.events.textlog import MAX_EVENT_COLUMNS, too_many_columns
from churn_core.events.types import ROLE_WORDS, ROLES, EventMapping
from churn_core.problems import ChurnDataError, Problem
from churn_core.reading.table import ReadOptions

__all__ = ["check_mapping", "confirm_roles", "describe_source",
           "missing_role_problems", "propose_mapping", "quote", "sample_frame", "source_sql"]

logger = logging.getLogger(__name__)

MAX_STATIC_LEVELS = 50


def propose_mapping(source: str | Path, *, overrides: str | None = None,
                    read: ReadOptions | None = None,
                    decimal_comma: Sequence[str] | None = None,
                    timestamp_format: str | None = None, sample_size: int = 20_000,
                    con: duckdb.DuckDBPyConnection | None = None) -> EventMapping:
    """Propose a column role for every column of an event log, and how to read it.

    Parameters
    ----------
    source : str or Path
        CSV/TSV/TXT (optionally ``.gz``, any encoding :mod:`churn_core.reading.text`
        detects), ``.xlsx`` or Parquet file.
    overrides : str, optional
        ``"col=role,..."`` applied after the proposal (the user's corrections).
    read : ReadOptions, optional
        Encoding, delimiter (``" "``: runs of spaces), header_row and sheet,
        instead of detecting them.
    decimal_comma : sequence of str, optional
        Columns written with a decimal comma, instead of detecting them (``()``: none).
    timestamp_format : str, optional
        How to read the timestamp (see :class:`EventMapping`), instead of detecting it.
    sample_size : int
        Rows read for the value checks; the rest of the file is not touched
        (except to make a UTF-8 copy of a file DuckDB cannot read as it is).
    con : duckdb connection, optional
        Reused when given (tests, build); otherwise an in-memory one.

    Returns
    -------
    EventMapping
        Info problems: ``EVENT_ROLE_DETECTED``, ``EVENT_STATIC_DETECTED``,
        ``EVENTS_TIMESTAMP_FORMAT``, ``EVENTS_PRICE_AS_AMOUNT``, and the file's
        (``ENCODING_DETECTED``, ``DELIMITER_DETECTED``, ``HEADER_SKIPPED_LINES``,
        ``SHEET_CHOSEN``, ``EVENTS_SHEETS_STACKED``, ``EVENTS_DECIMAL_COMMA``);
        warnings ``EVENTS_NO_HEADER``, ``ENCODING_UNCERTAIN``; errors
        ``EVENTS_NO_CUSTOMER_ID`` / ``EVENTS_NO_TIMESTAMP`` when a required role
        has no candidate (the mapping is still returned so the user can complete it).

    Raises
    ------
    ChurnDataError
        ``EVENTS_UNREADABLE`` / ``EVENTS_UNDECODABLE`` when the file cannot be
        read, ``EVENTS_BAD_MAPPING`` for malformed overrides.
    """
    check_timestamp_format(timestamp_format)
    opened = open_source(source, read, decimal_comma=None if decimal_comma is None
                         else tuple(decimal_comma))
    con = con or duckdb.connect()
    relation = relation_sql(opened)
    try:
        types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
        con.execute(f"CREATE OR REPLACE TEMP TABLE sample AS SELECT * FROM {relation} "
                    f"LIMIT {int(sample_size)}")
    except duckdb.Error as exc:
        raise engine_error(Path(source), exc, "check the delimiter and the quotes, or export "
                           "the log again", opened.problems) from exc
    if len(types) > MAX_EVENT_COLUMNS:
        raise too_many_columns(Path(source).name, len(types), list(types))  # Parquet, Excel
    stats = {c: column_stats(con, c, types[c]) for c in types}
    headerless = opened.file_format.header_row is None
    chosen = roles_from_values(stats) if headerless else _roles_from_names(types, stats)
    static = _propose_static(con, chosen, stats)
    problems = list(opened.problems)
    why = "values only: the file has no header line" if headerless else "name and values"
    problems += [
        Problem("EVENT_ROLE_DETECTED", "info",
                f"Column {col!r} used as the {ROLE_WORDS[role]} "
                f"({why if name_score(role, col) or headerless else 'values look like dates'}).",
                column=col, action=f"override with {col}=<role> or {col}=ignore")
        for role, col in chosen.items()]
    problems += [
        Problem("EVENT_STATIC_DETECTED", "info",
                f"Column {col!r} used as a customer attribute (few values per customer); "
                "its last known value becomes a feature.", column=col)
        for col in static]
    mapping = EventMapping(**chosen, static=static, decimal_comma=opened.decimal_comma,
                           file_format=opened.file_format)
    if overrides:
        mapping = mapping.with_overrides(overrides)
    mapping, more = _reading_decisions(con, mapping, stats, timestamp_format)
    problems += more + missing_role_problems(mapping, list(types))
    logger.info("proposed event mapping: %s", mapping.to_string())
    return dataclasses.replace(mapping, problems=tuple(problems))


def _roles_from_names(types: dict[str, str], stats: dict[str, ColumnStats]) -> dict[str, str]:
    candidates = []
    for role in ROLES:
        for pos, col in enumerate(types):
            score, s = name_score(role, col), stats[col]
            # any column full of dates will do; of several, the most varied (ten-digit ids
            # can read as Unix times)
            if role == "timestamp" and score == 0:
                score = 0.5 + 0.1 * s.distinct / max(s.n, 1)
            if score and values_fit(role, s):
                candidates.append((score, -pos, role, col))
    chosen: dict[str, str] = {}
    for _, _, role, col in sorted(candidates, reverse=True):
        if role not in chosen and col not in chosen.values():
            chosen[role] = col
    return chosen


def _reading_decisions(con: duckdb.DuckDBPyConnection, m: EventMapping,
                       stats: dict[str, ColumnStats], timestamp_format: str | None
                       ) -> tuple[EventMapping, list[Problem]]:
    """The timestamp format of the chosen column, and the money of a price-only log."""
    problems = []
    ts = m.timestamp
    fmt = timestamp_format
    if fmt is None and ts in stats:
        fmt = stats[ts].time_format
    if fmt and ts in stats and timestamp_format is None:
        example = con.execute(f"SELECT CAST({quote(ts)} AS VARCHAR) FROM sample "
                              f"WHERE {quote(ts)} IS NOT NULL LIMIT 1").fetchone()
        problems.append(Problem(
            "EVENTS_TIMESTAMP_FORMAT", "info",
            describe_time_format(ts, fmt, example[0] if example else None), column=ts,
            values=(fmt,), action="set timestamp_format to override"))
    if m.unit_price and not m.amount and not m.quantity:
        problems.append(Problem(
            "EVENTS_PRICE_AS_AMOUNT", "info",
            f"No amount or quantity column: the price in {m.unit_price!r} is taken as the "
            "money of each purchase line (one item per line).", column=m.unit_price,
            action="map an amount or quantity column to override"))
    return dataclasses.replace(m, timestamp_format=fmt), problems


def _propose_static(con: duckdb.DuckDBPyConnection, chosen: dict[str, str],
                    stats: dict[str, ColumnStats]) -> tuple[str, ...]:
    cid = chosen.get("customer_id")
    if cid is None:
        return ()
    out = []
    for col, s in stats.items():
        if col in chosen.values() or s.is_numeric or s.is_time \
                or not 2 <= s.distinct <= MAX_STATIC_LEVELS:
            continue
        # an attribute of the customer, not of the event: about one value per customer
        pairs, customers = con.execute(
            f"SELECT count(DISTINCT ({quote(cid)}, {quote(col)})), count(DISTINCT {quote(cid)}) "
            f"FROM sample WHERE {quote(col)} IS NOT NULL AND {quote(cid)} IS NOT NULL").fetchone()
        if customers and pairs <= 1.1 * customers:
            out.append(col)
    return tuple(out)


def confirm_roles(source: str | Path, mapping: EventMapping, roles: dict[str, str | None],
                  static: list[str] | tuple[str, ...]) -> EventMapping:
    """Apply the roles the user confirmed to a proposal.

    When the user picked another timestamp column, its format is detected again
    (the proposal's format belonged to the column it proposed).

    Raises
    ------
    ChurnDataError
        ``EVENTS_BAD_MAPPING`` when a column name cannot be written as an override.
    """
    chosen = dataclasses.replace(mapping, **roles, static=tuple(static))
    if chosen.timestamp is None or chosen.timestamp == mapping.timestamp:
        return chosen
    again = propose_mapping(source, overrides=chosen.to_string())
    return dataclasses.replace(chosen, timestamp_format=again.timestamp_format)


def missing_role_problems(mapping: EventMapping, columns: list[str]) -> list[Problem]:
    """Return error problems for missing required roles and columns absent from the file."""
    problems = []
    for role, code in (("customer_id", "EVENTS_NO_CUSTOMER_ID"),
                       ("timestamp", "EVENTS_NO_TIMESTAMP")):
        if getattr(mapping, role) is None:
            problems.append(Problem(
                code, "error", f"No column was recognised as the {ROLE_WORDS[role]}.",
                action=f"name it in the mapping: <column>={role}"))
    named = [*mapping.roles().values(), *mapping.static]
    for col in named:
        if col not in columns:
            problems.append(Problem(
                "EVENTS_UNKNOWN_COLUMN", "error",
                f"The mapping names column {col!r}, which is not in the file "
                f"(columns: {', '.join(columns[:20])}).", column=col, values=(col,)))
    return problems


def check_mapping(mapping: EventMapping, columns: list[str]) -> None:
    """Raise ``ChurnDataError`` when ``mapping`` cannot be used with these columns."""
    problems = missing_role_problems(mapping, columns)
    if problems:
        raise ChurnDataError(problems)


def sample_frame(source: str | Path, mapping: EventMapping | None = None, *,
                 rows: int = 1000) -> pd.DataFrame:
    """Return the first ``rows`` rows as text, for showing the file beside the mapping."""
    con = duckdb.connect()
    return con.execute(f"SELECT * FROM {source_sql(source, mapping)} LIMIT {int(rows)}").df()
