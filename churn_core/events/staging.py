"""Read an event log into a compact per-customer-per-day table inside DuckDB.

All in DuckDB (never in pandas), in four or five scans of the file:

1. quality counts (rows without customer id, unreadable timestamps, the
   event-type vocabulary that recognises purchases and returns) and the line
   hashes seen more than once (exact-duplicate candidates; the one line-level
   aggregate), as two grouping sets of one aggregate;
2. the items (products, categories) each customer bought for the first time
   on each day: distinct counts at any cutoff are then a sum;
3. the ``daily`` table (two scans, and one more over the duplicate candidates
   when there are any, grouped on every column): one row per customer and day
   with orders, returns, money, event-type counts, ratings, static
   attributes, new items and the gap to the previous order day. Orders
   (distinct order keys) are counted in their own aggregate over purchase and
   return lines, so no aggregate holds a group per order with every per-day
   value. ``daily`` is keyed by an integer ``cust``; table ``customers`` holds
   the text id once per customer.

Every feature at a cutoff is then a filtered aggregate of ``daily``, so a
row's contribution depends only on its own date: no look-ahead by design.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from churn_core.events.cleaning import kind_sql, money_sql, text_sql, timestamp_sql, typed_sql
from churn_core.events.mapping import EventMapping, check_mapping, describe_source, source_sql
from churn_core.events.spill import spill_directory
from churn_core.problems import Problem, example_values

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None] | None

TOP_EVENT_TYPES = 10


@dataclass(frozen=True)
class EngineSettings:
    """DuckDB resources: memory cap, threads and spill directory.

    Parameters
    ----------
    memory_limit : str
        DuckDB ``memory_limit``; larger intermediate results spill to disk.
    threads : int or None
        Worker threads; ``None`` = ``min(2, cpu count)``.
    temp_directory : str or None
        Where DuckDB spills; ``None`` = a fresh directory under the system temp.
    """

    memory_limit: str = "3GB"
    threads: int | None = None
    temp_directory: str | None = None


def connect(engine: EngineSettings | None = None) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection with the given resource limits."""
    engine = engine or EngineSettings()
    threads = engine.threads or min(2, os.cpu_count() or 1)
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


def _scan(con: duckdb.DuckDBPyConnection, typed: str, m: EventMapping,
          drop_duplicates: bool) -> tuple[dict, list]:
    """One scan of the log: quality counts, event-type vocabulary and table ``repeated``.

    ``repeated`` holds the line hashes seen more than once among usable lines
    (customer id and timestamp): equal lines have equal hashes, so a line whose
    hash is not there is unique. Both results come from one aggregate with two
    grouping sets, the quality counts being a handful of groups.
    """
    order_type = con.execute(f"SELECT typeof(order_id) FROM {typed} LIMIT 1").fetchone()
    # an integer order id never starts with "C"
    c_order = ("coalesce(order_id LIKE 'C%', FALSE)" if order_type in (None, ("VARCHAR",))
               else "FALSE")
    h = (f"CASE WHEN cid IS NOT NULL AND ts IS NOT NULL THEN {_line_hash(m)} END"
         if drop_duplicates else "NULL::UBIGINT")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE scanned AS
        SELECT grouping(h) = 1 AS quality, h, event_type, no_id, ts_state, has_order,
               c_order, count(*) AS n
        FROM (SELECT {h} AS h, event_type, cid IS NULL AS no_id,
                     CASE WHEN ts IS NOT NULL THEN 0 WHEN ts_given THEN 1 ELSE 2 END AS ts_state,
                     order_id IS NOT NULL AS has_order, {c_order} AS c_order FROM {typed})
        GROUP BY GROUPING SETS ((h), (event_type, no_id, ts_state, has_order, c_order))
        HAVING grouping(h) = 1 OR (h IS NOT NULL AND count(*) > 1)""")
    con.execute("CREATE OR REPLACE TEMP TABLE repeated AS SELECT h FROM scanned WHERE NOT quality")
    names = ("rows", "no_id", "bad_ts", "no_ts", "usable", "orders", "c_orders", "repeated")
    totals = dict(zip(names, con.execute("""
        SELECT sum(n), sum(n) FILTER (no_id), sum(n) FILTER (NOT no_id AND ts_state = 1),
               sum(n) FILTER (NOT no_id AND ts_state = 2),
               sum(n) FILTER (NOT no_id AND ts_state = 0), sum(n) FILTER (has_order),
               sum(n) FILTER (c_order), (SELECT count(*) FROM repeated)
        FROM scanned WHERE quality""").fetchone(), strict=True))
    totals = {k: int(v or 0) for k, v in totals.items()}
    # most frequent first (all lines), counted without the lines that have no id
    vocab = con.execute("""
        SELECT event_type, coalesce(sum(n) FILTER (NOT no_id), 0) FROM scanned
        WHERE quality AND event_type IS NOT NULL GROUP BY event_type ORDER BY sum(n) DESC
        """).fetchall()
    con.execute("DROP TABLE scanned")
    return totals, [(t, int(n)) for t, n in vocab]


def _line_hash(m: EventMapping) -> str:
    cols = ("cid", "ts", "event_type", "order_id", "product", "category", "amount", "quantity",
            "unit_price", "rating", *(f"s{i}" for i in range(len(m.static))))
    return f"hash({', '.join(cols)})"


def _lines_sql(clean: str, m: EventMapping, candidates: bool) -> str:
    """One row per distinct line of ``clean`` with ``copies``, its number of occurrences.

    Without ``candidates`` (no repeated hash) every line is unique. Otherwise the
    lines with a repeated hash are grouped on every column (exact, and few in
    real logs) and the rest are unique; a hash collision only sends a unique
    line to the exact grouping.
    """
    if not candidates:
        return f"SELECT *, 1 AS copies FROM ({clean})"
    hashed = f"SELECT *, {_line_hash(m)} AS h FROM ({clean})"
    return (f"SELECT * EXCLUDE (h), 1 AS copies FROM ({hashed}) "
            f"WHERE h NOT IN (SELECT h FROM repeated) UNION ALL "
            f"SELECT *, count(*) AS copies FROM (SELECT * EXCLUDE (h) FROM ({hashed}) "
            f"WHERE h IN (SELECT h FROM repeated)) GROUP BY ALL")


def _stage_daily(con: duckdb.DuckDBPyConnection, clean: str, m: EventMapping,
                 event_types: list[str], candidates: bool, items: bool) -> None:
    """Tables ``customers`` (integer key ``cust`` per text ``cid``) and ``daily``.

    The lines are grouped on the text id; everything after (the gap window,
    features, labels) works on the integer key, and the text comes back once per
    customer in the result.
    """
    attrs = [f"s{i}" for i in range(len(m.static))]
    order_key = "order_id" if m.order_id else "CAST(ts AS VARCHAR)"
    lines = _lines_sql(clean, m, candidates)
    types = [t.replace("'", "''") for t in event_types]
    type_counts = "".join(f", count(*) FILTER (event_type = '{t}') AS et{i}"
                          for i, t in enumerate(types))
    # static attributes: one value per customer and day (the largest if a day has several)
    attr_d = "".join(f", max({a}) AS {a}" for a in attrs)
    # sum(copies) is HUGEINT in DuckDB: only summed when some line has copies
    dups = "CAST(sum(copies) - count(*) AS BIGINT)" if candidates else "CAST(0 AS BIGINT)"
    # two aggregates over the lines (each a scan of the file): the per-day values, and the
    # orders, a distinct (kind, event type, order key), from the purchase and return lines
    # only; one aggregate over both would hold a group per order with every per-day value
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE days AS
        WITH lines AS NOT MATERIALIZED ({lines}),
        per_day AS (
            SELECT cid, CAST(ts AS DATE) AS day, count(*) AS n_events, {dups} AS dups,
                   count(*) FILTER (kind = 'r') AS return_lines,
                   sum(money) FILTER (kind = 'p') AS revenue,
                   sum(rating) AS rating_sum, count(rating) AS rating_n
                   {type_counts} {attr_d}
            FROM lines GROUP BY cid, day),
        orders AS (
            SELECT cid, day, count(*) FILTER (kind = 'p') AS n_orders,
                   count(*) FILTER (kind = 'r') AS n_returns
            FROM (SELECT DISTINCT cid, CAST(ts AS DATE) AS day, kind, event_type,
                         {order_key} AS order_key FROM lines WHERE kind <> 'o')
            GROUP BY cid, day)
        SELECT cid, day, n_events, dups, coalesce(n_orders, 0) AS n_orders,
               coalesce(n_returns, 0) AS n_returns, return_lines, revenue, rating_sum,
               rating_n {''.join(f', et{i}' for i in range(len(types)))}
               {''.join(f', {a}' for a in attrs)}
        FROM per_day LEFT JOIN orders USING (cid, day)""")
    con.execute("CREATE OR REPLACE TEMP TABLE customers AS SELECT cid, "
                "CAST(row_number() OVER (ORDER BY cid) AS INTEGER) AS cust "
                "FROM (SELECT DISTINCT cid FROM days)")
    new_items = (", coalesce(new_products, 0) AS new_products, "
                 "coalesce(new_categories, 0) AS new_categories") if items else ""
    items_join = "LEFT JOIN new_items USING (cid, day)" if items else ""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE daily AS
        SELECT cust, days.* EXCLUDE (cid), CASE WHEN n_orders > 0 THEN
               day - lag(day) OVER (PARTITION BY cust, n_orders > 0 ORDER BY day) END AS gap
               {new_items}
        FROM days JOIN customers USING (cid) {items_join}""")
    con.execute("DROP TABLE days")
    if items:
        con.execute("DROP TABLE new_items")


def _stage_items(con: duckdb.DuckDBPyConnection, clean: str, m: EventMapping) -> bool:
    """Table ``new_items``: products and categories bought for the first time per customer-day.

    Distinct counts at any cutoff are then a sum over days up to it. Returns
    False (no table) when neither role is mapped.
    """
    # one scan for both roles: each purchase line unnests into (0, product), (1, category)
    roles = [(i, role) for i, role in enumerate(("product", "category")) if getattr(m, role)]
    if not roles:
        return False
    which = ", ".join(str(i) for i, _ in roles)
    items = ", ".join(role for _, role in roles)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE new_items AS
        SELECT cid, first_day AS day, count(*) FILTER (which = 0) AS new_products,
               count(*) FILTER (which = 1) AS new_categories
        FROM (SELECT cid, which, item, min(day) AS first_day FROM (
                  SELECT cid, CAST(ts AS DATE) AS day, unnest([{which}]) AS which,
                         unnest([{items}]) AS item FROM ({clean}) WHERE kind = 'p')
              WHERE item IS NOT NULL GROUP BY cid, which, item)
        GROUP BY cid, first_day""")
    return True


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
                action="left out"))
    if returns:
        how = ", ".join(filter(None, [
            "event type " + "/".join(decided["return_types"]) if decided["return_types"] else "",
            "negative quantity" if m.quantity else "", "negative amount" if m.amount else "",
            "order id starting with C" if decided["c_prefix"] else ""]))
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


def prepare_log(source: str | Path, mapping: EventMapping, *,
                engine: EngineSettings | None = None, drop_duplicates: bool = True,
                progress: Progress = None) -> PreparedLog:
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
    types = describe_source(con, source)
    check_mapping(mapping, list(types))
    if progress:
        progress(0.0, "reading the event log")
    # Parquet is typed and cheap to rescan; text formats are parsed once into a DuckDB table
    is_parquet = source_sql(source).startswith("read_parquet")
    con.execute(f"CREATE OR REPLACE TEMP {'VIEW' if is_parquet else 'TABLE'} typed AS "
                f"{typed_sql(source, mapping, types, typed_source=is_parquet)}")
    totals, vocab = _scan(con, "typed", mapping, drop_duplicates)
    if not totals["usable"]:
        raise ChurnDataError([Problem(
            "EVENTS_NO_USABLE_ROWS", "error",
            "No line has both a customer id and a readable timestamp.",
            count=totals["rows"], action="check the mapping and the timestamp format")])
    kind, decided = kind_sql(mapping, totals, vocab)
    money = money_sql(mapping) or "NULL::DOUBLE"
    clean = (f"SELECT * EXCLUDE (ts_given), {kind} AS kind, {money} AS money "
             "FROM typed WHERE cid IS NOT NULL AND ts IS NOT NULL")
    event_types = [t for t, _ in vocab][:TOP_EVENT_TYPES] if mapping.event_type else []
    if progress:
        progress(0.3, "first purchase of each product and category")
    items = _stage_items(con, clean, mapping)
    if progress:
        progress(0.5, "aggregating events per customer and day")
    _stage_daily(con, clean, mapping, event_types, totals["repeated"] > 0, items)
    used, dups, return_lines, first_day, last_day = con.execute(
        "SELECT sum(n_events), sum(dups), coalesce(sum(return_lines), 0), min(day), max(day) "
        "FROM daily").fetchone()
    examples = []
    if totals["bad_ts"]:
        ts = mapping.timestamp
        parsed = timestamp_sql(ts, types[ts], mapping.timestamp_format)
        examples = [r[0] for r in con.execute(
            f"SELECT {text_sql(ts)} FROM {source_sql(source)} "
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
