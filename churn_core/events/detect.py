"""What the values of a sampled event-log column look like, and which roles they fit.

Everything is measured once on a sample (table ``sample``) and turned into a
decision the per-line SQL then applies as it is: the timestamp format (ISO,
a strptime format, Unix seconds/milliseconds, ``YYYYMMDD`` numbers, UTC
offsets), whether a column holds numbers, ratings, ids or a few event types.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import duckdb

from churn_core.events.cleaning import (
    EPOCH_FORMATS,
    OFFSET_PATTERN,
    UTC_OFFSET_FORMAT,
    number_sql,
)
from churn_core.events.source import quote

TIMESTAMP_FORMATS = (
    "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d", "%d.%m.%Y", "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S", "%Y%m%d", "%Y年%m月%d日",
)
# Unix times are recognised when every sampled value falls in these years
EPOCH_RANGE = (datetime(2000, 1, 1, tzinfo=UTC).timestamp(),
               datetime(2100, 1, 1, tzinfo=UTC).timestamp())
# nanoseconds are not looked for: 19-digit ids (REES46's category_id) fall in their range
_SECONDS_PER_UNIT = {f: EPOCH_FORMATS[f] / 1_000_000 for f in ("epoch_s", "epoch_ms", "epoch_us")}
MIN_RATE = 0.9          # share of sampled values that must fit a decision
MAX_EVENT_TYPES = 100
MAX_QUANTITY = 1000     # largest quantity when a headerless column is guessed to be one


@dataclass(frozen=True)
class ColumnStats:
    """What the sampled values of one column look like.

    ``numeric`` is the share that reads as numbers (as the staging reads them),
    ``integral`` the share of those that are whole; ``iso`` the share that casts to
    a timestamp; ``time_format`` and ``time_rate`` the timestamp decision (see
    :func:`churn_core.events.cleaning.timestamp_sql`) and the share it reads.
    """

    n: int
    distinct: int
    numeric: float
    integral: float
    min: float | None
    max: float | None
    iso: float
    time_format: str | None
    time_rate: float

    @property
    def is_numeric(self) -> bool:
        return self.numeric >= MIN_RATE

    @property
    def is_time(self) -> bool:
        return self.time_rate >= MIN_RATE

    @property
    def is_text_time(self) -> bool:
        """Dates written as text; numbers that read as times (Unix times) may be ids too."""
        return self.is_time and not self.is_numeric


def column_stats(con: duckdb.DuckDBPyConnection, column: str, type_name: str) -> ColumnStats:
    """Measure one column of table ``sample`` (see :class:`ColumnStats`)."""
    q = quote(column)
    txt = f"NULLIF(trim(CAST({q} AS VARCHAR)), '')"
    # every value is parsed once, in a subquery; the aggregates only read the results
    n, distinct, numeric, integral, lo, hi, iso, offset, shifted = con.execute(f"""
        SELECT count(*), count(DISTINCT t), avg(CAST(v IS NOT NULL AS DOUBLE)),
               avg(CAST(v = floor(v) AS DOUBLE)) FILTER (v IS NOT NULL), min(v), max(v),
               avg(CAST(TRY_CAST(t AS TIMESTAMP) IS NOT NULL AS DOUBLE)),
               avg(CAST(o AS DOUBLE)), bool_or(o AND NOT regexp_matches(t, '[+-]00:?(00)?$'))
        FROM (SELECT t, v, regexp_matches(t, '{OFFSET_PATTERN}') AS o
              FROM (SELECT {txt} AS t, {number_sql(column, type_name)} AS v FROM sample)
              WHERE t IS NOT NULL)""").fetchone()
    stats = ColumnStats(n=n, distinct=distinct, numeric=numeric or 0.0,
                        integral=integral or 0.0, min=lo, max=hi, iso=iso or 0.0,
                        time_format=None, time_rate=0.0)
    if type_name.startswith(("TIMESTAMP", "DATE")):
        return _with_time(stats, None, 1.0)
    if not n:
        return stats
    if stats.is_numeric:
        epoch = _epoch_unit(stats)
        if epoch:
            return _with_time(stats, epoch, stats.numeric)
        if stats.integral == 1.0 and lo >= 19_000_101 and hi <= 21_001_231:
            rate = _format_rates(con, txt, ("%Y%m%d",))[0]
            return _with_time(stats, "%Y%m%d", rate)
        return stats
    if stats.iso >= MIN_RATE:
        # the cast drops an offset: "05:00+03:00" would read as 05:00, not 02:00 UTC
        utc = (offset or 0) >= MIN_RATE and bool(shifted)
        return _with_time(stats, UTC_OFFSET_FORMAT if utc else None, stats.iso)
    rates = _format_rates(con, txt, TIMESTAMP_FORMATS)
    best = max(range(len(rates)), key=lambda i: rates[i])
    return _with_time(stats, TIMESTAMP_FORMATS[best], rates[best])


def _with_time(stats: ColumnStats, fmt: str | None, rate: float) -> ColumnStats:
    return replace(stats, time_format=fmt, time_rate=rate)


def _epoch_unit(stats: ColumnStats) -> str | None:
    """The Unix-time unit putting every sampled number in 2000-2100, if one does."""
    if stats.min is None or stats.integral < MIN_RATE:
        return None
    for fmt, seconds in _SECONDS_PER_UNIT.items():
        if EPOCH_RANGE[0] <= stats.min * seconds and stats.max * seconds < EPOCH_RANGE[1]:
            return fmt
    return None


def _format_rates(con: duckdb.DuckDBPyConnection, txt: str, formats: tuple[str, ...]
                  ) -> list[float]:
    row = con.execute("SELECT " + ", ".join(
        f"avg(CASE WHEN try_strptime({txt}, '{f}') IS NOT NULL THEN 1.0 ELSE 0 END)"
        for f in formats) + f" FROM sample WHERE {txt} IS NOT NULL").fetchone()
    return [r or 0.0 for r in row]


def values_fit(role: str, s: ColumnStats) -> bool:
    """Whether the sampled values of a column can play ``role``."""
    if s.n == 0:
        return False
    if role == "timestamp":
        return s.is_time
    if role in ("amount", "quantity", "unit_price"):
        return s.is_numeric
    if role == "rating":
        return s.is_numeric and s.min is not None and s.min >= 0 and s.max <= 10
    if role == "return_flag":
        # 0/1, or two words (yes/no, true/false, returned/kept)
        if s.is_numeric:
            return s.integral == 1.0 and s.min is not None and s.min >= 0 and s.max <= 1
        return not s.is_time and s.distinct <= 2
    if role == "event_type":
        return not s.is_numeric and not s.is_time and s.distinct <= MAX_EVENT_TYPES
    if role == "customer_id":
        return not s.is_text_time and (s.distinct < s.n or s.n < 20)   # ids repeat in a log
    return not s.is_text_time


def roles_from_values(stats: dict[str, ColumnStats]) -> dict[str, str]:
    """Roles of a file without a header line, from the values alone (left to right).

    The timestamp is the column of dates or Unix times with the most distinct
    values; the event type the first column of a few words; the amount the first
    column of decimal numbers; the customer id the first other column whose
    values repeat; the quantity the first other column of small whole numbers.
    """
    chosen: dict[str, str] = {}

    def pick(role: str, test) -> None:
        col = next((c for c, s in stats.items()
                    if c not in chosen.values() and s.n and test(s)), None)
        if col is not None:
            chosen[role] = col

    # numbers can read as Unix times by chance (ten-digit ids): the time is the most varied
    times = [c for c, s in stats.items() if s.n and s.is_time]
    if times:
        chosen["timestamp"] = max(times, key=lambda c: (stats[c].distinct / stats[c].n,
                                                        -list(stats).index(c)))
    pick("event_type", lambda s: values_fit("event_type", s) and s.distinct >= 2)
    pick("amount", lambda s: s.is_numeric and s.integral < MIN_RATE)
    pick("customer_id", lambda s: s.distinct < s.n and (not s.is_numeric or s.integral == 1))
    pick("quantity", lambda s: s.is_numeric and s.integral == 1
         and s.min is not None and s.min >= -MAX_QUANTITY and s.max <= MAX_QUANTITY)
    return chosen


def describe_time_format(column: str, fmt: str, example: str | None) -> str:
    """One sentence saying how a timestamp column is read, for an info problem."""
    shown = f" (e.g. {example!r})" if example else ""
    if fmt in EPOCH_FORMATS:
        unit = {"epoch_s": "seconds", "epoch_ms": "milliseconds", "epoch_us": "microseconds",
                "epoch_ns": "nanoseconds"}[fmt]
        return (f"Column {column!r} holds Unix times in {unit}{shown}; read as dates and "
                "times in UTC.")
    if fmt == UTC_OFFSET_FORMAT:
        return (f"Column {column!r} holds times with UTC offsets{shown}; converted to UTC "
                "(an offset-free value is read as it is).")
    return f"Column {column!r} is read with the date format {fmt}{shown}."
