"""EDA summaries on a small hand-made table."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from churn_core.eda import (
    churn_rate_by,
    column_summary,
    distribution_by_label,
    label_correlation,
    missingness,
    wilson_interval,
)


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, pd.Series, SimpleNamespace]:
    rng = np.random.default_rng(5)
    n = 2000
    days = rng.integers(0, 40, n).astype(float)
    y = (rng.random(n) < 0.05 + days / 50).astype(float)
    frame = pd.DataFrame({
        "客户ID": [f"C{i:05d}" for i in range(n)],
        "days": days,
        "city": rng.choice(["北京", "上海", "other city"], n),
        "many": [f"L{i % 30}" for i in range(n)],
        "noise": rng.normal(0, 1, n),
        "signup": pd.date_range("2020-01-01", periods=n, freq="D"),
        "churn": np.where(y == 1, "Yes", "No"),
    })
    frame.loc[:99, "days"] = np.nan
    frame.loc[50:149, "city"] = None
    y = pd.Series(y)
    y.iloc[-10:] = np.nan
    schema = SimpleNamespace(numeric=("days", "noise"), categorical=("city", "many"),
                             datetime=("signup",), id_column="客户ID", label_column="churn",
                             excluded={"secret": "PERSONAL_DATA"})
    return frame, y, schema


def test_column_summary(table):
    frame, _, schema = table
    summary = column_summary(frame, schema).set_index("column")
    assert summary.loc["客户ID", "role"] == "id"
    assert summary.loc["churn", "role"] == "label"
    assert summary.loc["days", "missing"] == 100
    assert summary.loc["days", "missing_pct"] == pytest.approx(5.0)
    assert summary.loc["days", "max"] <= 39
    assert summary.loc["city", "distinct"] == 3
    assert summary.loc["many", "top_share"] == pytest.approx(67 / 2000)
    assert summary.loc["signup", "role"] == "datetime"


def test_missingness(table):
    frame, _, _ = table
    miss = missingness(frame)
    assert miss["column"].tolist()[:2] == ["days", "city"]
    assert miss.set_index("column").loc["city", "missing_with_others_share"] == pytest.approx(0.5)


def test_wilson_interval_known_value():
    lo, hi = wilson_interval(np.array([5, 0]), np.array([10, 0]))
    assert lo[0] == pytest.approx(0.2366, abs=1e-4) and hi[0] == pytest.approx(0.7634, abs=1e-4)
    assert np.isnan(lo[1])


def test_churn_rate_by_numeric_bins(table):
    frame, y, _ = table
    rates = churn_rate_by(frame, y, "days", bins=5)
    assert rates["level"].iloc[-1] == "(missing)"
    assert rates["n"].sum() == y.notna().sum()
    body = rates.iloc[:-1]
    assert len(body) == 5 and body["rate"].iloc[-1] > body["rate"].iloc[0]
    assert ((body["lo"] <= body["rate"]) & (body["rate"] <= body["hi"])).all()


def test_churn_rate_by_categorical_levels(table):
    frame, y, _ = table
    rates = churn_rate_by(frame, y, "city")
    assert set(rates["level"]) == {"北京", "上海", "other city", "(missing)"}
    many = churn_rate_by(frame, y, "many")
    assert len(many) == 21 and many["level"].iloc[-1] == "other"
    assert many["churners"].sum() == y.sum()


def test_label_correlation(table):
    frame, y, schema = table
    corr = label_correlation(frame, y, schema).set_index("column")
    assert corr.loc["days", "method"] == "point-biserial"
    assert corr.loc["days", "correlation"] > 0.3
    assert abs(corr.loc["noise", "correlation"]) < 0.1
    assert corr.loc["city", "method"] == "cramers_v"
    assert 0 <= corr.loc["city", "correlation"] <= 1
    assert corr.index[0] == "days"
    assert "signup" in corr.index


def test_distribution_by_label(table):
    frame, y, _ = table
    dist = distribution_by_label(frame, y, "days", max_points=300)
    assert len(dist) == 300 and set(dist["label"]) <= {"Churned", "Stayed"}
    assert dist["value"].notna().all()
    again = distribution_by_label(frame, y, "days", max_points=300)
    assert dist.equals(again)
    text = distribution_by_label(frame, y, "city")
    assert len(text) == frame["city"].notna().sum() - y[frame["city"].notna()].isna().sum()
