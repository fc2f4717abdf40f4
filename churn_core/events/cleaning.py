"""DuckDB expressions that turn raw event-log columns into typed, cleaned values.

Used by :mod:`churn_core.events.staging`; also says what kind each line is
(purchase, return, other) and what money it carries. Every expression runs once per line,
so at 100M lines each costly string function matters: ``trim`` and the
missing-value token lookup are only evaluated where they can change the value.
"""

from __future__ import annotations

import re
from pathlib import Path

from churn_core.events.mapping import EventMapping, quote, source_sql

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
    """``col`` as DOUBLE; text also loses thousands separators, currency and % signs."""
    if not type_name.startswith(("VARCHAR", "BLOB")):
        return f"TRY_CAST({quote(col)} AS DOUBLE)"
    x = text_sql(col)
    return (f"COALESCE(TRY_CAST({x} AS DOUBLE), "
            f"TRY_CAST(regexp_replace({x}, '[,\\s¥$€£￥%]', '', 'g') AS DOUBLE))")


def timestamp_sql(col: str, type_name: str, fmt: str | None) -> str:
    """``col`` as TIMESTAMP (NULL when unreadable); ``fmt`` is a strptime fallback."""
    if type_name.startswith(("TIMESTAMP", "DATE")):
        return f"CAST({quote(col)} AS TIMESTAMP)"
    x = text_sql(col)
    if fmt:
        return f"COALESCE(TRY_CAST({x} AS TIMESTAMP), try_strptime({x}, '{fmt}'))"
    return f"TRY_CAST({x} AS TIMESTAMP)"


def _plain_text(col: str, type_name: str) -> str:
    """Cheap text for typed (Parquet) columns: no trimming or NA tokens."""
    if type_name.startswith("VARCHAR"):
        return f"NULLIF({quote(col)}, '')"
    return f"CAST({quote(col)} AS VARCHAR)"


def _is_integer(type_name: str) -> bool:
    return type_name.removeprefix("U") in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")


def typed_sql(source: str | Path, mapping: EventMapping, types: dict[str, str], *,
              typed_source: bool) -> str:
    """SELECT giving one typed row per line.

    Columns: ``cid, ts, ts_given, event_type, order_id, product, category,
    amount, quantity, unit_price, rating, s0..`` (one ``s<i>`` per static
    attribute). ``typed_source`` (Parquet): only the customer id gets the full
    text clean-up; other text roles are taken as stored, which keeps a
    100M-row scan cheap, and an integer ``order_id`` stays an integer (text
    otherwise).
    """
    m = mapping

    def text(col: str) -> str:
        return _plain_text(col, types[col]) if typed_source else text_sql(col)

    ts_type = types[m.timestamp]
    ts_given = (f"{quote(m.timestamp)} IS NOT NULL" if not ts_type.startswith("VARCHAR")
                else f"{text_sql(m.timestamp)} IS NOT NULL")
    cols = [f"{text_sql(m.customer_id)} AS cid0",
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
    cols += [f"{text(c)} AS s{i}" for i, c in enumerate(m.static)]
    # "17850.0" is an integer id exported through a float column: keep "17850"
    cid = ("CASE WHEN suffix(cid0, '.0') AND regexp_full_match(cid0, '[0-9]+\\.0+') "
           "THEN regexp_replace(cid0, '\\.0+$', '') ELSE cid0 END")
    return (f"SELECT {cid} AS cid, * EXCLUDE (cid0) FROM "
            f"(SELECT {', '.join(cols)} FROM {source_sql(source)})")


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
    ret = " OR ".join(is_return) or "FALSE"
    purchase = "TRUE"
    if m.event_type and purchase_types:
        purchase = f"event_type IN {_sql_list(purchase_types)}"
    sql = (f"CASE WHEN coalesce({ret}, FALSE) THEN 'r' "
           f"WHEN coalesce({purchase}, FALSE) THEN 'p' ELSE 'o' END")
    return sql, {"return_types": return_types, "purchase_types": purchase_types,
                 "c_prefix": c_prefix, "has_returns": bool(is_return)}


def money_sql(m: EventMapping) -> str | None:
    """SQL for the money of a line (amount, or quantity x unit price), None without either."""
    if m.amount:
        return "abs(amount)"
    if m.quantity and m.unit_price:
        return "abs(quantity) * unit_price"
    return None
