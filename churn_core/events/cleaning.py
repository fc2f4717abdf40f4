"""DuckDB expressions that turn raw event-log columns into typed, cleaned values.

Used by :mod:`churn_core.events.staging`; also says what kind each line is
(purchase, return, other) and what money it carries. Every expression runs once per line,
so at 100M lines each costly string function matters: ``trim`` and the
missing-value token lookup are only evaluated where they can change the value.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from churn_core.events.source import quote, source_sql
from churn_core.events.textlog import sql_literal
from churn_core.events.types import EventMapping
from churn_core.problems import ChurnDataError, Problem

#: ``timestamp_format`` values for integer Unix times: microseconds per unit.
EPOCH_FORMATS = {"epoch_s": 1_000_000, "epoch_ms": 1_000, "epoch_us": 1, "epoch_ns": 0.001}
#: ``timestamp_format`` of ISO text with UTC offsets (``+03:00``): converted to UTC.
UTC_OFFSET_FORMAT = "iso_utc"
# Unix times outside these years are unreadable (also keeps make_timestamp in range)
_EPOCH_YEARS = (-2_208_988_800, 7_258_118_400)     # 1900-01-01, 2200-01-01 in seconds
# an offset after a time of day: "10:00:00+03:00", "10:00+0300", "10:00:00.5 -05"
OFFSET_PATTERN = r"[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)? ?[+-][0-9]{2}(:?[0-9]{2})?$"

# a comma followed by 0, 1 or 4+ digits, or by 2 digits that end the number: not a group mark
_NOT_GROUPED = ",([0-9]?|[0-9]{4,})([^0-9]|$)|,[0-9]{2}([^0-9,]|$)"

NA_TOKENS = ("nan", "NaN", "None", "NULL", "null", "NA", "N/A", "n/a", "-", "--", "?",
             "无", "空", "#N/A")
# every token is at most this many bytes, so longer values skip the lookup
_TOKEN_BYTES = max(len(t.encode("utf-8")) for t in NA_TOKENS)


def _trimmed(x: str) -> str:
    # trim() costs several times a column scan; a pure-ASCII value (bytes = characters)
    # that neither starts nor ends with a space is already trimmed (trim only strips
    # spaces, ASCII or Unicode, and no Unicode space is ASCII)
    return (f"CASE WHEN strlen({x}) = length({x}) AND NOT ({x} LIKE ' %' OR {x} LIKE '% ') "
            f"THEN {x} ELSE trim({x}) END")


def text_sql(col: str) -> str:
    """Text of ``col``: trimmed, with empty strings and missing-value tokens as NULL."""
    x = f"NULLIF({_trimmed(f'CAST({quote(col)} AS VARCHAR)')}, '')"
    # equality tests instead of IN (...): DuckDB plans a long IN list as a join over all rows
    tokens = " OR ".join("{x} = '" + t.replace("'", "''") + "'" for t in NA_TOKENS)
    return (f"CASE WHEN strlen({x}) <= {_TOKEN_BYTES} AND ({tokens.format(x=x)}) "
            f"THEN NULL ELSE {x} END")


def number_sql(col: str, type_name: str) -> str:
    """``col`` as DOUBLE; text also loses digit-group commas, currency and % signs.

    A comma counts as a digit-group separator only before groups of digits
    (``1,234.50``, ``1,23,456``): ``12,50`` is NULL here, not 1250. Columns
    written with a decimal comma have it turned into a point when read
    (:func:`churn_core.events.source.relation_sql`). The clean-up runs only on
    values the plain cast rejects; each part is written once, because DuckDB
    computes a repeated expression for every line, ahead of the COALESCE.
    """
    if not type_name.startswith(("VARCHAR", "BLOB")):
        return f"TRY_CAST({quote(col)} AS DOUBLE)"
    x = text_sql(col)
    return (f"COALESCE(TRY_CAST({x} AS DOUBLE), CASE WHEN NOT regexp_matches({x}, "
            f"'{_NOT_GROUPED}') THEN TRY_CAST(regexp_replace({x}, '[,\\s¥$€£￥%]', '', 'g') "
            "AS DOUBLE) END)")


def timestamp_sql(col: str, type_name: str, fmt: str | None) -> str:
    """``col`` as TIMESTAMP (NULL when unreadable).

    ``fmt`` is a strptime fallback for text that is not ISO, or one of the
    decisions made once from a sample: :data:`EPOCH_FORMATS` (Unix times, in
    UTC) or :data:`UTC_OFFSET_FORMAT` (ISO text with offsets, converted to UTC).
    ``2019-10-01 00:00:00 UTC`` and ``...Z`` need none: the cast reads them.
    """
    if type_name.startswith(("TIMESTAMP", "DATE")):
        return f"CAST({quote(col)} AS TIMESTAMP)"
    if fmt in EPOCH_FORMATS:
        per_unit = EPOCH_FORMATS[fmt]
        number = f"TRY_CAST({text_sql(col) if type_name.startswith('VARCHAR') else quote(col)} " \
                 "AS DOUBLE)"
        lo, hi = (y * 1_000_000 / per_unit for y in _EPOCH_YEARS)
        # the number is written three times: DuckDB computes a repeated expression once
        # (a subquery per line would cost 5x); make_timestamp fails on values out of range
        return (f"make_timestamp(CAST(CASE WHEN {number} >= {lo:.0f} AND {number} < {hi:.0f} "
                f"THEN {number} * {per_unit} END AS BIGINT))")
    x = text_sql(col)
    if fmt == UTC_OFFSET_FORMAT:
        # a text without an offset would be read in the session time zone: cast it as is;
        # the TIMESTAMPTZ cast rejects a space before the offset ("10:00:00 -0500", Shopify)
        joined = f"regexp_replace({x}, ' ([+-][0-9]{{2}}(:?[0-9]{{2}})?)$', '\\1')"
        return (f"CASE WHEN regexp_matches({x}, '{OFFSET_PATTERN}') "
                f"THEN timezone('UTC', TRY_CAST({joined} AS TIMESTAMPTZ)) "
                f"ELSE TRY_CAST({x} AS TIMESTAMP) END")
    if fmt:
        # the format is the user's: a SQL literal, never pasted in; tried before the ISO
        # cast, so a format given for values that also read as ISO (01-02 days first) wins
        return f"COALESCE(try_strptime({x}, {sql_literal(fmt)}), TRY_CAST({x} AS TIMESTAMP))"
    return f"TRY_CAST({x} AS TIMESTAMP)"


def check_timestamp_format(fmt: str | None) -> None:
    """Refuse a ``timestamp_format`` DuckDB cannot use, before any data is read.

    Raises
    ------
    ChurnDataError
        ``EVENTS_BAD_TIME_FORMAT`` naming the format and what DuckDB said.
    """
    if fmt is None or fmt in EPOCH_FORMATS or fmt == UTC_OFFSET_FORMAT:
        return
    why = None
    if not fmt or len(fmt) > 100 or any(ord(ch) < 32 for ch in fmt) or "%" not in fmt:
        why = "a date format is a short strptime pattern such as %d/%m/%Y %H:%M"
    else:
        con = duckdb.connect()
        try:  # the format is bound as a parameter: checking it runs nothing of the user's
            con.execute("SELECT try_strptime('2024-01-31', $1)", [fmt]).fetchall()
        except duckdb.Error as exc:
            why = str(exc).splitlines()[0]
        finally:
            con.close()
    if why:
        raise ChurnDataError([Problem(
            "EVENTS_BAD_TIME_FORMAT", "error", f"The timestamp format {fmt[:100]!r} cannot be "
            f"used: {why}.", values=(fmt[:100],), action="give a strptime format such as "
            f"%Y-%m-%d %H:%M:%S, or one of {', '.join(EPOCH_FORMATS)}, {UTC_OFFSET_FORMAT}")])


def _plain_text(col: str, type_name: str) -> str:
    """Cheap text for typed (Parquet) columns: no trimming or NA tokens."""
    if type_name.startswith("VARCHAR"):
        return f"NULLIF({quote(col)}, '')"
    return f"CAST({quote(col)} AS VARCHAR)"


#: values of a return flag that mark a return (compared trimmed, in lower case)
TRUE_TOKENS = ("1", "1.0", "1.00", "true", "t", "yes", "y", "x", "return", "returned",
               "refund", "refunded", "cancel", "cancelled", "canceled", "是", "退货", "已退货",
               "退款")


def flag_sql(col: str, type_name: str) -> str:
    """BOOLEAN: whether ``col`` (a return flag: 1/0, true/false, yes/no...) is set."""
    if type_name.startswith("BOOLEAN"):
        return f"coalesce({quote(col)}, FALSE)"
    if not type_name.startswith(("VARCHAR", "BLOB")):
        return f"coalesce({quote(col)} = 1, FALSE)"
    tokens = ", ".join(f"'{t}'" for t in TRUE_TOKENS)
    return f"coalesce(lower(trim(CAST({quote(col)} AS VARCHAR))) IN ({tokens}), FALSE)"


def _is_integer(type_name: str) -> bool:
    return type_name.removeprefix("U") in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")


def typed_sql(source: str | Path, mapping: EventMapping, types: dict[str, str], *,
              typed_source: bool) -> str:
    """SELECT giving one typed row per line.

    Columns: ``cid, ts, ts_given, event_type, order_id, product, category,
    amount, quantity, unit_price, rating, ret_flag, s0..`` (one ``s<i>`` per
    static attribute). ``typed_source`` (Parquet): every role is taken as stored,
    which keeps a 100M-row scan cheap: ``cid`` is the stored id (any type),
    cleaned later once per distinct value with :func:`clean_id_sql`, and an
    integer ``order_id`` stays an integer (text otherwise).
    """
    m = mapping

    def text(col: str) -> str:
        return _plain_text(col, types[col]) if typed_source else text_sql(col)

    ts_type = types[m.timestamp]
    ts_given = (f"{quote(m.timestamp)} IS NOT NULL" if not ts_type.startswith("VARCHAR")
                else f"{text_sql(m.timestamp)} IS NOT NULL")
    # a typed source keeps the stored id, cleaned later once per distinct value (clean_id_sql)
    cid0 = quote(m.customer_id) if typed_source else text_sql(m.customer_id)
    cols = [f"{cid0} AS cid0",
            f"{timestamp_sql(m.timestamp, ts_type, m.timestamp_format)} AS ts",
            f"{ts_given} AS ts_given"]
    for role in ("event_type", "order_id", "product", "category"):
        col = getattr(m, role)
        expr = "NULL::VARCHAR" if col is None else text(col)
        if role == "order_id" and col is not None and typed_source and _is_integer(types[col]):
            # an integer order id is only compared and grouped: no text needed
            expr = quote(col)
        cols.append(f"{'lower(' + expr + ')' if role == 'event_type' else expr} AS {role}")
    for role in ("amount", "quantity", "unit_price", "rating"):
        col = getattr(m, role)
        cols.append(f"{'NULL::DOUBLE' if col is None else number_sql(col, types[col])} AS {role}")
    flag = m.return_flag
    cols.append(f"{'FALSE' if flag is None else flag_sql(flag, types[flag])} AS ret_flag")
    cols += [f"{text(c)} AS s{i}" for i, c in enumerate(m.static)]
    cid = "cid0" if typed_source else _float_id("cid0")
    return (f"SELECT {cid} AS cid, * EXCLUDE (cid0) FROM "
            f"(SELECT {', '.join(cols)} FROM {source_sql(source, mapping)})")


def _float_id(x: str) -> str:
    # "17850.0" is an integer id exported through a float column: keep "17850"
    return (f"CASE WHEN suffix({x}, '.0') AND regexp_full_match({x}, '[0-9]+\\.0+') "
            f"THEN regexp_replace({x}, '\\.0+$', '') ELSE {x} END")


def clean_id_sql(col: str) -> str:
    """The customer id in ``col`` as clean text (NULL for missing-value tokens).

    The same clean-up :func:`typed_sql` gives text sources line by line; for
    typed (Parquet) sources it runs once per distinct stored id.
    """
    return _float_id(f"({text_sql(col)})")


RETURN_WORDS = re.compile(r"return|cancel|refund|退货|退款|取消|退订", re.IGNORECASE)
PURCHASE_WORDS = re.compile(
    r"purchase|order|buy|bought|transaction|checkout|pay|sale|下单|购买|支付|订单|成交",
    re.IGNORECASE)


def _sql_list(values: list[str]) -> str:
    return "(" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + ")"


def kind_sql(m: EventMapping, totals: dict, vocab: list) -> tuple[str, dict]:
    """SQL for the line kind ('p' purchase, 'r' return, 'o' other) and what was decided.

    Parameters
    ----------
    m : EventMapping
    totals : dict
        Counts from the first scan; ``orders`` and ``c_orders`` (order ids starting
        with C) decide whether C invoices are cancellations.
    vocab : list of (event type, lines)
        Event types seen; their names decide which are returns and purchases.

    Returns
    -------
    sql : str
        A CASE expression over the typed columns.
    decided : dict
        ``return_types``, ``purchase_types``, ``c_prefix``, ``has_returns``.
    """
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
    if m.return_flag:
        is_return.append("ret_flag")
    ret = " OR ".join(is_return) or "FALSE"
    purchase = "TRUE"
    if m.event_type and purchase_types:
        purchase = f"event_type IN {_sql_list(purchase_types)}"
    sql = (f"CASE WHEN coalesce({ret}, FALSE) THEN 'r' "
           f"WHEN coalesce({purchase}, FALSE) THEN 'p' ELSE 'o' END")
    return sql, {"return_types": return_types, "purchase_types": purchase_types,
                 "c_prefix": c_prefix, "has_returns": bool(is_return)}


def money_sql(m: EventMapping) -> str | None:
    """SQL for the money of a line, None when the mapping has none.

    The amount; else quantity x unit price; else the unit price alone (a log of
    single items, like REES46's ``price`` on each purchase line).
    """
    if m.amount:
        return "abs(amount)"
    if m.quantity and m.unit_price:
        return "abs(quantity) * unit_price"
    if m.unit_price:
        return "abs(unit_price)"
    return None
