"""Read an event log once into a compact per-customer-per-day table inside DuckDB.

Four scans of the file, all in DuckDB (never in pandas):

1. a quality pass: rows, rows without customer id, unparseable timestamps,
   date range and the event-type vocabulary (to recognise purchases and
   returns);
2. the ``daily`` table: exact duplicate lines dropped, then one row per
   customer and day with orders, returns, money, event-type counts, ratings,
   static attributes and the gap to the previous order day, keyed by an
   integer customer key (table ``customers`` holds the text id once per
   customer). Duplicates are
   found exactly in two steps: a narrow pass lists the line hashes seen more
   than once (the one line-level aggregate, the largest cost at 100M lines),
   then only lines with such a hash are grouped on every column (one more
   scan of the file, only when there are any);
3. the ``items`` table: the first day each customer bought each product and
   category (distinct counts at any cutoff are then a filter and a count).

Every feature at a cutoff is then a filtered aggregate of these tables, so a
row's contribution depends only on its own date: no look-ahead by design.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb

from churn_core.events.cleaning import text_sql, timestamp_sql, typed_sql
from churn_core.events.mapping import EventMapping, check_mapping, describe_source, source_sql
from churn_core.events.spill import spill_directory
from churn_core.problems import Problem, example_values

logger = logging.getLogger(__name__)

Progress = Callable[[float, str], None] | None

RETURN_WORDS = re.compile(r"return|cancel|refund|退货|退款|取消|退订", re.IGNORECASE)
PURCHASE_WORDS = re.compile(
    r"purchase|order|buy|bought|transaction|checkout|pay|sale|下单|购买|支付|订单|成交",
    re.IGNORECASE)
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
    """An event log staged in DuckDB (tables ``customers``, ``daily`` and ``items``).

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


def _sql_list(values: list[str]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def _quality_pass(con: duckdb.DuckDBPyConnection, typed: str) -> tuple[dict, list]:
    order_type = con.execute(f"SELECT typeof(order_id) FROM {typed} LIMIT 1").fetchone()
    # an integer order id never starts with "C"
    c_orders = ("count(*) FILTER (order_id LIKE 'C%')" if order_type in (None, ("VARCHAR",))
                else "0")
    rows = con.execute(f"""
        SELECT event_type, count(*), count(*) FILTER (cid IS NULL),
               count(*) FILTER (cid IS NOT NULL AND ts IS NULL AND ts_given),
               count(*) FILTER (cid IS NOT NULL AND NOT ts_given),
               min(ts) FILTER (cid IS NOT NULL), max(ts) FILTER (cid IS NOT NULL),
               count(order_id), {c_orders}
        FROM {typed} GROUP BY event_type ORDER BY 2 DESC""").fetchall()
    totals = {k: sum(r[i] for r in rows) for i, k in
              enumerate(("rows", "no_id", "bad_ts", "no_ts"), start=1)}
    totals["first"] = min((r[5] for r in rows if r[5] is not None), default=None)
    totals["last"] = max((r[6] for r in rows if r[6] is not None), default=None)
    totals["orders"] = sum(r[7] for r in rows)
    totals["c_orders"] = sum(r[8] for r in rows)
    vocab = [(r[0], r[1] - r[2]) for r in rows if r[0] is not None]
    return totals, vocab


def _kind_sql(m: EventMapping, totals: dict, vocab: list) -> tuple[str, dict]:
    """SQL for the line kind ('p' purchase, 'r' return, 'o' other) and what was decided."""
    return_types = [t for t, _ in vocab if RETURN_WORDS.search(t)]
    purchase_types = [t for t, _ in vocab if PURCHASE_WORDS.search(t) and t not in return_types]
    is_return = []
    if return_types:
        is_return.append(f"event_type IN {_sql_list(return_types)}")
    if m.quantity:
        is_return.append("quantity < 0")
    if m.amount:
        is_return.append("amount < 0")
    # "C" invoices are cancellations only when they are a minority of order ids
    c_prefix = m.order_id is not None and 0 < totals["c_orders"] < 0.5 * totals["orders"]
    if c_prefix:
        is_return.append("order_id LIKE 'C%'")
    ret = " OR ".join(is_return) or "FALSE"
    purchase = "TRUE"
    if m.event_type and purchase_types:
        purchase = f"event_type IN {_sql_list(purchase_types)}"
    sql = (f"CASE WHEN coalesce({ret}, FALSE) THEN 'r' "
           f"WHEN coalesce({purchase}, FALSE) THEN 'p' ELSE 'o' END")
    return sql, {"return_types": return_types, "purchase_types": purchase_types,
                 "c_prefix": c_prefix, "has_returns": bool(is_return)}


def _money_sql(m: EventMapping) -> str | None:
    if m.amount:
        return "abs(amount)"
    if m.quantity and m.unit_price:
        return "abs(quantity) * unit_price"
    return None


def _line_hash(m: EventMapping) -> str:
    cols = ("cid", "ts", "event_type", "order_id", "product", "category", "amount", "quantity",
            "unit_price", "rating", *(f"s{i}" for i in range(len(m.static))))
    return f"hash({', '.join(cols)})"


def _stage_repeated_hashes(con: duckdb.DuckDBPyConnection, clean: str, m: EventMapping) -> int:
    """Table ``repeated``: line hashes seen more than once; return how many there are.

    Equal lines have equal hashes, so every duplicate line has its hash here;
    a line whose hash is not here is unique. One narrow aggregate (8 bytes a
    line) instead of grouping 100M lines on every column.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE repeated AS SELECT h FROM "
                f"(SELECT {_line_hash(m)} AS h FROM ({clean})) GROUP BY h HAVING count(*) > 1")
    return con.execute("SELECT count(*) FROM repeated").fetchone()[0]


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
                 event_types: list[str], candidates: bool) -> None:
    """Tables ``customers`` (integer key ``cust`` per text ``cid``) and ``daily``.

    The lines are grouped on the text id once; everything after (the gap window,
    features, labels) works on the integer key, and the text comes back once per
    customer in the result.
    """
    attrs = [f"s{i}" for i in range(len(m.static))]
    order_key = "order_id" if m.order_id else "CAST(ts AS VARCHAR)"
    lines = _lines_sql(clean, m, candidates)
    # sums of counts are HUGEINT in DuckDB; BIGINT holds any line count and is much cheaper
    type_counts = "".join(
        f", count(*) FILTER (event_type = '{t.replace(chr(39), chr(39) * 2)}') AS et{i}"
        for i, t in enumerate(event_types))
    # static attributes: one value per customer and day (the largest if a day has several)
    attr_d = "".join(f", max({a}) AS {a}" for a in attrs)
    # one group per customer and day; an order is a distinct (event type, order key) of
    # its kind, counted on the side (a NULL key is one order)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE days AS
        WITH lines AS ({lines})
        SELECT cid, CAST(ts AS DATE) AS day, count(*) AS n_events,
               CAST(sum(copies) AS BIGINT) - count(*) AS dups,
               count(DISTINCT (event_type, {order_key})) FILTER (kind = 'p') AS n_orders,
               count(DISTINCT (event_type, {order_key})) FILTER (kind = 'r') AS n_returns,
               count(*) FILTER (kind = 'r') AS return_lines,
               sum(money) FILTER (kind = 'p') AS revenue,
               sum(rating) AS rating_sum, count(rating) AS rating_n
               {type_counts} {attr_d}
        FROM lines GROUP BY cid, day""")
    con.execute("CREATE OR REPLACE TEMP TABLE customers AS SELECT cid, "
                "CAST(row_number() OVER (ORDER BY cid) AS INTEGER) AS cust "
                "FROM (SELECT DISTINCT cid FROM days)")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE daily AS
        SELECT cust, days.* EXCLUDE (cid), CASE WHEN n_orders > 0 THEN
               day - lag(day) OVER (PARTITION BY cust, n_orders > 0 ORDER BY day) END AS gap
        FROM days JOIN customers USING (cid)""")
    con.execute("DROP TABLE days")


def _stage_items(con: duckdb.DuckDBPyConnection, clean: str, m: EventMapping) -> None:
    # one scan for both roles: each purchase line unnests into (0, product), (1, category)
    roles = [(i, role) for i, role in enumerate(("product", "category")) if getattr(m, role)]
    if roles:
        which = ", ".join(str(i) for i, _ in roles)
        items = ", ".join(role for _, role in roles)
        sql = (f"SELECT cid, which, item, min(day) AS first_day FROM ("
               f"SELECT cid, CAST(ts AS DATE) AS day, unnest([{which}]) AS which, "
               f"unnest([{items}]) AS item FROM ({clean}) WHERE kind = 'p') "
               "WHERE item IS NOT NULL GROUP BY cid, which, item")
    else:
        sql = ("SELECT NULL::VARCHAR AS cid, 0 AS which, NULL::VARCHAR AS item, "
               "NULL::DATE AS first_day WHERE FALSE")
    con.execute(f"CREATE OR REPLACE TEMP TABLE items AS "
                f"SELECT cust, which, first_day FROM ({sql}) JOIN customers USING (cid)")


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
    totals, vocab = _quality_pass(con, "typed")
    if totals["first"] is None:
        raise ChurnDataError([Problem(
            "EVENTS_NO_USABLE_ROWS", "error",
            "No line has both a customer id and a readable timestamp.",
            count=totals["rows"], action="check the mapping and the timestamp format")])
    kind, decided = _kind_sql(mapping, totals, vocab)
    money = _money_sql(mapping) or "NULL::DOUBLE"
    clean = (f"SELECT * EXCLUDE (ts_given), {kind} AS kind, {money} AS money "
             "FROM typed WHERE cid IS NOT NULL AND ts IS NOT NULL")
    event_types = [t for t, _ in vocab][:TOP_EVENT_TYPES] if mapping.event_type else []
    if progress:
        progress(0.3, "aggregating events per customer and day")
    candidates = drop_duplicates and _stage_repeated_hashes(con, clean, mapping) > 0
    _stage_daily(con, clean, mapping, event_types, candidates)
    if progress:
        progress(0.6, "first purchase of each product and category")
    _stage_items(con, clean, mapping)
    used, dups, return_lines = con.execute(
        "SELECT sum(n_events), sum(dups), coalesce(sum(return_lines), 0) FROM daily").fetchone()
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
        first_day=totals["first"].date(), last_day=totals["last"].date(),
        rows_read=int(totals["rows"]), rows_used=int(used or 0), dropped=tuple(dropped),
        returns=int(return_lines), event_types=tuple(event_types),
        has_money=_money_sql(mapping) is not None, has_returns=decided["has_returns"],
        problems=tuple(mapping.problems) + tuple(problems))
