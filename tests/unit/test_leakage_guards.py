"""Leakage guards on real tables: planted leaks are caught, clean columns are not.

tests/unit/test_validate.py covers each guard on synthetic frames; here the
leaks are planted into the real E-commerce workbook and the bundled sample,
read through the full reader (``pipeline.load_and_check``), and the false-alarm
rate is measured on resamples of the clean tables and on shuffled labels.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from churn_core.labels import encode_label
from churn_core.pipeline import check_frame, load_and_check

LEAK_CODES = {"LEAKAGE_REVIEW", "LEAKAGE_EXCLUDED", "LEAKY_NAME", "MISSING_ENCODES_LABEL"}
log = logging.getLogger(__name__)


@pytest.fixture(scope="module", params=["ecom", "sample"])
def real(request):
    """(frame, label 0/1) of a real table, read the way the app reads it."""
    path = request.getfixturevalue("ecom_xlsx" if request.param == "ecom" else "sample_csv")
    check = load_and_check(path)
    y = encode_label(check.read.frame[check.schema.label_column], check.schema).to_numpy()
    return request.param, check.read.frame, y


def _flags(check) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for p in check.problems:
        if p.code in LEAK_CODES:
            out.setdefault(p.column, set()).add(p.code)
    return out


def test_clean_real_table_raises_no_leak_flag(real):
    _, frame, _ = real
    check = check_frame(frame)
    assert _flags(check) == {}
    assert check.usable


def test_false_alarm_rate_on_resamples_and_shuffled_labels(real):
    """Every feature of every resample is a chance for a false alarm; count them."""
    name, frame, y = real
    rng = np.random.default_rng(0)
    label = frame.columns[frame.columns.str.lower() == "churn"][0]
    chances = alarms = 0
    trials = []
    for k in range(6):
        rows = rng.choice(len(frame), size=min(1500, len(frame)), replace=False)
        part = frame.iloc[np.sort(rows)].reset_index(drop=True)
        if k >= 3:  # shuffled labels: no column can really predict them
            part[label] = part[label].sample(frac=1, random_state=k).to_numpy()
        check = check_frame(part)
        chances += len(check.schema.features)
        alarms += len(_flags(check))
        trials.append(len(_flags(check)))
    rate = alarms / chances
    log.info("%s: leak false alarms %d of %d column checks (%.2f%%)", name, alarms, chances,
             100 * rate)
    assert rate == 0.0, trials


def _planted(frame: pd.DataFrame, y: np.ndarray, kind: str, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = frame.copy()
    churned = y == 1
    n = len(out)
    if kind == "post_churn_amount":  # a refund booked after cancelling: neutral name
        out["refund_amount"] = np.where(churned, rng.gamma(2, 30, n).round(2), 0.0)
        out.loc[rng.choice(n, 3, replace=False), "refund_amount"] = 5.0
    elif kind == "post_churn_date":  # when the account was closed: only churners have one
        dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 300, n), "D")
        out["account_closed_on"] = pd.Series(dates.strftime("%Y-%m-%d"), dtype="str").where(
            churned)
    elif kind == "status_text":
        out["status"] = np.where(churned, "closed", "open")
    elif kind == "id_column":
        out["row_no"] = np.arange(100_000, 100_000 + n)
    elif kind == "missing_encodes_label":
        blank = np.where(churned, rng.random(n) < 0.9, rng.random(n) < 0.02)
        out["last_nps"] = np.where(blank, np.nan, rng.integers(0, 11, n).astype(float))
    return out


@pytest.mark.parametrize("kind, column, expected", [
    ("post_churn_amount", "refund_amount", {"LEAKAGE_EXCLUDED", "LEAKAGE_REVIEW"}),
    ("post_churn_date", "account_closed_on", {"MISSING_ENCODES_LABEL", "LEAKAGE_EXCLUDED",
                                              "LEAKAGE_REVIEW"}),
    ("status_text", "status", {"LEAKAGE_EXCLUDED"}),
    ("missing_encodes_label", "last_nps", {"MISSING_ENCODES_LABEL"}),
])
def test_planted_leak_in_real_table_is_flagged_and_nothing_else(real, kind, column, expected):
    _, frame, y = real
    check = check_frame(_planted(frame, y, kind))
    flags = _flags(check)
    assert set(flags) == {column}, flags
    assert flags[column] & expected, flags
    if "LEAKAGE_EXCLUDED" in flags[column]:
        assert column not in check.schema.features


def test_planted_id_column_in_real_table_is_excluded(real):
    _, frame, y = real
    check = check_frame(_planted(frame, y, "id_column"))
    assert check.schema.excluded.get("row_no") == "ID_LIKE"
    assert _flags(check) == {}
