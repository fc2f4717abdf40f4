"""Event logs in the shapes of public e-commerce datasets, end to end with every default.

Each file is small and synthetic but written the way the real one is (column
names, value formats, encodings, layout), spans two years so a backtest by time
exists, and has a known answer: the orders, customers and money of the last 365
days, which the scoring table must reproduce.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from churn_core.events import build_tables, propose_mapping
from churn_core.events.cleaning import number_sql
from churn_core.events.source import open_source
from churn_core.problems import ChurnDataError
from churn_core.reading.table import ReadOptions

START = datetime(2022, 1, 1)
EPOCH = datetime(1970, 1, 1)


def _purchases(seed: int, customers: int = 60) -> list[tuple[int, datetime, float]]:
    """(customer, time, amount) of purchases; one per customer and day, customers leave."""
    rng = np.random.default_rng(seed)
    out = []
    for c in range(customers):
        first = int(rng.integers(0, 640))
        life = min(730 - first, int(rng.exponential(300)) + 30)
        k = min(life, 1 + int(rng.poisson(life / 40)))
        for day in rng.choice(np.arange(first, first + life), size=k, replace=False):
            t = START + timedelta(days=int(day), seconds=int(rng.integers(3600, 86_400)))
            out.append((c, t, round(float(rng.uniform(1, 2000)), 2)))
    return sorted(out, key=lambda r: r[1])


def _expected(purchases, shift: timedelta = timedelta(0)) -> tuple[int, int, float]:
    """Orders, customers and money of the 365 days up to the last day (the scoring window)."""
    days = [((t + shift).date(), c, a) for c, t, a in purchases]
    last = max(d for d, _, _ in days)
    recent = [(c, a) for d, c, a in days if last - timedelta(days=365) < d <= last]
    return len(recent), len({c for c, _ in recent}), sum(a for _, a in recent)


def _build(path: Path, **options):
    mapping = propose_mapping(path, **options)
    result = build_tables(path, mapping)
    assert len(result.training) > 100 and len(result.scoring) > 10
    assert set(result.training["churned"]) == {0, 1}
    return mapping, result


def _codes(problems) -> set[str]:
    return {p.code for p in problems}


def _assert_recent(result, expected, money: bool = True) -> None:
    orders, customers, revenue = expected
    assert result.scoring["orders_365d"].sum() == orders
    assert len(result.scoring) == customers
    if money:
        assert result.scoring["revenue_365d"].sum() == pytest.approx(revenue, rel=1e-9)
    else:
        assert "revenue_365d" not in result.scoring


def _write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_retailrocket_epoch_milliseconds(tmp_path):
    purchases = _purchases(1)
    lines = ["timestamp,visitorid,event,itemid,transactionid"]
    for tid, (c, t, _) in enumerate(purchases, start=1):
        ms = int((t - EPOCH).total_seconds()) * 1000 + 123
        lines += [f"{ms - 600_000},{c * 7 + 3},view,{tid % 97},",
                  f"{ms - 60_000},{c * 7 + 3},addtocart,{tid % 97},",
                  f"{ms},{c * 7 + 3},transaction,{tid % 97},{tid}"]
    path = _write(tmp_path / "events.csv", lines)
    mapping, result = _build(path)
    assert mapping.roles() == {"customer_id": "visitorid", "timestamp": "timestamp",
                               "event_type": "event", "order_id": "transactionid",
                               "product": "itemid"}
    assert mapping.timestamp_format == "epoch_ms"
    assert "EVENTS_TIMESTAMP_FORMAT" in _codes(mapping.problems)
    assert result.summary["first_date"] == min(t for _, t, _ in purchases).date().isoformat()
    assert result.summary["rows_used"] == len(lines) - 1
    _assert_recent(result, _expected(purchases), money=False)


@pytest.mark.parametrize("header", [True, False])
def test_taobao_epoch_seconds_with_and_without_header(tmp_path, header):
    purchases = _purchases(2)
    # ten-digit user ids lie in the Unix-seconds range too: names decide
    lines = ["user_id,item_id,category_id,behavior_type,timestamp"] if header else []
    for c, t, _ in purchases:
        s = int((t - EPOCH).total_seconds())
        lines += [f"{1_000_000_000 + c},{2_000_000 + c},{4_000 + c % 9},{b},{s - 60 * k}"
                  for k, b in ((3, "pv"), (2, "fav"), (1, "cart"), (0, "buy"))]
    path = _write(tmp_path / "UserBehavior.csv", lines)
    mapping, result = _build(path)
    if header:
        assert (mapping.customer_id, mapping.timestamp, mapping.event_type, mapping.product,
                mapping.category) == ("user_id", "timestamp", "behavior_type", "item_id",
                                      "category_id")
        assert "EVENTS_NO_HEADER" not in _codes(mapping.problems)
    else:
        assert (mapping.customer_id, mapping.timestamp, mapping.event_type) == (
            "column_1", "column_5", "column_4")
        assert mapping.file_format.header_row is None
        assert "EVENTS_NO_HEADER" in _codes(mapping.problems)
    assert mapping.timestamp_format == "epoch_s"
    assert result.summary["rows_read"] == len(purchases) * 4
    assert result.scoring["customer_id"].str.startswith("1000000").all()
    _assert_recent(result, _expected(purchases), money=False)


@pytest.mark.parametrize(("suffix", "fmt", "shift"), [
    (" UTC", None, 0), ("Z", None, 0), ("+00:00", None, 0), ("+03:00", "iso_utc", -3),
    (" -0500", "iso_utc", 5), (" +01:00", "iso_utc", -1), ("-05", "iso_utc", 5),
])
def test_rees46_time_zones_and_price_as_money(tmp_path, suffix, fmt, shift):
    purchases = _purchases(3)
    lines = ["event_time,event_type,product_id,category_id,category_code,brand,price,user_id,"
             "user_session"]
    sep = "T" if suffix == "Z" else " "
    for i, (c, t, price) in enumerate(purchases):
        for k, event in enumerate(("view", "cart", "purchase")):
            when = t - timedelta(minutes=2 - k)
            lines.append(f"{when:%Y-%m-%d}{sep}{when:%H:%M:%S}{suffix},{event},{1_000_000 + i},"
                         f"2053013555631882655,electronics.smartphone,apple,{price:.2f},"
                         f"{512_000_000 + c},{i:08d}-4dac-4778-8d2c-92e149dab885")
    path = _write(tmp_path / "2019-Oct.csv", lines)
    mapping, result = _build(path)
    assert (mapping.customer_id, mapping.timestamp, mapping.event_type, mapping.unit_price,
            mapping.category) == ("user_id", "event_time", "event_type", "price", "category_id")
    assert mapping.timestamp_format == fmt
    assert mapping.static == ()                       # sessions are not customer attributes
    assert "EVENTS_PRICE_AS_AMOUNT" in _codes(mapping.problems)
    _assert_recent(result, _expected(purchases, timedelta(hours=shift)))


def test_online_retail_ii_float_ids_and_cancellations(tmp_path):
    purchases = _purchases(4)
    lines = ["Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"]
    money = []
    for i, (c, t, _) in enumerate(purchases):
        country = ("United Kingdom", "France", "EIRE")[c % 3]
        lines.append(f"{489_434 + i},85123A,\"WHITE HANGING HEART, T-LIGHT\",{1 + i % 5},"
                     f"{t:%Y-%m-%d %H:%M:%S},2.55,{13_000 + c}.0,{country}")
        money.append(round((1 + i % 5) * 2.55, 2))
        if i % 10 == 0:
            lines.append(f"C{489_434 + i},85123A,WHITE HANGING HEART,-1,{t:%Y-%m-%d %H:%M:%S},"
                         f"2.55,{13_000 + c}.0,{country}")
    lines.append("489999,POST,POSTAGE,1,2023-06-01 10:00:00,18.00,,United Kingdom")
    path = _write(tmp_path / "online_retail_II.csv", lines)
    mapping, result = _build(path)
    assert mapping.roles() == {"customer_id": "Customer ID", "timestamp": "InvoiceDate",
                               "quantity": "Quantity", "unit_price": "Price",
                               "order_id": "Invoice", "product": "StockCode"}
    assert mapping.static == ("Country",)
    assert result.summary["returns"] == len(range(0, len(purchases), 10))
    dropped = {d["code"]: d["count"] for d in result.summary["dropped"]}
    assert dropped == {"EVENTS_MISSING_ID": 1}
    assert not result.scoring["customer_id"].str.contains(".", regex=False).any()
    priced = [(c, t, m) for (c, t, _), m in zip(purchases, money, strict=True)]
    _assert_recent(result, _expected(priced))


def _cdnow_lines(purchases) -> list[str]:
    return [f"{c + 1:05d} {t:%Y%m%d} {1 + c % 3:>3} {a:>8.2f}" for c, t, a in purchases]


def test_cdnow_whitespace_separated_without_header(tmp_path):
    purchases = _purchases(5)
    path = _write(tmp_path / "CDNOW_master.txt", _cdnow_lines(purchases))
    mapping, result = _build(path)
    assert mapping.roles() == {"customer_id": "column_1", "timestamp": "column_2",
                               "amount": "column_4", "quantity": "column_3"}
    assert mapping.timestamp_format == "%Y%m%d"
    assert mapping.file_format.delimiter == " " and mapping.file_format.header_row is None
    assert {"DELIMITER_DETECTED", "EVENTS_NO_HEADER"} <= _codes(mapping.problems)
    assert result.scoring["customer_id"].str.fullmatch(r"\d{5}").all()   # zeros kept
    _assert_recent(result, _expected(purchases))


def _european(amount: float) -> str:
    return f"{amount:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")


def test_semicolons_and_decimal_commas(tmp_path):
    purchases = _purchases(6)
    lines = ["Kunde;Datum;Bestellung;Menge;Betrag;Stadt"]
    lines += [f"K{c:04d};{t:%d.%m.%Y};{i};{1 + c % 3};{_european(a)};"
              f"{('München', 'Köln', 'Zürich')[c % 3]}" for i, (c, t, a) in enumerate(purchases)]
    path = _write(tmp_path / "bestellungen.csv", lines)
    assert _european(1234.5) == "1.234,50"
    mapping, result = _build(path)
    assert mapping.roles() == {"customer_id": "Kunde", "timestamp": "Datum", "amount": "Betrag",
                               "quantity": "Menge", "order_id": "Bestellung"}
    assert mapping.decimal_comma == ("Betrag",) and mapping.timestamp_format == "%d.%m.%Y"
    assert {"DELIMITER_DETECTED", "EVENTS_DECIMAL_COMMA"} <= _codes(mapping.problems)
    assert result.summary["mapping"]["decimal_comma"] == ["Betrag"]
    _assert_recent(result, _expected(purchases))


def test_number_sql_never_reads_a_decimal_comma_as_thousands():
    import duckdb

    values = ["12,50", "1,234.50", "€12.50", "1,23,456", "1 234.5", "12%", "abc"]
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest(?) AS v", [values])
    got = dict(con.execute(f"SELECT v, {number_sql('v', 'VARCHAR')} FROM t").fetchall())
    assert got == {"12,50": None, "1,234.50": 1234.5, "€12.50": 12.5, "1,23,456": 123456.0,
                   "1 234.5": 1234.5, "12%": 12.0, "abc": None}


def test_gb18030_chinese_headers_through_a_utf8_copy(tmp_path):
    purchases = _purchases(7)
    lines = ["用户ID,时间,行为,金额"]
    for c, t, a in purchases:
        lines += [f"用户{c:03d},{t - timedelta(minutes=5):%Y-%m-%d %H:%M:%S},浏览,",
                  f"用户{c:03d},{t:%Y-%m-%d %H:%M:%S},购买,{a:.2f}"]
    path = _write(tmp_path / "订单.csv", lines, "gb18030")
    mapping, result = _build(path)
    assert mapping.roles() == {"customer_id": "用户ID", "timestamp": "时间",
                               "event_type": "行为", "amount": "金额"}
    assert mapping.file_format.encoding == "gb18030"
    assert "ENCODING_DETECTED" in _codes(mapping.problems)
    assert result.scoring["customer_id"].str.startswith("用户").all()
    _assert_recent(result, _expected(purchases))
    copy = open_source(path).read_path
    assert copy != path and copy.parent.name.startswith("churn_duckdb_")
    # the user's encoding wins (here a wrong one: the names no longer read as Chinese)
    wrong = propose_mapping(path, read=ReadOptions(encoding="big5"))
    assert wrong.file_format.encoding == "big5" and wrong.customer_id is None
    assert "ENCODING_DETECTED" not in _codes(wrong.problems)


def test_cp1252_with_currency_signs(tmp_path):
    purchases = _purchases(8)
    lines = ["Client,Date,Montant,Ville"]
    lines += [f"Cliént{c:03d},{t:%Y-%m-%d},€{a:.2f},{('Besançon', 'Orléans', 'Nîmes')[c % 3]}"
              for c, t, a in purchases]
    path = _write(tmp_path / "ventes.csv", lines, "cp1252")
    mapping, result = _build(path)
    assert mapping.roles() == {"customer_id": "Client", "timestamp": "Date",
                               "amount": "Montant"}
    assert mapping.static == ("Ville",) and mapping.file_format.encoding == "cp1252"
    assert set(result.scoring["Ville"].dropna()) <= {"Besançon", "Orléans", "Nîmes"}
    _assert_recent(result, _expected(purchases))


def test_title_line_above_the_header(tmp_path):
    purchases = _purchases(9)
    lines = ["导出时间: 2024-01-02 10:00", "", "订单号,客户ID,下单时间,实付金额"]
    lines += [f"D{i:06d},C{c:04d},{t:%Y/%m/%d %H:%M:%S},{a:.2f}"
              for i, (c, t, a) in enumerate(purchases)]
    path = _write(tmp_path / "orders.csv", lines)
    mapping, result = _build(path)
    assert mapping.roles() == {"customer_id": "客户ID", "timestamp": "下单时间",
                               "amount": "实付金额", "order_id": "订单号"}
    assert mapping.file_format.header_row == 2
    assert "HEADER_SKIPPED_LINES" in _codes(mapping.problems)
    _assert_recent(result, _expected(purchases))


def test_xlsx_yearly_sheets_are_stacked(tmp_path):
    import openpyxl

    purchases = _purchases(10)
    wb = openpyxl.Workbook()
    sheets = {2022: wb.active, 2023: wb.create_sheet("Year 2023")}
    sheets[2022].title = "Year 2022"
    for ws in sheets.values():
        ws.append(["Invoice", "StockCode", "Quantity", "InvoiceDate", "Price", "Customer ID"])
    for i, (c, t, a) in enumerate(purchases):
        sheets[t.year].append([str(500_000 + i), "85123A", 1, t, a, float(13_000 + c)])
    path = tmp_path / "online_retail_II.xlsx"
    wb.save(path)
    mapping, result = _build(path)
    assert (mapping.customer_id, mapping.timestamp, mapping.unit_price) == (
        "Customer ID", "InvoiceDate", "Price")
    assert mapping.file_format.sheets == ("Year 2022", "Year 2023")
    assert "EVENTS_SHEETS_STACKED" in _codes(mapping.problems)
    assert result.summary["rows_read"] == len(purchases)
    _assert_recent(result, _expected(purchases))


@pytest.mark.parametrize(("content", "words"), [
    (b"", "empty"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), ".xls"),
    (b"%PDF-1.4\n" + bytes(600), "PDF"),
])
def test_unsupported_files_say_what_was_found_and_what_to_do(tmp_path, content, words):
    path = tmp_path / "events.csv"
    path.write_bytes(content)
    with pytest.raises(ChurnDataError) as err:
        propose_mapping(path)
    [problem] = err.value.problems
    assert problem.code == "EVENTS_UNREADABLE" and words in problem.message and problem.action


def test_wrong_encoding_given_is_an_error_not_garbage(tmp_path):
    path = _write(tmp_path / "log.csv", ["用户ID,时间", "用户1,2023-01-01"], "gb18030")
    with pytest.raises(ChurnDataError) as err:
        propose_mapping(path, read=ReadOptions(encoding="utf-8"))
    assert [p.code for p in err.value.problems] == ["EVENTS_UNDECODABLE"]


def test_utf8_copies_are_removed_when_the_process_ends(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    path = _write(data / "gbk.csv", ["用户ID,时间,金额"] + [
        f"用户{i % 9},2023-{1 + i % 12:02d}-01,{i}" for i in range(50)], "gb18030")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    code = ("import tempfile, sys; tempfile.tempdir = sys.argv[1]; "
            "from churn_core.events.source import open_source; "
            "print(open_source(sys.argv[2]).read_path)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", code, str(scratch), str(path)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).parent.parent == scratch     # the copy was made there...
    assert list(scratch.iterdir()) == []                         # ...and removed at exit
    assert pd.read_csv(path, encoding="gb18030").shape == (50, 3)
