"""The real UCI Online Retail log, end to end with the proposed mapping and defaults."""

from __future__ import annotations

import pytest

from churn_core.events import ChurnDefinition, build_tables, propose_mapping, time_split


@pytest.mark.slow
def test_online_retail_end_to_end(online_retail_csv, tmp_path):
    mapping = propose_mapping(online_retail_csv)
    assert mapping.roles() == {
        "customer_id": "CustomerID", "timestamp": "InvoiceDate", "quantity": "Quantity",
        "unit_price": "UnitPrice", "order_id": "InvoiceNo", "product": "StockCode"}
    assert mapping.static == ("Country",)
    definition = ChurnDefinition()                     # 90-day window, monthly cutoffs
    result = build_tables(online_retail_csv, mapping, definition, out_dir=tmp_path)
    summary = result.summary
    assert summary["rows_read"] == 541_909
    dropped = {d["code"]: d["count"] for d in summary["dropped"]}
    assert dropped["EVENTS_MISSING_ID"] == 135_080
    assert 5_000 <= dropped["EVENTS_DUPLICATES"] <= 5_300
    assert 8_000 <= summary["returns"] <= 9_288          # cancellations with a customer id
    known = [c for c in summary["cutoffs"] if c["outcome_known"]]
    assert [c["cutoff"] for c in known] == [
        "2011-03-31", "2011-04-30", "2011-05-31", "2011-06-30", "2011-07-31", "2011-08-31"]
    for c in known:
        assert 2_000 <= c["active_customers"] <= 3_500
        assert 0.30 <= c["churn_rate"] <= 0.55
    assert known[-1]["active_customers"] == 3_317      # bought in the year up to 2011-08-31
    training, scoring = result.training, result.scoring
    assert len(training) == sum(c["active_customers"] for c in known)
    assert not training["customer_id"].str.contains(".", regex=False).any()
    assert 4_000 <= len(scoring) <= 4_372
    assert training["days_since_last_order"].min() >= 0
    assert {"return_rate", "distinct_products", "Country", "sudden_drop"} <= set(training)
    assert set(result.feature_labels) == set(training.columns) - {
        "customer_id", "cutoff", "churned"}
    split = time_split(training, definition=definition)
    assert str(split.test_cutoff) == "2011-08-31" and len(split.test) == 3_317
    assert (tmp_path / "training.parquet").exists() and (tmp_path / "summary.json").exists()
