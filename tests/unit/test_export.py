"""The at-risk table, formula escaping, CSV bytes and hashed ids."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pandas as pd
import pytest

from churn_core.export import (
    at_risk_table,
    escape_formulas,
    hash_ids,
    to_csv_bytes,
)


def test_at_risk_table_sorted_and_filtered():
    reasons = pd.DataFrame({"reason_1": ["Complain is 1 (raises risk)", "", "x"],
                            "reason_2": ["", "", ""], "reason_3": ["", None, ""]})
    table = at_risk_table(["a", "b", "c"], [0.2, 0.9, 0.6], ["low", "high", "medium"],
                          ["s1", "s2", "s1"], reasons, None, id_name="客户ID")
    assert list(table.columns) == ["客户ID", "churn_probability", "risk_tier", "at_risk",
                                   "segment", "reason_1", "reason_2", "reason_3",
                                   "suggested_action"]
    assert table["客户ID"].tolist() == ["b", "c", "a"]
    assert table["at_risk"].tolist() == [True, False, False]
    only = at_risk_table(["a", "b", "c"], [0.2, 0.9, 0.6], ["low", "high", "medium"], None,
                         None, ["x", "y", "z"], at_risk_only=True, threshold=0.5)
    assert only["customer_id"].tolist() == ["b", "c"]
    assert "at_risk" not in only.columns  # always true there
    assert only["suggested_action"].tolist() == ["y", "z"]
    kept = at_risk_table(["a", "b"], [0.2, 0.9], ["low", "high"], None, None, None,
                         keep_order=True)
    assert kept["customer_id"].tolist() == ["a", "b"]
    with pytest.raises(ValueError):
        at_risk_table(["a"], [0.1, 0.2], ["low", "low"], None, None, None)


def test_escape_formulas():
    df = pd.DataFrame({
        "name": ['=HYPERLINK("http://x","click")', "+1+2", "@SUM(A1)", "-5.0", "ok", None,
                 "\tTAB", "a\x00b"],
        "amount": [-5.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0],
        "obj": pd.Series(["-cmd", 3, None, "=1", "x", "y", "z", "w"], dtype=object),
    })
    out = escape_formulas(df)
    assert out["name"].tolist()[:5] == ["'=HYPERLINK(\"http://x\",\"click\")", "'+1+2",
                                        "'@SUM(A1)", "-5.0", "ok"]
    assert pd.isna(out["name"].iloc[5])
    assert out["name"].iloc[6] == "'\tTAB" and out["name"].iloc[7] == "ab"
    assert out["amount"].equals(df["amount"])
    assert out["obj"].tolist()[:4] == ["'-cmd", 3, None, "'=1"]
    assert df["name"].iloc[0].startswith("=")  # input untouched
    cat = escape_formulas(pd.DataFrame({"c": pd.Categorical(["=x", "y"])}))
    assert cat["c"].tolist() == ["'=x", "y"]
    assert escape_formulas(pd.DataFrame({"=bad": [1]})).columns.tolist() == ["'=bad"]


def test_to_csv_bytes_bom_escaping_and_chinese():
    df = pd.DataFrame({"客户": ["张三", "=HYPERLINK(\"x\")"], "score": [-5.0, 0.25]})
    raw = to_csv_bytes(df)
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "-5.0" in text and "'-5.0" not in text
    back = pd.read_csv(io.BytesIO(raw), encoding="utf-8-sig")
    assert back.columns.tolist() == ["客户", "score"]
    assert back["客户"].iloc[0] == "张三"
    assert back["score"].tolist() == [-5.0, 0.25]


def test_hash_ids_is_keyed_and_stable():
    ids = pd.Series(["C1", "C2", "C1"])
    a = hash_ids(ids, "secret")
    assert a.iloc[0] == a.iloc[2] != a.iloc[1]
    assert a.str.len().eq(16).all()
    assert not a.equals(hash_ids(ids, "other"))
    assert a.iloc[0] != hashlib.sha256(b"C1").hexdigest()[:16]
    with pytest.raises(ValueError):
        hash_ids(ids, "")
    assert np.array_equal(hash_ids(["C1"], b"secret").to_numpy(), a.iloc[:1].to_numpy())


def test_probabilities_are_written_with_four_decimals():
    table = at_risk_table(["a", "b"], [0.123456789, 0.98765432], ["low", "high"], None, None,
                          None, at_risk_only=True, threshold=0.5)
    assert table["churn_probability"].tolist() == [0.9877]
    text = to_csv_bytes(table).decode("utf-8-sig")
    assert "0.9877" in text and "0.98765" not in text
