"""Issue 14, 'ids kept exactly': big integer ids, --id, ids that look missing or carry
spaces, and the export escaping that must stay reversible (README: drop one leading ')."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from churn_core.export import to_csv_bytes
from churn_core.model import TrainConfig
from churn_core.pipeline import fit_all, load_and_check, make_bundle
from churn_core.reading.table import read_table
from churn_core.schema import SchemaOverrides
from churn_core.score import score_frame

ROOT = Path(__file__).resolve().parents[2]
SMALL = TrainConfig(cv_folds=2, side_models=False, search=False, n_estimators=30,
                    early_stopping_rounds=5, device="cpu")


def _table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    churn = rng.random(n) < 0.3
    return pd.DataFrame({"tenure": rng.integers(0, 50, n) - 5 * churn,
                         "spend": rng.normal(100, 20, n).round(2),
                         "churn": np.where(churn, "Yes", "No")})


def _parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buf)
    return buf.getvalue()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "churn_core", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_parquet_int64_ids_above_2_53_are_kept_exactly_and_never_a_feature():
    t = _table()
    t.insert(0, "cust", np.arange(len(t), dtype=np.int64) + 1_230_000_000_000_000_001)
    read = read_table(_parquet(t), name="big.parquet")
    assert read.frame["cust"].tolist() == [str(v) for v in t["cust"]]
    checked = load_and_check(_parquet(t), name="big.parquet")
    assert "cust" not in checked.schema.features
    assert checked.dataset.frame["cust"].nunique() == len(t)


def test_parquet_uint64_ids_do_not_collapse():
    t = _table()
    t.insert(0, "account_id", np.arange(len(t), dtype=np.uint64) + np.uint64(2**63 + 5))
    read = read_table(_parquet(t), name="u64.parquet")
    assert read.frame["account_id"].nunique() == len(t)
    assert read.frame["account_id"].iloc[0] == str(2**63 + 5)


def test_small_integer_parquet_columns_stay_numbers():
    t = _table()
    read = read_table(_parquet(t), name="t.parquet")
    assert read.frame["tenure"].dtype == "float64"


def test_id_option_keeps_leading_zeros_and_20_digit_ids(tmp_path):
    t = _table()
    t.insert(0, "acct", [f"{i:07d}" for i in range(len(t))])
    path = tmp_path / "zeros.csv"
    t.to_csv(path, index=False)
    checked = load_and_check(path, overrides=SchemaOverrides(id_column="acct"))
    assert checked.dataset.ids.iloc[:3].tolist() == ["0000000", "0000001", "0000002"]
    t["acct"] = [str(10**19 + i) for i in range(len(t))]
    t.to_csv(path, index=False)
    checked = load_and_check(path, overrides=SchemaOverrides(id_column="acct"))
    assert checked.dataset.ids.iloc[0] == str(10**19)


def test_cli_id_option_on_20_digit_ids_reports_without_traceback(tmp_path):
    t = _table()
    t.insert(0, "acct", [str(10**19 + i) for i in range(len(t))])
    path = tmp_path / "twenty.csv"
    t.to_csv(path, index=False)
    proc = _cli("check", str(path), "--id", "acct")
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 0, proc.stderr
    assert "id column: acct" in proc.stdout


TRICKY_IDS = ["NA", "None", "null", "-", "?", "N/A", "无", "\t=1+1", " =1+1", "\r=1+1", "=1+1",
              "'=1+1", "C007", " C007", "C007 "]


def _unescape(cell: str) -> str:
    """The README's rule: a cell starting with ' had one ' added; drop it."""
    return cell[1:] if cell.startswith("'") else cell


def test_scoring_keeps_every_id_distinct_and_recoverable(tmp_path):
    train = _table(400, seed=1)
    train.insert(0, "customer_id", [f"T{i}" for i in range(len(train))])
    analysis = fit_all(load_and_check(train.to_csv(index=False).encode(),
                                      name="t.csv").dataset, config=SMALL, k=None)
    bundle = make_bundle(analysis)
    # fresh customers to score: no churn column (rows labelled churned would be left out)
    fresh = _table(len(TRICKY_IDS), seed=2).drop(columns=["churn"])
    fresh.insert(0, "customer_id", TRICKY_IDS)
    data = fresh.to_csv(index=False, lineterminator="\r\n").encode()
    read = read_table(data, name="fresh.csv")
    assert read.frame["customer_id"].tolist() == TRICKY_IDS
    assert any(p.code == "ID_LOOKS_MISSING" for p in read.problems)
    table = score_frame(bundle, read.frame).table
    assert table["customer_id"].tolist() == TRICKY_IDS
    rows = list(csv.reader(io.StringIO(to_csv_bytes(table).decode("utf-8-sig"), newline="")))
    exported = [r[0] for r in rows[1:]]
    assert len(set(exported)) == len(TRICKY_IDS)
    assert [_unescape(c) for c in exported] == TRICKY_IDS


def test_cli_score_writes_ids_as_given(tmp_path):
    train = _table(400, seed=3)
    train.insert(0, "customer_id", [f"T{i}" for i in range(len(train))])
    train_path = tmp_path / "train.csv"
    train.to_csv(train_path, index=False)
    assert _cli("train", str(train_path), "--out", str(tmp_path / "b"), "--cv", "2",
                "--no-search").returncode == 0
    fresh = _table(len(TRICKY_IDS), seed=4).drop(columns=["churn"])
    fresh.insert(0, "customer_id", TRICKY_IDS)
    fresh_path = tmp_path / "fresh.csv"
    fresh_path.write_bytes(fresh.to_csv(index=False, lineterminator="\r\n").encode())
    proc = _cli("score", str(tmp_path / "b"), str(fresh_path), "--out", str(tmp_path / "s.csv"))
    assert proc.returncode == 0, proc.stderr
    text = (tmp_path / "s.csv").read_bytes().decode("utf-8-sig")
    ids = [_unescape(r[0]) for r in list(csv.reader(io.StringIO(text, newline="")))[1:]]
    assert ids == TRICKY_IDS


def test_export_escapes_a_leading_apostrophe_too():
    out = to_csv_bytes(pd.DataFrame({"id": ["=1", "'=1", "''x", "-5", "ok"]}))
    cells = [r[0] for r in csv.reader(io.StringIO(out.decode("utf-8-sig")))][1:]
    assert cells == ["'=1", "''=1", "'''x", "-5", "ok"]


@pytest.mark.parametrize("value", ["NA", "null", "-"])
def test_check_still_names_ids_that_look_missing(tmp_path, value):
    t = _table(60)
    t.insert(0, "customer_id", [f"C{i}" for i in range(len(t))])
    t.loc[3, "customer_id"] = value
    checked = load_and_check(t.to_csv(index=False).encode(), name="t.csv")
    hits = [p for p in checked.problems if p.code == "ID_LOOKS_MISSING"]
    assert hits and hits[0].rows == (4,) and hits[0].values == (value,)


def test_sibling_id_types_in_parquet_stay_exact():
    """int64 ids with gaps (pyarrow would give float64) and DECIMAL(20,0) ids."""
    import decimal

    big = 2**60 + 1
    table = pa.table({
        "customer_id": pa.array([big, None, big + 2], pa.int64()),
        "acct_no": pa.array([decimal.Decimal(10**19 + 1), decimal.Decimal(10**19 + 2), None],
                            pa.decimal128(20, 0)),
        "amount": pa.array([decimal.Decimal("1.25"), None, decimal.Decimal("2.5")],
                           pa.decimal128(10, 2)),
        "visits": pa.array([1, None, 3], pa.int64())})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    frame = read_table(buf.getvalue(), name="ids.parquet").frame
    assert frame["customer_id"].iloc[[0, 2]].tolist() == [str(big), str(big + 2)]
    assert frame["acct_no"].iloc[:2].tolist() == [str(10**19 + 1), str(10**19 + 2)]
    assert frame["amount"].iloc[[0, 2]].tolist() == [1.25, 2.5]
    assert frame["visits"].dtype == "float64"
