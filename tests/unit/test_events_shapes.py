"""Event logs shaped like common exports: roles proposed from their own column names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core.events import ChurnDefinition, build_tables, propose_mapping


def _times(rng: np.random.Generator, n: int, start: str = "2022-01-01") -> pd.Series:
    return pd.Series(pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 600 * 86400, n),
                                                           unit="s"))


def _csv_build(frame: pd.DataFrame, path, window: int = 60):
    """Write ``frame`` as CSV, propose its mapping and build with defaults."""
    frame.to_csv(path, index=False)
    m = propose_mapping(path)
    return m, build_tables(path, m, ChurnDefinition(window_days=window))


def test_marketplace_orders_with_status_and_payment_value(tmp_path):
    # an orders export shaped like Olist's: a per-order customer_id beside the person's id,
    # the status of each order, and the money as payment_value
    rng = np.random.default_rng(3)
    n = 1500
    people = rng.integers(0, 200, n)
    status = rng.choice(["delivered", "shipped", "canceled"], n, p=[0.9, 0.06, 0.04])
    frame = pd.DataFrame({
        "order_id": [f"o{i:05d}" for i in range(n)],
        "customer_id": [f"{i:032x}" for i in rng.integers(0, 2**62, n)],
        "customer_unique_id": [f"person{p:03d}" for p in people],
        "order_status": status,
        "order_purchase_timestamp": _times(rng, n, "2017-01-01").dt.strftime(
            "%Y-%m-%d %H:%M:%S"),
        "payment_value": rng.gamma(2.0, 50.0, n).round(2)})
    m, result = _csv_build(frame, tmp_path / "orders.csv")
    assert (m.customer_id, m.event_type, m.amount, m.order_id) == (
        "customer_unique_id", "order_status", "payment_value", "order_id")
    assert result.summary["returns"] == int((status == "canceled").sum())
    assert result.training["customer_id"].str.startswith("person").all()
    assert result.training["revenue_365d"].gt(0).any()


def test_shop_export_with_email_and_financial_status(tmp_path):
    # a shop's order export: customers known by e-mail, refunds in the financial status,
    # times with UTC offsets
    rng = np.random.default_rng(4)
    n = 1200
    status = rng.choice(["paid", "refunded", "pending"], n, p=[0.9, 0.05, 0.05])
    frame = pd.DataFrame({
        "Name": [f"#{1000 + i}" for i in range(n)],
        "Email": [f"buyer{i}@example.com" for i in rng.integers(0, 150, n)],
        "Financial Status": status,
        "Created at": _times(rng, n).dt.strftime("%Y-%m-%d %H:%M:%S -0500"),
        "Total": rng.gamma(2.0, 40.0, n).round(2)})
    m, result = _csv_build(frame, tmp_path / "orders_export.csv")
    assert (m.customer_id, m.event_type, m.amount) == ("Email", "Financial Status", "Total")
    assert result.summary["returns"] == int((status == "refunded").sum())
    assert result.scoring["customer_id"].str.endswith("@example.com").all()


@pytest.mark.parametrize("flag", ["numbers", "words", "booleans"])
def test_return_flag_column_marks_returns(tmp_path, flag):
    # a popular shape of shop data: one line per purchase, "Returns" 1/0 (blank when unknown)
    rng = np.random.default_rng(5)
    n = 2000
    returned = np.where(rng.random(n) < 0.2, np.nan, (rng.random(n) < 0.3).astype(float))
    frame = pd.DataFrame({
        "Customer ID": rng.integers(1, 250, n),
        "Purchase Date": _times(rng, n).dt.strftime("%Y-%m-%d %H:%M:%S"),
        "Total Purchase Amount": rng.integers(10, 900, n),
        "Returns": returned})
    path = tmp_path / "purchases.csv"
    if flag == "words":
        frame["Returns"] = frame["Returns"].map({1.0: "Yes", 0.0: "No"})
    if flag == "booleans":
        frame["Returns"] = frame["Returns"].fillna(0).astype(bool)
        path = tmp_path / "purchases.parquet"
        frame.to_parquet(path)
    else:
        frame.to_csv(path, index=False)
    m = propose_mapping(path)
    assert m.return_flag == "Returns" and m.amount == "Total Purchase Amount"
    result = build_tables(path, m, ChurnDefinition())
    assert result.summary["returns"] == int((returned == 1).sum())
    assert "return flag 'Returns'" in next(
        p.message for p in result.problems if p.code == "EVENTS_RETURNS")
    assert result.training["return_rate"].between(0, 1).all()
    assert result.training["return_rate"].mean() > 0.1
    # overriding the role turns it off
    plain = build_tables(path, propose_mapping(path, overrides="Returns=ignore"),
                         ChurnDefinition())
    assert plain.summary["returns"] == 0
