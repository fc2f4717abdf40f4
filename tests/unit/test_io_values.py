"""Reading files: cell values (text numbers, missing tokens, ids, inf) and the frame contract.

Assertions are on problem codes and fields, never on message wording.
"""

from __future__ import annotations

import pandas as pd
import pytest

from churn_core.names import is_id_name
from churn_core.reading.cells import TEXT_DTYPE
from churn_core.reading.table import DEFAULT_NA_TOKENS, ReadOptions, read_table
from tests.unit.io_helpers import problem


def test_text_numbers_are_converted():
    data = ('amount,price,rate,plain\n'
            '"1,234","¥1,299",12%,1\n'
            '"12,000.50",$12.50,5%,2\n'
            '7,€3,0.5%,3\n').encode()
    r = read_table(data)
    f = r.frame
    assert f["amount"].tolist() == [1234.0, 12000.5, 7.0]
    assert f["price"].tolist() == [1299.0, 12.5, 3.0]
    assert f["rate"].tolist() == [12.0, 5.0, 0.5]
    assert problem(r, "NUMBERS_CONVERTED", "amount").count == 2
    assert problem(r, "NUMBERS_CONVERTED", "price").count == 3
    assert "12.0" in problem(r, "NUMBERS_CONVERTED", "rate").message
    assert not [p for p in r.problems if p.code == "NUMBERS_CONVERTED" and p.column == "plain"]


def test_european_numbers():
    data = b"name;amount;share\na;1.234,50;12,5\nb;12,00;3\nc;1.000;0,75\n"
    r = read_table(data)
    assert r.delimiter == ";"
    assert r.frame["amount"].tolist() == [1234.5, 12.0, 1000.0]
    assert r.frame["share"].tolist() == [12.5, 3.0, 0.75]
    assert "European" in problem(r, "NUMBERS_CONVERTED", "amount").message


def test_not_numbers_in_a_mostly_numeric_column():
    values = [str(i) for i in range(60)]
    values[2], values[6] = "abc", "-"
    data = ("v\n" + "\n".join(values) + "\n").encode()
    r = read_table(data, options=ReadOptions(na_tokens=("",)))
    p = problem(r, "NOT_NUMBERS", "v")
    assert (p.severity, p.rows, p.count, p.values) == ("warning", (3, 7), 2, ("abc", "-"))
    assert "row 3 'abc'" in p.message and "row 7 '-'" in p.message
    assert p.action == "treated as missing"
    assert r.frame["v"].dtype == "float64"
    assert r.frame["v"].isna().sum() == 2
    # with the default tokens "-" is simply missing
    r2 = read_table(data)
    assert problem(r2, "NOT_NUMBERS", "v").rows == (3,)
    assert problem(r2, "MISSING_TOKENS", "v").values == ("-",)


def test_small_mixed_column_stays_text_with_a_warning():
    r = read_table(b"v\n10\n11\nabc\n12\n13\n-\n")
    assert r.frame["v"].dtype == TEXT_DTYPE
    p = problem(r, "MOSTLY_NUMBERS", "v")
    assert p.rows == (3,)
    assert r.frame["v"].isna().tolist() == [False, False, False, False, False, True]


def test_missing_tokens_are_counted_per_column():
    data = "id,city,spend\n1,无,N/A\n2,NA,5\n3,北京,null\n4,,6\n".encode()
    r = read_table(data)
    assert r.frame["city"].isna().tolist() == [True, True, False, True]
    assert r.frame["spend"].tolist()[1::2] == [5.0, 6.0]
    city = problem(r, "MISSING_TOKENS", "city")
    assert (city.count, city.rows, set(city.values)) == (2, (1, 2), {"无", "NA"})
    assert problem(r, "MISSING_TOKENS", "spend").count == 2
    assert "无" in DEFAULT_NA_TOKENS and "N/A" in DEFAULT_NA_TOKENS


def test_ids_stay_text():
    data = b"id,user_id,CustomerID,score\n007,4e492493924924,17850.0,1\n010,5,17851.0,2\n"
    r = read_table(data)
    assert r.frame["id"].tolist() == ["007", "010"]
    assert r.frame["user_id"].tolist() == ["4e492493924924", "5"]
    assert r.frame["CustomerID"].tolist() == ["17850", "17851"]
    assert problem(r, "KEPT_AS_TEXT", "CustomerID").action == "kept as text"
    assert r.frame["score"].dtype == "float64"


def test_text_columns_option_and_convert_numbers_off():
    data = b"zip,amount\n02134,\"1,234\"\n10001,5\n"
    r = read_table(data, options=ReadOptions(text_columns=("zip",), convert_numbers=False))
    assert r.frame["zip"].tolist() == ["02134", "10001"]
    assert r.frame["amount"].tolist() == ["1,234", "5"]


def test_inf_and_huge_values_become_missing():
    r = read_table(b"v,w\n1,a\ninf,b\n1e400,c\n-inf,d\n5,e\n")
    p = problem(r, "INF_VALUES", "v")
    assert (p.severity, p.rows, p.count) == ("warning", (2, 3, 4), 3)
    assert r.frame["v"].isna().tolist() == [False, True, True, True, False]


@pytest.mark.parametrize("name", ["id", "uid", "CustomerID", "customer_id", "用户ID", "编号",
                                  "InvoiceNo", "StockCode", "客户编号", "customer"])
def test_id_like_names(name: str):
    assert is_id_name(name)


@pytest.mark.parametrize("name", ["Paid", "Android", "NumberOfAddress", "Tenure", "Churn"])
def test_not_id_like_names(name: str):
    assert not is_id_name(name)


def test_frame_contract():
    r = read_table(b"a,b,c\n1,x,\n2,,\n")
    f = r.frame
    assert isinstance(f.index, pd.RangeIndex) and f.index.tolist() == [0, 1]
    assert f["a"].dtype == "float64"
    assert f["b"].dtype == TEXT_DTYPE
    assert f["b"].isna().tolist() == [False, True]
    assert f["c"].isna().all()
    assert all(p.severity != "error" for p in r.problems)
