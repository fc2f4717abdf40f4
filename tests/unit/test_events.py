"""Event log -> labels and point-in-time features: small logs with known answers."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from churn_core.events import (
    ChurnDefinition,
    EventMapping,
    build_tables,
    cutoff_summary,
    prepare_log,
    propose_mapping,
    resolve_cutoffs,
    time_split,
)
from churn_core.problems import ChurnDataError

HEADER = "InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
LINES = [
    "1,P1,1,2023-01-01 10:00:00,10.0,007,UK",
    "2,P2,2,2023-01-11 10:00:00,10.0,007,UK",
    "2,P2,2,2023-01-11 10:00:00,10.0,007,UK",      # exact duplicate
    "C9,P2,-1,2023-01-20 09:00:00,10.0,007,UK",    # cancellation
    "3,P1,3,2023-01-31 18:00:00,10.0,007,UK",
    "4,P3,1,2022-12-01 12:00:00,5.0,B,France",
    "5,P1,1,2023-01-05 12:00:00,5.0,,UK",          # no customer id
    "6,P1,1,2023-02-15 12:00:00,10.0,007,UK",      # after the cutoff: label only
    "7,P4,1,2023-03-15 12:00:00,1.0,Z,UK",         # last date in the data
]
CUTOFF = date(2023, 1, 31)
DEFINITION = ChurnDefinition(window_days=30, active_days=365, cutoffs=[CUTOFF])


@pytest.fixture()
def small_log(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(HEADER + "\n".join(LINES) + "\n", encoding="utf-8")
    return path


def test_propose_mapping_uci_style_names(small_log):
    m = propose_mapping(small_log)
    assert m.customer_id == "CustomerID" and m.timestamp == "InvoiceDate"
    assert (m.order_id, m.product, m.quantity, m.unit_price) == (
        "InvoiceNo", "StockCode", "Quantity", "UnitPrice")
    assert m.static == ("Country",)
    assert {p.code for p in m.problems} <= {"EVENT_ROLE_DETECTED", "EVENT_STATIC_DETECTED"}


def test_known_answers(small_log, tmp_path):
    m = propose_mapping(small_log)
    result = build_tables(small_log, m, DEFINITION, out_dir=tmp_path / "out")
    tr = result.training.set_index("customer_id")
    assert list(tr.index) == ["007", "B"]          # ids stay text, leading zeros kept
    a, b = tr.loc["007"], tr.loc["B"]
    assert a["days_since_last_order"] == 0 and b["days_since_last_order"] == 61
    assert a["orders_30d"] == 2 and a["orders_90d"] == 3   # the cancellation is no order
    assert a["revenue_90d"] == pytest.approx(60.0)
    assert a["return_rate"] == pytest.approx(0.25)
    assert a["mean_days_between_orders"] == pytest.approx(15.0)
    assert a["std_days_between_orders"] == pytest.approx(np.std([10, 20], ddof=1))
    assert a["distinct_products"] == 2 and a["Country"] == "UK"
    assert a["tenure_days"] == 30
    assert (a["churned"], b["churned"]) == (0, 1)
    dropped = {d["code"]: d["count"] for d in result.summary["dropped"]}
    assert dropped == {"EVENTS_MISSING_ID": 1, "EVENTS_DUPLICATES": 1}
    assert "EVENTS_RETURNS" in {p.code for p in result.problems}
    # scoring: as of the last date, no label, same features
    assert result.summary["scoring_date"] == "2023-03-15"
    assert "churned" not in result.scoring
    assert set(result.scoring.columns) == set(result.training.columns) - {"churned"}
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["cutoffs"][0]["churn_rate"] == 0.5
    back = pd.read_parquet(tmp_path / "out" / "training.parquet")
    assert back["customer_id"].tolist() == ["007", "B"]
    assert result.feature_labels["days_since_last_order"].format(value=3) == (
        "3 days since the last order")


def test_exact_duplicates_kept_on_request(small_log, tmp_path, capsys):
    from churn_core.__main__ import main

    m = propose_mapping(small_log)
    dropped = build_tables(small_log, m, DEFINITION)
    assert "--keep-duplicates" in next(
        p.action for p in dropped.problems if p.code == "EVENTS_DUPLICATES")
    kept = build_tables(small_log, m, DEFINITION, drop_duplicates=False)
    a, b = (r.training.set_index("customer_id").loc["007"] for r in (dropped, kept))
    assert (a["revenue_90d"], b["revenue_90d"]) == (pytest.approx(60.0), pytest.approx(80.0))
    assert a["orders_90d"] == b["orders_90d"] == 3          # still one order id
    assert {d["code"] for d in kept.summary["dropped"]} == {"EVENTS_MISSING_ID"}
    assert kept.summary["rows_used"] == dropped.summary["rows_used"] + 1
    out = tmp_path / "kept"
    assert main(["build", str(small_log), "--out", str(out), "--window", "30",
                 "--cutoffs", CUTOFF.isoformat(), "--keep-duplicates", "--no-value",
                 "--value-features", "off"]) == 0
    assert "exact duplicate" not in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_parquet(out / "training.parquet"), kept.training)


def test_tables_come_sorted_by_cutoff_then_customer_id(tmp_path):
    ids = ["b", "B", "ä", "10", "9", "Z ", "客户", "a-1", "a_1"]
    rows = ["customer,date,amount"] + [
        f"{ids[i % len(ids)]},2023-{1 + i % 12:02d}-{1 + i % 27:02d},{5 + i % 13}"
        for i in range(900)]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = build_tables(path, propose_mapping(path), ChurnDefinition(window_days=30))
    for table in (result.training, result.scoring):
        expected = table.sort_values(["cutoff", "customer_id"], ignore_index=True)
        pd.testing.assert_frame_equal(table, expected)
    assert result.training["cutoff"].nunique() > 1 and len(result.scoring) == len(ids)


def test_chinese_columns_id_time_amount_only(tmp_path):
    path = tmp_path / "订单.csv"
    rows = ["客户ID,下单时间,金额"] + [
        f"u{i % 7},2023-{1 + i % 12:02d}-{1 + i % 28:02d} 08:00:00,{10 + i}" for i in range(300)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    m = propose_mapping(path)
    assert (m.customer_id, m.timestamp, m.amount) == ("客户ID", "下单时间", "金额")
    result = build_tables(path, m, ChurnDefinition(window_days=30))
    cols = set(result.training.columns)
    assert {"revenue_90d", "orders_90d", "days_since_last_order"} <= cols
    assert not cols & {"distinct_products", "avg_rating", "quantity"}
    assert result.training["customer_id"].str.startswith("u").all()


def test_id_and_timestamp_only(tmp_path):
    path = tmp_path / "log.parquet"
    rng = np.random.default_rng(0)
    pd.DataFrame({
        "user_id": rng.integers(0, 20, 500).astype(str),
        "event_time": pd.Timestamp("2023-01-01") + pd.to_timedelta(
            rng.integers(0, 365, 500), unit="D"),
    }).to_parquet(path)
    result = build_tables(path, propose_mapping(path), ChurnDefinition(window_days=60))
    assert "revenue_90d" not in result.training and "orders_365d" in result.training
    assert set(result.training["churned"].unique()) <= {0, 1}


def test_mapping_strings_and_overrides():
    m = EventMapping.from_string("cust=customer_id, when=timestamp, land=static")
    assert (m.customer_id, m.timestamp, m.static) == ("cust", "when", ("land",))
    m2 = m.with_overrides("land=ignore,when=timestamp,total=amount")
    assert m2.static == () and m2.amount == "total"
    assert EventMapping.from_string(m2.to_string()) == m2
    with pytest.raises(ChurnDataError) as err:
        EventMapping.from_string("cust=client")
    assert err.value.problems[0].code == "EVENTS_BAD_MAPPING"


def test_missing_roles_and_columns_raise(small_log):
    with pytest.raises(ChurnDataError) as err:
        prepare_log(small_log, EventMapping.from_string("CustomerID=customer_id,nope=timestamp"))
    assert {p.code for p in err.value.problems} == {"EVENTS_UNKNOWN_COLUMN"}
    with pytest.raises(ChurnDataError) as err:
        prepare_log(small_log, EventMapping.from_string("CustomerID=customer_id"))
    assert "EVENTS_NO_TIMESTAMP" in {p.code for p in err.value.problems}


def test_bad_definition_and_no_known_outcome(small_log):
    with pytest.raises(ChurnDataError) as err:
        ChurnDefinition(window_days=0)
    assert err.value.problems[0].code == "EVENTS_BAD_DEFINITION"
    with pytest.raises(ChurnDataError) as err:
        build_tables(small_log, propose_mapping(small_log),
                     ChurnDefinition(window_days=400, cutoffs=[CUTOFF]))
    assert err.value.problems[-1].code == "EVENTS_NO_KNOWN_OUTCOME"


def test_monthly_cutoffs_and_summary(small_log):
    d = ChurnDefinition(window_days=30, min_history_days=30, cutoffs="monthly")
    assert resolve_cutoffs(date(2022, 12, 1), date(2023, 3, 15), d) == [
        date(2022, 12, 31), date(2023, 1, 31), date(2023, 2, 28)]
    summary = cutoff_summary(small_log, propose_mapping(small_log), d)
    assert list(summary.columns) == [
        "cutoff", "active_customers", "churned", "churn_rate", "outcome_known"]
    assert summary["outcome_known"].tolist() == [True, True, False]
    assert summary["active_customers"].tolist() == [1, 2, 2]   # 007 starts in January
    assert summary["churned"].tolist()[:2] == [1, 1]            # B never orders again
    assert pd.isna(summary["churned"].iloc[2])


def test_time_split_keeps_customers_on_one_side():
    training = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(50)] * 4,
        "cutoff": np.repeat(pd.to_datetime(
            ["2023-01-31", "2023-02-28", "2023-03-31", "2023-06-30"]), 50),
        "churned": 0})
    split = time_split(training, definition=ChurnDefinition(window_days=90))
    assert split.test_cutoff == date(2023, 6, 30)
    assert split.train_cutoffs == (date(2023, 1, 31), date(2023, 2, 28), date(2023, 3, 31))
    ids = training["customer_id"]
    assert not set(ids.iloc[split.train]) & set(ids.iloc[split.valid])
    assert len(split.test) == 50 and len(split.train) + len(split.valid) == 150
    with pytest.raises(ChurnDataError):
        time_split(training[training["cutoff"] == "2023-06-30"])


def test_build_summary_counts_equal_the_queried_counts(small_log):
    # the build counts outcome-known cutoffs from its training table; the query counts all
    d = ChurnDefinition(window_days=30, min_history_days=30, cutoffs="monthly")
    result = build_tables(small_log, propose_mapping(small_log), d)
    queried = cutoff_summary(small_log, propose_mapping(small_log), d)
    built = pd.DataFrame(result.summary["cutoffs"])
    assert built["cutoff"].tolist() == [c.isoformat() for c in queried["cutoff"]]
    assert built["active_customers"].tolist() == queried["active_customers"].tolist()
    assert [r["churned"] for r in result.summary["cutoffs"]] == [
        None if pd.isna(v) else int(v) for v in queried["churned"]]
    assert built["outcome_known"].tolist() == [True, True, False]
