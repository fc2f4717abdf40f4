"""Tests for churn_core.schema: label/id detection, label mapping, column types, overrides."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from churn_core.labels import LABEL_SYNONYMS, encode_label
from churn_core.schema import Schema, SchemaOverrides, infer_schema

N = 200


def codes(problems) -> list[str]:
    return [p.code for p in problems]


def only(problems, code):
    found = [p for p in problems if p.code == code]
    assert len(found) == 1, (code, codes(problems))
    return found[0]


def make_frame(n: int = N, seed: int = 0, **extra) -> pd.DataFrame:
    """A small clean customer table: id, Yes/No label, numeric and text features."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "customer_id": [f"C{i:05d}" for i in range(n)],
        "Churn": rng.choice(["Yes", "No"], n, p=[0.3, 0.7]),
        "Tenure": rng.integers(0, 40, n).astype(float),
        "CityTier": rng.integers(1, 4, n),
        "Gender": rng.choice(["Male", "Female"], n),
    })
    for name, values in extra.items():
        frame[name] = values
    return frame


def test_detects_id_label_and_types():
    schema, problems = infer_schema(make_frame())
    assert schema.id_column == "customer_id"
    assert schema.label_column == "Churn"
    assert schema.label_mapping == {"Yes": 1, "No": 0}
    assert schema.positive_label == "Yes"
    assert schema.numeric == ("Tenure", "CityTier")  # few integer levels stay numeric
    assert schema.categorical == ("Gender",)
    assert schema.features == ("Tenure", "CityTier", "Gender")
    assert schema.excluded == {}
    for code in ("LABEL_DETECTED", "ID_DETECTED", "LABEL_MAPPED"):
        assert only(problems, code).severity == "info"
    assert only(problems, "LABEL_MAPPED").values == ("Yes",)
    assert all(p.severity == "info" for p in problems)


@pytest.mark.parametrize(("name", "values", "positive"), [
    ("Status", ["Active", "Churned"], "Churned"),
    ("Customer Status", ["Stayed", "Churned"], "Churned"),
    ("Attrition_Flag", ["Existing Customer", "Attrited Customer"], "Attrited Customer"),
    ("账户状态", ["正常", "已流失"], "已流失"),
])
def test_label_found_by_its_values(name, values, positive):
    frame = make_frame().drop(columns="Churn")
    frame[name] = np.random.default_rng(2).choice(values, N)
    frame["PaperlessBilling"] = np.random.default_rng(3).choice(["Yes", "No"], N)
    schema, _ = infer_schema(frame)
    assert schema.label_column == name and schema.positive_label == positive


def test_yes_no_columns_are_not_taken_for_the_label():
    frame = make_frame().drop(columns="Churn")
    frame["PaperlessBilling"] = np.random.default_rng(3).choice(["Yes", "No"], N)
    frame["Account"] = np.random.default_rng(4).choice(["Active", "Closed"], N)
    schema, _ = infer_schema(frame)
    assert schema.label_column is None


@pytest.mark.parametrize("name", ["CLIENTNUM", "CustomerNo", "Customer Number",
                                  "account_number", "Kundennummer"])
def test_numbered_ids_are_ids_not_features(name):
    # BankChurners' CLIENTNUM: random 9-digit numbers, neither dense nor sorted
    rng = np.random.default_rng(1)
    ids = rng.choice(np.arange(700_000_000, 800_000_000), N, replace=False)
    frame = make_frame().drop(columns="customer_id")
    frame.insert(0, name, ids)
    schema, problems = infer_schema(frame)
    assert schema.id_column == name
    assert name not in schema.features


@pytest.mark.parametrize(("name", "values", "positive"), [
    ("Churn", ["Yes", "No"], "Yes"),
    ("churn_flag", ["Y", "N"], "Y"),
    ("是否流失", ["是", "否"], "是"),
    ("流失标志", ["流失", "未流失"], "流失"),
    ("Status Churn", ["churned", "active"], "churned"),
    ("Exited", [1, 0], "1"),
    ("is_churn", [1.0, 0.0], "1"),
    ("Attrition", [True, False], "True"),
    ("left", ["left", "stayed"], "left"),
])
def test_label_synonyms(name, values, positive):
    frame = make_frame().drop(columns="Churn")
    frame[name] = [values[i % 2] for i in range(N)]
    schema, problems = infer_schema(frame)
    assert schema.label_column == name
    assert schema.positive_label == positive
    y = encode_label(frame[name], schema)
    assert y.tolist() == [1.0 if i % 2 == 0 else 0.0 for i in range(N)]
    assert "LABEL_MAPPED" in codes(problems)
    assert name not in schema.features


def test_synonym_table_has_both_classes():
    assert LABEL_SYNONYMS["yes"] == 1 and LABEL_SYNONYMS["no"] == 0
    assert LABEL_SYNONYMS["流失"] == 1 and LABEL_SYNONYMS["未流失"] == 0


def test_one_two_codes_are_ambiguous_until_positive_value_given():
    frame = make_frame(Churn=[1 + i % 2 for i in range(N)])
    schema, problems = infer_schema(frame)
    p = only(problems, "LABEL_AMBIGUOUS")
    assert p.severity == "error" and p.column == "Churn"
    assert set(p.values) == {"1", "2"}
    assert schema.label_column == "Churn" and schema.label_mapping == {}
    assert "Churn" not in schema.features

    schema, problems = infer_schema(frame, overrides=SchemaOverrides(positive_value="2"))
    assert schema.label_mapping == {"2": 1, "1": 0}
    assert schema.positive_label == "2"
    assert "LABEL_AMBIGUOUS" not in codes(problems)


def test_positive_value_not_found():
    _, problems = infer_schema(make_frame(), overrides=SchemaOverrides(positive_value="maybe"))
    assert only(problems, "POSITIVE_VALUE_NOT_FOUND").severity == "error"


def test_three_label_values_listed():
    frame = make_frame(Churn=[["Yes", "No", "Maybe"][i % 3] for i in range(N)])
    schema, problems = infer_schema(frame)
    p = only(problems, "LABEL_MANY_VALUES")
    assert p.severity == "error" and p.column == "Churn" and p.count == 3
    assert set(p.values) == {"Yes", "No", "Maybe"}
    assert schema.label_mapping == {}


def test_one_class_names_column_and_value():
    _, problems = infer_schema(make_frame(Churn=["No"] * N))
    p = only(problems, "LABEL_ONE_CLASS")
    assert p.severity == "error" and p.column == "Churn" and p.values == ("No",)


def test_missing_labels_warned_with_rows():
    frame = make_frame()
    frame["Churn"] = frame["Churn"].astype(object)
    frame.loc[[2, 5, 9], "Churn"] = np.nan
    schema, problems = infer_schema(frame)
    p = only(problems, "LABEL_MISSING")
    assert p.severity == "warning" and p.count == 3 and p.rows == (3, 6, 10)
    y = encode_label(frame["Churn"], schema)
    assert y.isna().sum() == 3 and y.dtype == "float64"


def test_no_label_still_returns_schema():
    frame = make_frame().drop(columns="Churn")
    schema, problems = infer_schema(frame)
    assert only(problems, "NO_LABEL").severity == "error"
    assert schema.label_column is None
    assert schema.features == ("Tenure", "CityTier", "Gender")


def test_prefers_churn_name_and_skips_non_binary_generic_names():
    frame = make_frame(target=[i % 2 for i in range(N)], label=np.arange(N) % 7)
    schema, _ = infer_schema(frame)
    assert schema.label_column == "Churn"
    frame = make_frame(label=np.arange(N) % 7).drop(columns="Churn")
    schema, problems = infer_schema(frame)
    assert schema.label_column is None and "NO_LABEL" in codes(problems)


def test_encode_label_ignores_case_and_unmapped_values():
    schema, _ = infer_schema(make_frame())
    y = encode_label(pd.Series(["yes", " NO", "Maybe", None]), schema)
    assert y.iloc[:2].tolist() == [1.0, 0.0] and y.iloc[2:].isna().all()


def test_excludes_constant_all_missing_and_id_like_columns():
    frame = make_frame(
        country=["CN"] * N,
        empty=[np.nan] * N,
        seq=np.arange(1000, 1000 + N),                       # monotonic integers
        shuffled=np.random.default_rng(1).permutation(N),    # a shuffled row number
        order_code=[f"X{i * 7919 % 100003}" for i in range(N)],  # unique text
        spend=np.random.default_rng(2).normal(100, 10, N),   # unique but continuous
    )
    schema, problems = infer_schema(frame)
    assert schema.excluded == {"country": "CONSTANT", "empty": "ALL_MISSING", "seq": "ID_LIKE",
                               "shuffled": "ID_LIKE", "order_code": "ID_LIKE"}
    assert "spend" in schema.numeric
    assert only(problems, "CONSTANT_EXCLUDED").column == "country"
    assert only(problems, "ALL_MISSING_EXCLUDED").column == "empty"
    assert {p.column for p in problems if p.code == "ID_LIKE_EXCLUDED"} == {
        "seq", "shuffled", "order_code"}
    assert all(p.action for p in problems if p.severity == "info")


def test_personal_data_excluded_but_devices_kept():
    rng = np.random.default_rng(3)
    frame = make_frame(
        contact=[f"user{i}@example.com" for i in range(N)],
        phone_number=[f"138-{i:04d}-{i * 3 % 10000:04d}" for i in range(N)],
        姓名=rng.choice(["张三", "李四", "王五"], N),
        收货地址=rng.choice(["北京市朝阳区", "上海市浦东新区"], N),
        tel=[f"+86 139 {i:04d} {i:04d}" for i in range(N)],
        PreferredLoginDevice=rng.choice(["Mobile Phone", "Phone", "Computer"], N),
    )
    schema, problems = infer_schema(frame)
    personal = {p.column for p in problems if p.code == "PERSONAL_DATA_EXCLUDED"}
    assert personal == {"contact", "phone_number", "姓名", "收货地址", "tel"}
    assert all(schema.excluded[c] == "PERSONAL_DATA" for c in personal)
    assert "PreferredLoginDevice" in schema.categorical


def test_text_dates_parsed_and_snapshot_is_latest():
    days = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(N) % 90, unit="D")
    text = days.strftime("%Y-%m-%d").tolist()
    text[4] = "not a date"
    frame = make_frame(last_order=text)
    schema, problems = infer_schema(frame)
    assert schema.datetime == ("last_order",)
    assert schema.snapshot_date == "2024-03-30"
    p = only(problems, "DATES_PARSED")
    assert p.count == 1 and p.rows == (5,)

    schema, problems = infer_schema(frame, overrides=SchemaOverrides(snapshot_date="2024-02-01"))
    assert schema.snapshot_date == "2024-02-01"
    assert only(problems, "DATES_AFTER_SNAPSHOT").severity == "warning"


def test_high_cardinality_warned_and_kept():
    frame = make_frame(city=[f"city{i % 60}" for i in range(N)])
    schema, problems = infer_schema(frame)
    assert "city" in schema.categorical
    p = only(problems, "HIGH_CARDINALITY")
    assert p.severity == "warning" and p.count == 60


def test_inconsistent_spellings_listed_not_merged():
    rng = np.random.default_rng(4)
    frame = make_frame(
        Payment=rng.choice(["Credit Card", "CC", "Debit Card", "COD", "Cash on Delivery"], N),
        OrderCat=rng.choice(["Mobile", "Mobile Phone", "Fashion"], N),
        Segment=rng.choice(["Gold", "gold ", "Silver"], N),
    )
    schema, problems = infer_schema(frame)
    found = {p.column: set(p.values) for p in problems if p.code == "INCONSISTENT_SPELLINGS"}
    assert found["Payment"] == {"Credit Card", "CC", "COD", "Cash on Delivery"}
    assert found["OrderCat"] == {"Mobile", "Mobile Phone"}
    assert found["Segment"] == {"gold", "Gold"} or found["Segment"] == {"gold ", "Gold"}
    assert "Gender" not in found  # Male / Female are not variants
    assert frame["Payment"].nunique() == 5  # nothing merged


def test_overrides_win():
    frame = make_frame(country=["CN"] * N, score=np.arange(N) % 5)
    overrides = SchemaOverrides(
        id_column="customer_id", label_column="Churn",
        column_types={"CityTier": "categorical", "Gender": "exclude"},
        include=("country",))
    schema, problems = infer_schema(frame, overrides=overrides)
    assert "CityTier" in schema.categorical
    assert schema.excluded == {"Gender": "USER"}
    assert "country" in schema.categorical
    assert "CONSTANT_EXCLUDED" not in codes(problems)
    assert "LABEL_DETECTED" not in codes(problems)  # chosen, not detected

    schema, _ = infer_schema(frame, overrides=SchemaOverrides(label_column="Gender",
                                                              positive_value="Male"))
    assert schema.label_column == "Gender" and schema.label_mapping == {"Male": 1, "Female": 0}
    assert "Churn" in schema.categorical


def test_unknown_override_column_and_bad_type():
    _, problems = infer_schema(make_frame(), overrides=SchemaOverrides(label_column="nope"))
    assert only(problems, "UNKNOWN_COLUMN").column == "nope"
    with pytest.raises(ValueError):
        SchemaOverrides(column_types={"a": "text"})


def test_schema_round_trips_through_json():
    schema, _ = infer_schema(make_frame(country=["CN"] * N))
    again = Schema.from_dict(json.loads(json.dumps(schema.to_dict(), ensure_ascii=False)))
    assert again == schema
    assert again.features == schema.features


@pytest.fixture(scope="module")
def ecom(ecom_xlsx) -> pd.DataFrame:
    frame = pd.read_excel(ecom_xlsx, sheet_name="E Comm")
    frame["CustomerID"] = frame["CustomerID"].astype(str)
    return frame


def test_real_ecommerce_table(ecom):
    schema, problems = infer_schema(ecom)
    assert schema.id_column == "CustomerID" and schema.label_column == "Churn"
    assert schema.label_mapping == {"1": 1, "0": 0}
    assert schema.excluded == {}
    assert "CityTier" in schema.numeric and "PreferredLoginDevice" in schema.categorical
    assert len(schema.features) == 18
    spelled = {p.column for p in problems if p.code == "INCONSISTENT_SPELLINGS"}
    assert spelled == {"PreferredLoginDevice", "PreferredPaymentMode", "PreferedOrderCat"}
    assert not [p for p in problems if p.severity != "info"]


def test_personal_name_part_with_few_values_is_kept():
    frame = make_frame(email_opt_in=["yes", "no"] * (N // 2))
    schema, _ = infer_schema(frame)
    assert "email_opt_in" in schema.categorical
