"""Column roles of an event log: propose them from the header and a sample, parse overrides.

The proposal reads only the header and the first ``sample_size`` rows through
DuckDB, scores every column against each role by its name (English and
Chinese synonyms) and checks the values (timestamps parse, amounts are
numbers, ratings lie in 0..10, static attributes have few values per
customer). Each column gets at most one role.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from churn_core.problems import ChurnDataError, Problem

logger = logging.getLogger(__name__)

ROLES = (
    "customer_id", "timestamp", "event_type", "amount", "quantity", "unit_price",
    "order_id", "product", "category", "rating",
)
"""Single-column roles; ``static`` (many columns) and ``ignore`` are accepted too."""

ROLE_WORDS = {
    "customer_id": "customer id", "timestamp": "timestamp", "event_type": "event type",
    "amount": "amount", "quantity": "quantity", "unit_price": "unit price",
    "order_id": "order id", "product": "product", "category": "category", "rating": "rating",
}

# Normalised names (lower case, no spaces/underscores/punctuation): exact matches score 3,
# names containing one of the stems score 1.
_EXACT: dict[str, tuple[str, ...]] = {
    "customer_id": ("customerid", "custid", "customer", "customerno", "clientid", "client",
                    "userid", "user", "memberid", "member", "buyerid", "accountid", "account",
                    "客户id", "客户编号", "客户", "用户id", "用户编号", "用户", "会员id",
                    "会员编号", "会员", "买家id", "买家", "顾客id", "顾客"),
    "timestamp": ("timestamp", "time", "date", "datetime", "invoicedate", "orderdate",
                  "eventtime", "eventdate", "createdat", "created", "ts", "时间", "日期",
                  "下单时间", "订单时间", "交易时间", "购买时间", "支付时间", "下单日期",
                  "订单日期", "交易日期", "事件时间"),
    "event_type": ("eventtype", "event", "type", "action", "behavior", "behaviour",
                   "activity", "eventname", "事件", "行为", "类型", "事件类型", "行为类型"),
    "amount": ("amount", "revenue", "total", "sales", "value", "gmv", "spend", "payment",
               "ordervalue", "totalamount", "totalprice", "linetotal", "金额", "实付金额",
               "总价", "销售额", "支付金额", "订单金额", "消费金额", "实付"),
    "quantity": ("quantity", "qty", "units", "quantities", "数量", "件数", "购买数量"),
    "unit_price": ("unitprice", "price", "单价", "价格", "商品单价"),
    "order_id": ("orderid", "order", "orderno", "invoiceno", "invoice", "invoiceid",
                 "transactionid", "transaction", "basketid", "receipt", "订单号", "订单id",
                 "订单编号", "发票号", "交易号", "流水号"),
    "product": ("product", "productid", "sku", "item", "itemid", "stockcode", "productcode",
                "商品", "商品id", "商品编号", "产品", "产品id"),
    "category": ("category", "categoryid", "cat", "department", "productcategory", "类目",
                 "品类", "分类", "类别"),
    "rating": ("rating", "score", "stars", "reviewscore", "评分", "星级", "评价分"),
}
_STEMS: dict[str, tuple[str, ...]] = {
    "customer_id": ("customer", "cust", "client", "user", "member", "buyer", "客户", "用户",
                    "会员", "买家", "顾客"),
    "timestamp": ("date", "time", "时间", "日期"),
    "event_type": ("event", "action", "behav", "行为", "事件"),
    "amount": ("amount", "revenue", "total", "金额", "销售额"),
    "quantity": ("qty", "quant", "数量"),
    "unit_price": ("price", "单价", "价格"),
    "order_id": ("order", "invoice", "transaction", "订单"),
    "product": ("product", "sku", "item", "商品", "产品"),
    "category": ("categor", "类目", "品类", "分类"),
    "rating": ("rating", "star", "评分"),
}
TIMESTAMP_FORMATS = (
    "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y", "%m/%d/%Y", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d", "%d.%m.%Y", "%Y%m%d",
    "%Y年%m月%d日",
)
MAX_STATIC_LEVELS = 50


@dataclass(frozen=True)
class EventMapping:
    """Which column of the event log plays which role.

    Parameters
    ----------
    customer_id, timestamp : str or None
        Required roles; ``None`` only in a proposal that found no candidate
        (:func:`check_mapping` then raises).
    event_type, amount, quantity, unit_price, order_id, product, category, rating : str or None
        Optional roles; features needing a missing role are not produced.
    static : tuple of str
        Low-cardinality per-customer attributes (country, channel); the last
        known value at each cutoff becomes a feature.
    timestamp_format : str or None
        ``strptime`` format used when the text does not parse as ISO.
    problems : tuple of Problem
        What the proposal decided (info) or could not find (error).
    """

    customer_id: str | None = None
    timestamp: str | None = None
    event_type: str | None = None
    amount: str | None = None
    quantity: str | None = None
    unit_price: str | None = None
    order_id: str | None = None
    product: str | None = None
    category: str | None = None
    rating: str | None = None
    static: tuple[str, ...] = ()
    timestamp_format: str | None = None
    problems: tuple[Problem, ...] = dataclasses.field(default=(), compare=False)

    @classmethod
    def from_string(cls, text: str) -> EventMapping:
        """Parse ``"col=role,col=role"`` (roles from :data:`ROLES`, ``static``).

        Raises
        ------
        ChurnDataError
            ``EVENTS_BAD_MAPPING`` for a malformed pair or an unknown role.
        """
        return cls().with_overrides(text)

    def with_overrides(self, text: str) -> EventMapping:
        """Return a copy with ``"col=role,..."`` applied; role ``ignore`` drops a column.

        A column given a new role loses its old one, so ``"Country=ignore"``
        removes a proposed static attribute.
        """
        fields = {r: getattr(self, r) for r in ROLES}
        static = list(self.static)
        problems = []
        for pair in filter(None, (p.strip() for p in text.split(","))):
            col, sep, role = (s.strip() for s in pair.rpartition("="))
            if not sep or not col or role not in (*ROLES, "static", "ignore"):
                problems.append(Problem(
                    "EVENTS_BAD_MAPPING", "error",
                    f"Cannot read mapping entry {pair!r}: expected column=role with a role "
                    f"among {', '.join((*ROLES, 'static', 'ignore'))}.",
                    values=(pair,)))
                continue
            fields = {r: (None if c == col else c) for r, c in fields.items()}
            static = [c for c in static if c != col]
            if role in ROLES:
                fields[role] = col
            elif role == "static":
                static.append(col)
        if problems:
            raise ChurnDataError(problems)
        return dataclasses.replace(self, **fields, static=tuple(static))

    def roles(self) -> dict[str, str]:
        """Return ``{role: column}`` for the single-column roles that are set."""
        return {r: getattr(self, r) for r in ROLES if getattr(self, r) is not None}

    def to_string(self) -> str:
        """Return the mapping as ``"col=role,..."`` (the inverse of :meth:`from_string`)."""
        pairs = [f"{c}={r}" for r, c in self.roles().items()]
        return ",".join(pairs + [f"{c}=static" for c in self.static])

    def to_dict(self) -> dict:
        """Return a JSON-ready dict of roles, static columns and timestamp format."""
        return {**self.roles(), "static": list(self.static),
                "timestamp_format": self.timestamp_format}


def source_sql(source: str | Path, *, sample_size: int = 20_480) -> str:
    """Return the DuckDB table expression reading ``source`` (CSV, CSV.gz, Parquet).

    CSV is read as text (``all_varchar``) so ids keep leading zeros and odd
    values are parsed by our own ``TRY_CAST`` expressions instead of failing.
    """
    path = Path(source)
    quoted = "'" + str(path).replace("'", "''") + "'"
    name = path.name.lower()
    if name.endswith((".parquet", ".pq", ".parq")):
        return f"read_parquet({quoted})"
    return f"read_csv({quoted}, header=true, all_varchar=true, sample_size={int(sample_size)})"


def quote(name: str) -> str:
    """Quote a user's column name as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def describe_source(con: duckdb.DuckDBPyConnection, source: str | Path) -> dict[str, str]:
    """Return ``{column: duckdb type}`` of the source, raising ``EVENTS_UNREADABLE``."""
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {source_sql(source)}").fetchall()
    except (duckdb.Error, OSError) as exc:
        raise ChurnDataError([Problem(
            "EVENTS_UNREADABLE", "error",
            f"Cannot read the event log {Path(source).name}: {exc}".splitlines()[0],
            action="check the file is CSV (UTF-8) or Parquet")]) from exc
    return {r[0]: r[1] for r in rows}


def _norm(name: str) -> str:
    return re.sub(r"[\s_\-./()#:]+", "", name.strip().lower())


def _name_score(role: str, column: str) -> int:
    n = _norm(column)
    if n in _EXACT[role]:
        return 3
    return 1 if any(s in n for s in _STEMS[role]) else 0


def _value_stats(con: duckdb.DuckDBPyConnection, column: str) -> dict[str, float]:
    """Parse rates and cardinality of one sample column (table ``sample``)."""
    q = quote(column)
    txt = f"NULLIF(trim(CAST({q} AS VARCHAR)), '')"
    row = con.execute(f"""
        SELECT count({txt}), count(DISTINCT {txt}),
               avg(CASE WHEN TRY_CAST({txt} AS DOUBLE) IS NOT NULL THEN 1.0 ELSE 0 END),
               min(TRY_CAST({txt} AS DOUBLE)), max(TRY_CAST({txt} AS DOUBLE)),
               avg(CASE WHEN TRY_CAST({txt} AS TIMESTAMP) IS NOT NULL THEN 1.0 ELSE 0 END)
        FROM sample WHERE {txt} IS NOT NULL""").fetchone()
    stats = {"n": row[0], "distinct": row[1], "numeric": row[2] or 0.0, "min": row[3],
             "max": row[4], "iso": row[5] or 0.0, "fmt": None, "fmt_rate": 0.0}
    if row[0] and stats["iso"] < 0.9 and stats["numeric"] < 0.9:
        # not ISO: try the common day-first / month-first / Chinese formats
        rates = con.execute("SELECT " + ", ".join(
            f"avg(CASE WHEN try_strptime({txt}, '{f}') IS NOT NULL THEN 1.0 ELSE 0 END)"
            for f in TIMESTAMP_FORMATS) + f" FROM sample WHERE {txt} IS NOT NULL").fetchone()
        best = max(range(len(rates)), key=lambda i: rates[i] or 0.0)
        stats["fmt"], stats["fmt_rate"] = TIMESTAMP_FORMATS[best], rates[best] or 0.0
    return stats


def _values_fit(role: str, s: dict, type_name: str) -> bool:
    if s["n"] == 0:
        return False
    numeric = s["numeric"] >= 0.9
    if role == "timestamp":
        is_time = type_name.startswith(("TIMESTAMP", "DATE"))
        return is_time or ((s["iso"] >= 0.9 or s["fmt_rate"] >= 0.9) and not numeric)
    if role in ("amount", "quantity", "unit_price"):
        return numeric
    if role == "rating":
        return numeric and s["min"] is not None and s["min"] >= 0 and s["max"] <= 10
    if role == "event_type":
        return not numeric and s["distinct"] <= 100
    if role == "customer_id":
        return s["distinct"] < s["n"] or s["n"] < 20   # ids repeat in a log
    return True


def propose_mapping(source: str | Path, *, overrides: str | None = None,
                    sample_size: int = 20_000,
                    con: duckdb.DuckDBPyConnection | None = None) -> EventMapping:
    """Propose a column role for every column of an event log.

    Parameters
    ----------
    source : str or Path
        CSV (optionally ``.gz``) or Parquet file.
    overrides : str, optional
        ``"col=role,..."`` applied after the proposal (the user's corrections).
    sample_size : int
        Rows read for the value checks; the rest of the file is not touched.
    con : duckdb connection, optional
        Reused when given (tests, build); otherwise an in-memory one.

    Returns
    -------
    EventMapping
        With info problems ``EVENT_ROLE_DETECTED`` / ``EVENT_STATIC_DETECTED``
        and error problems ``EVENTS_NO_CUSTOMER_ID`` / ``EVENTS_NO_TIMESTAMP``
        when a required role has no candidate (the mapping is still returned
        so the user can complete it).

    Raises
    ------
    ChurnDataError
        ``EVENTS_UNREADABLE`` when the file cannot be read,
        ``EVENTS_BAD_MAPPING`` for malformed overrides.
    """
    con = con or duckdb.connect()
    types = describe_source(con, source)
    con.execute(f"CREATE OR REPLACE TEMP TABLE sample AS SELECT * FROM {source_sql(source)} "
                f"LIMIT {int(sample_size)}")
    stats = {c: _value_stats(con, c) for c in types}
    candidates = []
    for role in ROLES:
        for col in types:
            score = _name_score(role, col)
            if role == "timestamp" and score == 0:
                score = 0.5   # any column full of dates will do
            if score and _values_fit(role, stats[col], types[col]):
                candidates.append((score, -list(types).index(col), role, col))
    chosen: dict[str, str] = {}
    reasons: dict[str, str] = {}
    for score, _, role, col in sorted(candidates, reverse=True):
        if role not in chosen and col not in chosen.values():
            chosen[role] = col
            reasons[role] = "name and values" if score >= 1 else "values look like dates"
    static = _propose_static(con, chosen, types, stats)
    ts_col = chosen.get("timestamp")
    ts_format = None
    if ts_col and not types[ts_col].startswith(("TIMESTAMP", "DATE")) \
            and stats[ts_col]["iso"] < 0.9:
        ts_format = stats[ts_col]["fmt"]
    problems = [
        Problem("EVENT_ROLE_DETECTED", "info",
                f"Column {col!r} used as the {ROLE_WORDS[role]} ({reasons[role]}).",
                column=col, action=f"override with {col}=<role> or {col}=ignore")
        for role, col in chosen.items()]
    problems += [
        Problem("EVENT_STATIC_DETECTED", "info",
                f"Column {col!r} used as a customer attribute (few values per customer); "
                "its last known value becomes a feature.", column=col)
        for col in static]
    mapping = EventMapping(**chosen, static=static, timestamp_format=ts_format)
    if overrides:
        mapping = mapping.with_overrides(overrides)
    problems += missing_role_problems(mapping, list(types))
    logger.info("proposed event mapping: %s", mapping.to_string())
    return dataclasses.replace(mapping, problems=tuple(problems))


def _propose_static(con: duckdb.DuckDBPyConnection, chosen: dict[str, str],
                    types: dict[str, str], stats: dict[str, dict]) -> tuple[str, ...]:
    cid = chosen.get("customer_id")
    if cid is None:
        return ()
    out = []
    for col, s in stats.items():
        if col in chosen.values() or s["numeric"] >= 0.9 or s["iso"] >= 0.9 \
                or s["fmt_rate"] >= 0.9 or not 2 <= s["distinct"] <= MAX_STATIC_LEVELS \
                or types[col].startswith(("TIMESTAMP", "DATE")):
            continue
        # an attribute of the customer, not of the event: about one value per customer
        pairs, customers = con.execute(
            f"SELECT count(DISTINCT ({quote(cid)}, {quote(col)})), count(DISTINCT {quote(cid)}) "
            f"FROM sample WHERE {quote(col)} IS NOT NULL AND {quote(cid)} IS NOT NULL").fetchone()
        if customers and pairs <= 1.1 * customers:
            out.append(col)
    return tuple(out)


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


def sample_frame(source: str | Path, *, rows: int = 1000) -> pd.DataFrame:
    """Return the first ``rows`` rows as text, for showing the file beside the mapping."""
    con = duckdb.connect()
    return con.execute(f"SELECT * FROM {source_sql(source)} LIMIT {int(rows)}").df()
