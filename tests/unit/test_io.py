"""Reading files: formats, encodings, delimiters, headers, and every bad input.

Bad files are built as bytes or in ``tmp_path``; assertions are on problem
codes and fields, never on message wording.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from churn_core.problems import ChurnDataError
from churn_core.reading.cells import TEXT_DTYPE
from churn_core.reading.table import ReadOptions, ReadResult, read_table, sniff_format
from tests.unit.io_helpers import codes, problem, read_error, xlsx_bytes

# ---------------------------------------------------------------- encodings


def test_gb18030_chinese_csv():
    text = "用户ID,城市,消费金额,是否流失\n001,北京,128.5,是\n002,上海,99,否\n003,广州,,否\n"
    r = read_table(text.encode("gb18030"), name="订单.csv")
    assert r.encoding == "gb18030"
    assert list(r.frame.columns) == ["用户ID", "城市", "消费金额", "是否流失"]
    assert r.frame["城市"].tolist() == ["北京", "上海", "广州"]
    assert r.frame["用户ID"].tolist() == ["001", "002", "003"]
    assert r.frame["消费金额"].dtype == "float64"
    assert problem(r, "ENCODING_DETECTED").values == ("gb18030",)


def test_big5_traditional_chinese_csv():
    text = "會員編號,城市,狀態\n1,臺北,活躍\n2,高雄,流失\n3,臺中,活躍\n"
    r = read_table(text.encode("big5"), name="members.csv")
    assert r.encoding == "big5"
    assert r.frame["城市"].tolist() == ["臺北", "高雄", "臺中"]
    assert r.frame["會員編號"].tolist() == ["1", "2", "3"]


def test_cp1252_accents_and_euro():
    text = "name;city;amount\nRené;Besançon;€3\nZoë;Köln;€12\nJosé;Málaga;€7\n"
    r = read_table(text.encode("cp1252"), name="kunden.csv")
    assert r.encoding == "cp1252"
    assert r.frame["name"].tolist() == ["René", "Zoë", "José"]
    assert r.frame["amount"].tolist() == [3.0, 12.0, 7.0]


def test_utf16_with_bom_tab_separated():
    text = "id\tplan\tspend\n1\tgold\t10\n2\tsilver\t20\n"
    r = read_table(text.encode("utf-16"), name="export.txt")
    assert r.encoding == "utf-16"
    assert r.delimiter == "\t"
    assert r.frame["plan"].tolist() == ["gold", "silver"]


def test_utf8_sig_bom_stripped_from_header():
    r = read_table("customer_id,plan\n1,a\n2,b\n".encode("utf-8-sig"), name="x.csv")
    assert r.encoding == "utf-8-sig"
    assert list(r.frame.columns) == ["customer_id", "plan"]


def test_encoding_option_overrides_and_fails_cleanly():
    data = "name\nRené\nZoë\n".encode("cp1252")
    r = read_table(data, options=ReadOptions(encoding="latin-1"))
    assert r.frame["name"].tolist() == ["René", "Zoë"]
    assert "ENCODING_DETECTED" not in codes(r)
    err = read_error(data, encoding="utf-8")
    assert "UNDECODABLE" in codes(err)
    assert "UNDECODABLE" in codes(read_error(data, encoding="no-such-codec"))


# ---------------------------------------------------------------- layout


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(sep: str):
    lines = ["id", "plan", "spend"], ["1", "a", "1.5"], ["2", "b", "2.5"], ["3", "c", "3.5"]
    data = "\n".join(sep.join(line) for line in lines).encode()
    r = read_table(data, name="x.csv")
    assert r.delimiter == sep
    assert list(r.frame.columns) == ["id", "plan", "spend"]
    assert problem(r, "DELIMITER_DETECTED").values == (sep,)


def test_delimiter_inside_quotes_is_ignored_and_option_overrides():
    data = b'name;note\n"Smith, J";"a;b"\n"Doe, J";c\n'
    r = read_table(data)
    assert r.delimiter == ";"
    assert r.frame["note"].tolist() == ["a;b", "c"]
    forced = read_table(b"a|b\n1|2\n", options=ReadOptions(delimiter="|"))
    assert forced.frame.shape == (1, 2)
    assert "DELIMITER_DETECTED" not in codes(forced)


def test_title_line_above_header_is_skipped():
    data = "导出时间: 2024-01-01\n\n用户ID,金额,城市\n1,10,北京\n2,20,上海\n".encode()
    r = read_table(data, name="导出.csv")
    assert list(r.frame.columns) == ["用户ID", "金额", "城市"]
    assert r.header_row == 2
    p = problem(r, "HEADER_SKIPPED_LINES")
    assert p.values == ("导出时间: 2024-01-01",)
    assert r.frame["金额"].tolist() == [10.0, 20.0]


def test_header_row_option_overrides_detection():
    data = b"report,2024\nsecond,line\nid,value\n1,5\n2,6\n"
    r = read_table(data, options=ReadOptions(header_row=2))
    assert list(r.frame.columns) == ["id", "value"]
    assert r.frame["value"].tolist() == [5.0, 6.0]


def test_ragged_rows_are_skipped_and_reported_by_file_line():
    data = b"a,b,c\n1,2,3\n4,5,6,7\n8,9\n10,11,12\n13,14,15,16,17\n"
    r = read_table(data)
    p = problem(r, "RAGGED_ROWS")
    assert p.severity == "warning"
    assert p.rows == (3, 6)
    assert p.count == 2
    assert r.frame["a"].tolist() == [1.0, 8.0, 10.0]
    assert np.isnan(r.frame["c"].iloc[1])  # the short row is padded with missing


def test_ragged_first_data_row_is_not_taken_for_an_index():
    r = read_table(b"a,b\n1,2,3\n4,5\n")
    assert problem(r, "RAGGED_ROWS").rows == (2,)
    assert r.frame.to_dict("list") == {"a": [4.0], "b": [5.0]}


def test_duplicate_and_blank_headers():
    r = read_table(b" a ,b,a,,a\n1,2,3,4,5\n")
    assert list(r.frame.columns) == ["a", "b", "a (2)", "column_4", "a (3)"]
    p = problem(r, "DUPLICATE_HEADER")
    assert (p.severity, p.column, p.count) == ("warning", "a", 3)
    assert "column 1" in p.action and "'a (2)'" in p.action
    assert {"BLANK_HEADER", "HEADER_NORMALISED"} <= codes(r)
    assert r.frame["a (3)"].tolist() == [5.0]


def test_trailing_delimiter_column_is_dropped():
    r = read_table(b"a,b\n1,2,\n3,4,\n")
    assert list(r.frame.columns) == ["a", "b"]
    assert "EMPTY_COLUMNS_DROPPED" in codes(r)
    assert r.frame["b"].tolist() == [2.0, 4.0]


def test_unbalanced_quote_is_read_with_a_warning():
    r = read_table(b'a,b\n"x,1\ny,2\n')
    assert "UNBALANCED_QUOTES" in codes(r)
    assert len(r.frame) == 2


# ---------------------------------------------------------------- formats


def test_xlsx_renamed_csv_is_read_as_excel(tmp_path: Path):
    path = tmp_path / "customers.csv"
    path.write_bytes(xlsx_bytes([["CustomerID", "spend", "plan"], [50001, 1.5, "gold"],
                                 [50002, 2.0, "silver"]]))
    r = read_table(path)
    assert r.file_format == "excel"
    assert r.source_name == "customers.csv"
    assert r.sheet == "Sheet1"
    assert problem(r, "FORMAT_MISMATCH").severity == "info"
    assert r.frame["CustomerID"].tolist() == ["50001", "50002"]
    assert r.frame["spend"].tolist() == [1.5, 2.0]


def test_excel_title_row_mixed_column_and_sheet_choice():
    data = xlsx_bytes(
        [["Export 2024-01-01"], [], ["id", "amount", "when", "flag"],
         [1, 10, pd.Timestamp("2024-01-02"), True],
         [2, "¥1,299", pd.Timestamp("2024-01-03"), False],
         [None, None, None, None], [3, "N/A", pd.Timestamp("2024-01-04 08:30"), True]],
        title="data", extra={"notes": [["a"], ["x"]]})
    r = read_table(data, name="book.xlsx")
    assert r.sheet == "data" and r.header_row == 2
    assert {"HEADER_SKIPPED_LINES", "SHEET_CHOSEN", "BLANK_ROWS_DROPPED"} <= codes(r)
    f = r.frame
    assert f["id"].tolist() == ["1", "2", "3"]
    assert f["amount"].tolist()[:2] == [10.0, 1299.0] and np.isnan(f["amount"].iloc[2])
    assert f["when"].tolist() == ["2024-01-02", "2024-01-03", "2024-01-04 08:30:00"]
    assert f["flag"].tolist() == ["True", "False", "True"]
    assert read_table(data, options=ReadOptions(sheet="notes")).sheet == "notes"
    assert "SHEET_NOT_FOUND" in codes(read_error(data, name="book.xlsx", sheet="nope"))


def test_parquet(tmp_path: Path):
    frame = pd.DataFrame({"user_id": [1, 2, 3], "spend": [1.5, np.inf, 3.0],
                          "plan": ["a", None, "NA"], "n": pd.array([1, None, 3], dtype="Int64")})
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    r = read_table(path)
    assert r.file_format == "parquet"
    f = r.frame
    assert f["user_id"].tolist() == ["1", "2", "3"]
    assert f["spend"].isna().tolist() == [False, True, False]
    assert "INF_VALUES" in codes(r)
    assert f["plan"].isna().tolist() == [False, True, True]
    assert f["n"].dtype == "float64"


def test_gzip_csv_by_magic_bytes():
    data = gzip.compress(b"id,v\n1,2\n3,4\n")
    r = read_table(data, name="log.csv.gz")
    assert r.file_format == "csv"
    assert r.frame.shape == (2, 2)
    assert "UNREADABLE" in codes(read_error(data[:20], name="log.csv.gz"))


@pytest.mark.parametrize(("data", "kind", "code"), [
    (b"", "empty", "EMPTY_FILE"),
    (b"  \n\r\n", "empty", "EMPTY_FILE"),
    (bytes(range(256)) * 8, "binary", "BINARY_FILE"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "pdf", "BINARY_FILE"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512), "xls", "OLD_EXCEL"),
])
def test_unusable_files_are_refused(data: bytes, kind: str, code: str):
    assert sniff_format(data, "x.csv") == kind
    err = read_error(data)
    assert code in codes(err)
    assert problem(err, code).severity == "error"


def test_zip_archive_and_damaged_workbook():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("a.csv", "x,y\n1,2\n")
    assert "BINARY_FILE" in codes(read_error(buf.getvalue(), name="a.zip"))
    broken = xlsx_bytes([["a"], [1]])[:3000]
    assert sniff_format(broken) in {"zip", "excel"}
    assert codes(read_error(broken, name="b.xlsx")) & {"BINARY_FILE", "UNREADABLE"}


def test_header_only_has_no_data_rows():
    err = read_error(b"id,plan,spend\n")
    p = problem(err, "NO_DATA_ROWS")
    assert p.severity == "error" and "0 data rows" in p.message
    assert "NO_DATA_ROWS" in codes(read_error(xlsx_bytes([["a", "b"]]), name="x.xlsx"))


def test_too_large_and_missing_file(tmp_path: Path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 100)
    with pytest.raises(ChurnDataError) as info:
        read_table(path, options=ReadOptions(max_bytes=100))
    assert problem(info.value, "TOO_LARGE").severity == "error"
    assert "TOO_LARGE" in codes(read_error(b"a,b\n" + b"1,2\n" * 100, max_bytes=100))
    bomb = gzip.compress(b"a,b\n" + b"1,2\n" * 100_000)
    assert "TOO_LARGE" in codes(read_error(bomb, name="x.csv.gz", max_bytes=len(bomb) + 10))
    with pytest.raises(ChurnDataError) as info:
        read_table(tmp_path / "nope.csv")
    assert "FILE_NOT_FOUND" in codes(info.value)


def test_read_options_reject_programming_errors():
    with pytest.raises(ValueError):
        ReadOptions(delimiter=";;")
    with pytest.raises(ValueError):
        ReadOptions(header_row=-1)


# ---------------------------------------------------------------- real data


def test_real_ecommerce_workbook(ecom_xlsx: Path):
    r = read_table(ecom_xlsx)
    assert r.frame.shape == (5630, 20)
    assert r.sheet == "E Comm"
    assert r.frame["CustomerID"].dtype == TEXT_DTYPE
    assert r.frame["CustomerID"].iloc[0] == "50001"
    assert r.frame["Churn"].dtype == "float64"
    assert r.frame["Tenure"].isna().sum() > 0
    assert r.frame["PreferredLoginDevice"].dtype == TEXT_DTYPE


@pytest.mark.slow
def test_real_online_retail_log(online_retail_csv: Path):
    r = read_table(online_retail_csv)
    f = r.frame
    assert f.shape == (541909, 8)
    for col in ("InvoiceNo", "StockCode", "CustomerID"):
        assert f[col].dtype == TEXT_DTYPE
    assert f["InvoiceNo"].iloc[0] == "536365"
    assert f["StockCode"].iloc[0] == "85123A"
    assert f["Quantity"].dtype == "float64" and f["UnitPrice"].dtype == "float64"
    assert f["CustomerID"].isna().sum() > 100_000
    assert not any(p.severity == "error" for p in r.problems)


# ---------------------------------------------------------------- property


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.binary(max_size=400),
    st.text(alphabet=st.sampled_from(list('ab1,;\t|"\n\r -.%¥无€é')), max_size=200).map(
        lambda t: t.encode("utf-8")),
    st.text(max_size=100).map(lambda t: t.encode("gb18030", errors="ignore")),
))
def test_any_bytes_give_a_result_or_a_data_error(data: bytes):
    try:
        r = read_table(data, name="fuzz.csv")
    except ChurnDataError as exc:
        assert any(p.severity == "error" for p in exc.problems)
    else:
        assert isinstance(r, ReadResult)
        assert isinstance(r.frame.index, pd.RangeIndex)
        assert all(p.severity != "error" for p in r.problems)


def test_short_rows_are_reported_not_padded_silently():
    data = b'a,b,c\n1,2,3\n4,5\n6,7,\n\n8,9,10\n"x,y",2\n'
    result = read_table(data, name="short.csv")
    short = [p for p in result.problems if p.code == "SHORT_ROWS"]
    assert len(short) == 1
    assert short[0].rows == (2, 5) and short[0].count == 2
    assert len(result.frame) == 5
