"""Tests for churn_core.validate: table checks, class counts and the leakage screen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from churn_core import validate as validate_module
from churn_core.schema import SchemaOverrides, infer_schema
from churn_core.validate import LEAKAGE_COLUMNS, validate

LEAK_CODES = {"LEAKAGE_REVIEW", "LEAKAGE_EXCLUDED", "LEAKY_NAME", "MISSING_ENCODES_LABEL"}


def codes(report) -> list[str]:
    return [p.code for p in report.problems]


def only(report, code):
    found = [p for p in report.problems if p.code == code]
    assert len(found) == 1, (code, codes(report))
    return found[0]


def make_frame(n: int = 1000, seed: int = 0, churn_share: float = 0.25) -> pd.DataFrame:
    """A table whose features carry a realistic, weak signal (AUC well below 0.95)."""
    rng = np.random.default_rng(seed)
    churned = rng.random(n) < churn_share
    return pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)],
        "Churn": np.where(churned, "Yes", "No"),
        "Tenure": np.round(rng.gamma(2, 5, n) - 4 * churned).clip(0),
        "Spend": rng.normal(100, 20, n) - 8 * churned,
        "Plan": rng.choice(["basic", "plus", "pro"], n),
        "Store": [f"store{k}" for k in rng.integers(0, 300, n)],  # high cardinality noise
    })


def check(frame, **kwargs):
    schema, _ = infer_schema(frame)
    return validate(frame, schema, **kwargs)


def test_clean_table_is_usable_and_flags_nothing():
    report = check(make_frame())
    assert report.usable
    assert not LEAK_CODES & set(codes(report))
    assert list(report.leakage.columns) == LEAKAGE_COLUMNS
    assert set(report.leakage["column"]) == {"Tenure", "Spend", "Plan", "Store"}
    assert (report.leakage["action"] == "keep").all()
    # out-of-fold encoding keeps a 300-level noise column near 0.5
    store_auc = report.leakage.set_index("column").loc["Store", "auc"]
    assert store_auc < 0.6
    counts = only(report, "CLASS_COUNTS")
    assert counts.count == 1000 and counts.severity == "info"
    frame = report.to_frame()
    assert {"severity", "code", "column", "count"} <= set(frame.columns)


@pytest.fixture(scope="module")
def ecom(ecom_xlsx) -> pd.DataFrame:
    frame = pd.read_excel(ecom_xlsx, sheet_name="E Comm")
    frame["CustomerID"] = frame["CustomerID"].astype(str)
    return frame


def test_real_ecommerce_table_raises_no_false_alarm(ecom):
    schema, _ = infer_schema(ecom)
    report = validate(ecom, schema)
    assert not LEAK_CODES & set(codes(report))
    assert (report.leakage["action"] == "keep").all()
    assert report.schema.features == schema.features
    best = report.leakage.iloc[0]
    assert best["column"] == "Tenure" and 0.75 < best["auc"] < 0.85
    assert report.usable
    assert only(report, "DUPLICATE_PROFILES").count > 0  # the file has copied rows


def test_noisy_copy_of_label_is_excluded_unless_confirmed():
    frame = make_frame(n=2000)
    rng = np.random.default_rng(5)
    copy = np.array(frame["Churn"] == "Yes", dtype=int)
    flip = rng.choice(len(frame), size=10, replace=False)  # 0.5 % noise
    copy[flip] = 1 - copy[flip]
    frame["account_flag"] = copy
    report = check(frame)
    p = only(report, "LEAKAGE_EXCLUDED")
    assert p.column == "account_flag" and p.severity == "warning"
    assert "account_flag" not in report.schema.features
    assert report.schema.excluded["account_flag"] == "LEAKAGE"
    row = report.leakage.set_index("column").loc["account_flag"]
    assert row["auc"] >= 0.99 and row["action"] == "excluded"

    report = check(frame, confirmed=["account_flag"])
    assert "LEAKAGE_EXCLUDED" not in codes(report)
    assert "account_flag" in report.schema.features
    assert report.leakage.set_index("column").loc["account_flag", "action"] == "confirmed"


def test_strong_column_flagged_for_review_and_kept():
    frame = make_frame(n=3000)
    rng = np.random.default_rng(6)
    # AUC of label + N(0, s) is Phi(1 / (s * sqrt 2)): about 0.97 for s = 0.376
    frame["engagement"] = (frame["Churn"] == "Yes") + rng.normal(0, 0.376, len(frame))
    report = check(frame)
    assert only(report, "LEAKAGE_REVIEW").column == "engagement"
    assert "engagement" in report.schema.features
    assert 0.95 <= report.leakage.set_index("column").loc["engagement", "auc"] < 0.99


def test_post_churn_reason_column_is_flagged():
    frame = make_frame()
    rng = np.random.default_rng(7)
    reasons = rng.choice(["price", "service", "moved"], len(frame))
    frame["cancel_reason"] = np.where(frame["Churn"] == "Yes", reasons, None)
    report = check(frame)
    assert only(report, "LEAKY_NAME").column == "cancel_reason"
    flagged = {p.column for p in report.problems if p.code in LEAK_CODES}
    assert flagged == {"cancel_reason"}
    # excluded for predicting churn: no message about it may say it was kept
    assert report.schema.excluded["cancel_reason"] == "LEAKAGE"
    assert not [p for p in report.problems
                if p.column == "cancel_reason" and p.action.startswith("kept")]


def test_leaky_chinese_name_flagged():
    frame = make_frame()
    frame["注销原因"] = np.random.default_rng(8).choice(["a", "b"], len(frame))
    assert only(check(frame), "LEAKY_NAME").column == "注销原因"


def test_planted_id_column_among_features_is_excluded():
    frame = make_frame()
    frame["row_number"] = np.arange(1, len(frame) + 1)
    schema, problems = infer_schema(frame)
    assert schema.excluded["row_number"] == "ID_LIKE"
    assert "row_number" not in validate(frame, schema).leakage["column"].tolist()


def test_missingness_that_encodes_the_label():
    frame = make_frame()
    rng = np.random.default_rng(9)
    churned = (frame["Churn"] == "Yes").to_numpy()
    blank = np.where(churned, rng.random(len(frame)) < 0.9, rng.random(len(frame)) < 0.02)
    frame["last_survey_score"] = np.where(blank, np.nan, rng.integers(1, 6, len(frame)))
    report = check(frame)
    p = only(report, "MISSING_ENCODES_LABEL")
    assert p.column == "last_survey_score" and p.count == int(blank.sum())
    assert report.leakage.set_index("column").loc["last_survey_score", "missing_auc"] >= 0.9


def test_duplicate_ids_and_profiles():
    frame = make_frame(n=200)
    frame.loc[[10, 11], "customer_id"] = "C00001"            # three rows share an id
    frame.loc[150] = frame.loc[100]                          # full copy, same id
    frame.loc[151] = frame.loc[101]
    frame.loc[151, "customer_id"] = "NEW-1"                  # copy apart from the id
    report = check(frame)
    ids = only(report, "DUPLICATE_IDS")
    assert ids.count == 5 and set(ids.values) == {"C00001", "C00100"}
    assert ids.rows == (2, 11, 12, 101, 151)
    profiles = only(report, "DUPLICATE_PROFILES")
    assert profiles.count == 4 and profiles.rows == (101, 102, 151, 152)


def test_class_imbalance_and_too_few_positives():
    frame = make_frame(n=1000, churn_share=0.03, seed=2)
    report = check(frame)
    assert only(report, "CLASS_IMBALANCE").severity == "warning"
    assert report.usable

    frame = make_frame(n=200)
    frame["Churn"] = "No"
    frame.loc[:4, "Churn"] = "Yes"
    report = check(frame)
    p = only(report, "TOO_FEW_POSITIVES")
    assert p.severity == "error" and p.count == 5
    assert not report.usable


def test_too_few_rows():
    report = check(make_frame(n=40, churn_share=0.5))
    assert only(report, "TOO_FEW_ROWS").severity == "error"
    assert not report.usable


def test_label_problems_are_carried_into_the_report():
    frame = make_frame()
    frame["Churn"] = np.where(frame["Churn"] == "Yes", 2, 1)
    report = check(frame)
    assert "LABEL_AMBIGUOUS" in codes(report) and not report.usable
    assert report.leakage.empty

    schema, _ = infer_schema(frame, overrides=SchemaOverrides(positive_value="2"))
    assert validate(frame, schema).usable

    report = check(make_frame().drop(columns="Churn"))
    assert "NO_LABEL" in codes(report) and not report.usable

    frame = make_frame()
    frame["Churn"] = frame["Churn"].astype(object)
    frame.loc[:9, "Churn"] = None
    report = check(frame)
    assert only(report, "LABEL_MISSING").count == 10 and report.usable
    assert only(report, "CLASS_COUNTS").count == 990


def test_large_tables_are_sampled_for_the_screen(monkeypatch):
    monkeypatch.setattr(validate_module, "SCREEN_ROWS", 300)
    report = check(make_frame())
    assert only(report, "SCREEN_SAMPLED").count == 300
    assert not LEAK_CODES & set(codes(report))
