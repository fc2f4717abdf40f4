"""Staging of typed (Parquet) logs: ids are cleaned once per stored value, not per line.

The same log read from CSV (cleaned line by line at parse time) and from
Parquet (grouped on the stored id, then cleaned per distinct value, spellings
merged) must give identical tables. (One difference is by design: in a typed
file, exact duplicates are lines identical as stored, so two lines that differ
only in the spaces around the id are both kept.)
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pandas.testing as pdt

from churn_core.events import ChurnDefinition, EventMapping, build_tables

MAPPING = EventMapping.from_string(
    "customer_id=customer_id,ts=timestamp,order_id=order_id,product=product,"
    "quantity=quantity,price=unit_price,country=static")
DEFINITION = ChurnDefinition(window_days=30, active_days=365, cutoffs=[date(2023, 2, 28)])


def _log() -> pd.DataFrame:
    rows = [
        # customer C1 under three spellings: one customer, orders and products merged
        ("C1", "2023-01-05 10:00:00", "1", "P1", 1, 10.0, "UK"),
        (" C1", "2023-01-05 11:00:00", "2", "P1", 2, 10.0, "UK"),
        ("C1 ", "2023-02-10 09:00:00", "3", "P2", 1, 5.0, "FR"),
        (" C1", "2023-02-10 09:00:00", "3", "P1", 1, 5.0, "FR"),   # same order, other spelling
        ("C1", "2023-02-20 09:00:00", "C4", "P2", -1, 5.0, "FR"),  # cancellation
        ("C2", "2023-01-20 12:00:00", "5", "P3", 1, 7.5, "DE"),
        ("C2", "2023-01-20 12:00:00", "5", "P3", 1, 7.5, "DE"),    # exact duplicate
        ("nan", "2023-01-21 12:00:00", "6", "P3", 1, 7.5, "DE"),   # missing-value token
        (None, "2023-01-22 12:00:00", "7", "P3", 1, 7.5, "DE"),    # no id
        ("C3", "not a date", "8", "P1", 1, 1.0, "UK"),             # unreadable timestamp
        ("C3", "2023-03-01 08:00:00", "9", "P1", 1, 1.0, "UK"),
        ("C2", "2023-03-30 08:00:00", "10", "P1", 1, 1.0, "UK"),   # the last date
    ]
    return pd.DataFrame(rows, columns=["customer_id", "ts", "order_id", "product", "quantity",
                                       "price", "country"])


def test_parquet_and_csv_give_the_same_tables(tmp_path):
    frame = _log()
    csv, parquet = tmp_path / "log.csv", tmp_path / "log.parquet"
    frame.to_csv(csv, index=False)
    # stored ids keep their spellings; timestamps are typed (the bad one is missing)
    frame.assign(ts=pd.to_datetime(frame["ts"], errors="coerce")).to_parquet(parquet)
    from_csv = build_tables(csv, MAPPING, DEFINITION)
    from_parquet = build_tables(parquet, MAPPING, DEFINITION)
    pdt.assert_frame_equal(from_csv.training, from_parquet.training)
    pdt.assert_frame_equal(from_csv.scoring, from_parquet.scoring)
    c1 = from_parquet.training.set_index("customer_id").loc["C1"]
    assert c1["orders_90d"] == 3 and c1["distinct_products"] == 2
    assert c1["return_rate"] == 0.25 and c1["country"] == "FR"
    dropped = {d["code"]: d["count"] for d in from_parquet.summary["dropped"]}
    # in the typed file the unreadable timestamp is already missing; the CSV reads it
    assert dropped == {"EVENTS_MISSING_ID": 2, "EVENTS_MISSING_TIMESTAMP": 1,
                       "EVENTS_DUPLICATES": 1}
    assert {d["code"]: d["count"] for d in from_csv.summary["dropped"]} == {
        "EVENTS_MISSING_ID": 2, "EVENTS_BAD_TIMESTAMP": 1, "EVENTS_DUPLICATES": 1}


def test_float_ids_in_parquet_are_whole_numbers(tmp_path):
    frame = pd.DataFrame({
        "customer_id": [17850.0, 17850.0, 13047.0, None, 13047.0],
        "ts": pd.to_datetime(["2023-01-01", "2023-02-01", "2023-02-15", "2023-02-20",
                              "2023-03-31"]),
        "amount": [10.0, 20.0, 5.0, 1.0, 2.0]})
    path = tmp_path / "floats.parquet"
    frame.to_parquet(path)
    mapping = EventMapping.from_string("customer_id=customer_id,ts=timestamp,amount=amount")
    result = build_tables(path, mapping, DEFINITION)
    assert sorted(result.training["customer_id"]) == ["13047", "17850"]
    assert {d["code"]: d["count"] for d in result.summary["dropped"]} == {"EVENTS_MISSING_ID": 1}


def test_confirming_another_timestamp_column_detects_its_format(tmp_path):
    from churn_core.events import confirm_roles, propose_mapping

    days = pd.date_range("2022-01-01", periods=400, freq="D")
    pd.DataFrame({
        "customer_id": [f"C{i % 7}" for i in range(400)],
        "order_date": days.strftime("%d/%m/%Y %H:%M"),
        "paid_at": (days + pd.Timedelta(hours=3) - pd.Timestamp("1970-01-01"))
        // pd.Timedelta(seconds=1),
        "amount": 10.0}).to_csv(tmp_path / "log.csv", index=False)
    proposal = propose_mapping(tmp_path / "log.csv")
    assert proposal.timestamp == "order_date" and proposal.timestamp_format == "%d/%m/%Y %H:%M"
    chosen = confirm_roles(tmp_path / "log.csv", proposal, {"timestamp": "paid_at"}, ())
    assert chosen.timestamp == "paid_at" and chosen.timestamp_format == "epoch_s"
    log = prepare_log_for(tmp_path / "log.csv", chosen)
    assert (log.first_day, log.last_day) == (date(2022, 1, 1), date(2023, 2, 4))


def prepare_log_for(path, mapping):
    from churn_core.events import prepare_log

    return prepare_log(path, mapping)


def test_engine_uses_every_available_core_unless_told():
    from churn_core.events.staging import EngineSettings, available_cores, connect

    con = connect()
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == available_cores()
    con = connect(EngineSettings(threads=1))
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 1
