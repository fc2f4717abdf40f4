"""The pyarrow reader of plain CSVs gives exactly the frame and notes of the ordinary path.

Each case is read twice: with the fast parser allowed at any size, and with it turned
off (pandas' C parser); frames (values, dtypes, column names) and problems must be equal,
and the fast parser must have been used exactly when the text is plain.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from churn_core.reading import delimited, fastcsv
from churn_core.reading import table as table_mod
from churn_core.simulate import simulate_large

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path("/work/shared/data")


def _read_both(monkeypatch, source, **kwargs):
    used = []

    def spy(*args, **kw):
        out = fastcsv.parse_plain(*args, **{**kw, "min_bytes": 0})
        used.append(out is not None)
        return out

    monkeypatch.setattr(delimited, "parse_plain", spy)
    fast = table_mod.read_table(source, **kwargs)
    monkeypatch.setattr(delimited, "parse_plain", lambda *a, **k: None)
    slow = table_mod.read_table(source, **kwargs)
    return fast, slow, bool(used and used[0])


def _assert_same(fast, slow):
    pd.testing.assert_frame_equal(fast.frame, slow.frame, check_exact=True)
    assert [str(d) for d in fast.frame.dtypes] == [str(d) for d in slow.frame.dtypes]
    assert fast.problems == slow.problems
    assert (fast.encoding, fast.delimiter, fast.header_row) == \
        (slow.encoding, slow.delimiter, slow.header_row)


PLAIN = {
    "numbers_ids_text": "customer_id,age,spend,city,churn\n007,31,12.5,Paris,1\n"
                        "008,,1e3,Lyon,0\n009,45,-3,Nice,0\n010,50,inf,Paris,1\n",
    "tokens_and_spaces": "id,score,plan\nA1, 12 ,basic\n A2,NA,pro\nA3,?,-\nA4,n/a, basic \n",
    "thousands_currency": "user;amount;share\nu1;1,234;12%\nu2;¥1299;5%\nu3;$12.50;7%\n"
                          "u4;1 299;1%\n",
    "european": "kunde;umsatz;land\n1;1.234,50;DE\n2;12,5;AT\n3;7,25;DE\n4;1.000,00;CH\n",
    "mixed_types": "code,value\n1,10\n2,abc\n3,30\n4,40\n5,x\n",
    "crlf": "id,x,y\r\n1,2,a\r\n2,3,b\r\n3,,c\r\n",
    "bom_unicode_header": "\ufeff 客户编号 ,消费金额,ｃｉｔｙ\n1,１２,北京\n2,30,上海\n",
    "blank_lines": "id,x\n1,2\n\n2,3\n\n",
    "tab": "id\tx\ty\n1\t2\t3\n2\t3\t4\n",
    "empty_column": "id,,x\n1,,2\n2,,3\n",
    "duplicate_header": "id,x,x\n1,2,3\n2,3,4\n",
    "large_ids": "customer_id,n\n12345678901234567890,1\n12345678901234567891,2\n",
}

NOT_PLAIN = {
    "quoted": 'id,name,x\n1,"Smith, J",2\n2,"Doe",3\n',
    "ragged": "id,x,y\n1,2,3\n2,3,4,5\n3,4,5\n",
    "short": "id,x,y\n1,2,3\n2,3\n3,4,5\n",
    "lone_cr_inside": "id,x,y\n1,2\r,3\n2,3,4\n",
    "one_column": "id\n1\n  \n2\n",
    "unbalanced_quote": 'id,x\n1,"abc\n2,def\n',
}


@pytest.mark.parametrize("name", sorted(PLAIN))
def test_plain_text_is_read_fast_and_identically(monkeypatch, name):
    fast, slow, used = _read_both(monkeypatch, PLAIN[name].encode("utf-8"), name=f"{name}.csv")
    assert used, "the fast parser should have read this plain text"
    _assert_same(fast, slow)


@pytest.mark.parametrize("name", sorted(NOT_PLAIN))
def test_text_that_is_not_plain_takes_the_ordinary_path(monkeypatch, name):
    fast, slow, used = _read_both(monkeypatch, NOT_PLAIN[name].encode("utf-8"),
                                  name=f"{name}.csv")
    assert not used
    _assert_same(fast, slow)


@pytest.mark.parametrize("encoding", ["latin-1", "gb18030", "utf-16"])
def test_other_encodings_are_parsed_from_the_same_utf8_text(monkeypatch, encoding):
    # both parsers get the decoded text re-encoded as UTF-8: same bytes, same frame
    data = "id,ville,x\n1,Orléans,2\n2,Besançon,3\n".encode(encoding)
    fast, slow, _ = _read_both(monkeypatch, data, name="other.csv")
    assert fast.encoding != "utf-8"
    _assert_same(fast, slow)


def test_forced_text_columns_and_options(monkeypatch):
    opts = table_mod.ReadOptions(text_columns=("age",), convert_numbers=False)
    fast, slow, used = _read_both(monkeypatch, PLAIN["numbers_ids_text"].encode(),
                                  name="x.csv", options=opts)
    assert used
    _assert_same(fast, slow)


def test_simulated_table_is_identical(monkeypatch, tmp_path):
    frame = simulate_large(3000, n_features=12, seed=3)
    path = tmp_path / "sim.csv"
    frame.to_csv(path, index=False)
    fast, slow, used = _read_both(monkeypatch, path)
    assert used
    _assert_same(fast, slow)
    assert fast.frame["customer_id"].iloc[0] == "C00000001"


def test_sample_data_is_identical(monkeypatch):
    fast, slow, _ = _read_both(monkeypatch, ROOT / "sample_data" / "customers.csv")
    _assert_same(fast, slow)


@pytest.mark.skipif(not (SHARED / "online_retail" / "online_retail.csv.gz").is_file(),
                    reason="shared data not present")
def test_real_files_are_identical(monkeypatch, tmp_path):
    dictionary = SHARED / "ecommerce_churn" / "data_dictionary.csv"
    fast, slow, _ = _read_both(monkeypatch, dictionary)
    _assert_same(fast, slow)
    # the first 20,000 lines of the Online Retail log, as a plain (unquoted) CSV
    with gzip.open(SHARED / "online_retail" / "online_retail.csv.gz", "rt",
                   encoding="utf-8", errors="replace") as fh:
        lines = [next(fh) for _ in range(20_000)]
    raw = "".join(lines)
    path = tmp_path / "retail.csv"
    path.write_text(raw, encoding="utf-8")
    fast, slow, used = _read_both(monkeypatch, path)
    assert used == fastcsv.is_plain(raw.encode(), len(lines[0].split(",")))
    _assert_same(fast, slow)


def test_small_files_skip_the_fast_parser():
    assert fastcsv.parse_plain(b"id,x\n1,2\n", ",", 2) is None
    assert fastcsv.parse_plain(b"id,x\n1,2\n", ",", 2, min_bytes=0) is not None
