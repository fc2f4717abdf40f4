"""Issue 14 on reading and checking: wide headers, empty labels, empty model columns,
NUL characters, line numbers of skipped rows, nested and decimal Parquet columns."""

from __future__ import annotations

import decimal
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from churn_core.model import TrainConfig
from churn_core.pipeline import fit_all, load_and_check, make_bundle
from churn_core.reading.table import read_table
from churn_core.score import score_frame

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "churn_core", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_a_header_wider_than_the_sniff_sample_keeps_every_column():
    rng = np.random.default_rng(1)
    n = 60
    cols = {f"feature_number_long_{i:04d}": rng.integers(0, 9, n) for i in range(3000)}
    cols["customer_id"] = [f"C{i}" for i in range(n)]
    cols["churn"] = rng.choice(["Yes", "No"], n)
    data = pd.DataFrame(cols).to_csv(index=False).encode()
    assert data.index(b"\n") > 65536
    read = read_table(data, name="wide.csv")
    assert read.frame.shape[1] == 3002 and "churn" in read.frame.columns
    assert load_and_check(data, name="wide.csv").schema.label_column == "churn"


def _table(n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(2)
    return pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)],
                         "tenure": rng.integers(0, 40, n), "spend": rng.normal(80, 9, n)})


def test_an_empty_label_column_is_a_message_everywhere(tmp_path):
    t = _table()
    t["churn"] = ""
    path = tmp_path / "empty_label.csv"
    t.to_csv(path, index=False)
    checked = load_and_check(path)
    assert not checked.usable
    assert [p.code for p in checked.problems if p.severity == "error"] == ["LABEL_EMPTY"]
    for command in ("check", "train"):
        extra = ["--out", str(tmp_path / "b")] if command == "train" else []
        proc = _cli(command, str(path), *extra)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "LABEL_EMPTY" in proc.stderr


def test_excel_label_of_formulas_without_cached_values(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["customer_id", "tenure", "spend", "churn"])
    for i, row in _table().iterrows():
        ws.append([row["customer_id"], int(row["tenure"]), float(row["spend"]),
                   f'=IF(B{i + 2}>20,"Yes","No")'])
    buf = io.BytesIO()
    wb.save(buf)  # openpyxl stores formulas without their values, as some exporters do
    checked = load_and_check(buf.getvalue(), name="formulas.xlsx")
    assert [p.code for p in checked.problems if p.severity == "error"] == ["LABEL_EMPTY"]


def test_a_model_column_empty_in_every_scored_row_is_a_warning():
    t = _table(300)
    t["churn"] = np.where(t["tenure"] + np.random.default_rng(3).normal(0, 8, 300) < 15,
                          "Yes", "No")
    config = TrainConfig(cv_folds=2, side_models=False, search=False, n_estimators=20, device="cpu")
    bundle = make_bundle(fit_all(load_and_check(t.to_csv(index=False).encode(),
                                                name="t.csv").dataset, config=config, k=None))
    fresh = t.drop(columns="churn").assign(tenure=np.nan)
    result = score_frame(bundle, fresh)
    hit = [p for p in result.problems if p.code == "FEATURE_EMPTY"]
    assert hit and hit[0].severity == "warning" and hit[0].values == ("tenure",)
    assert not any(p.code == "FEATURE_EMPTY" for p in score_frame(bundle, t).problems)


def test_nul_after_the_sniffed_start_is_removed_and_reported():
    rows = "".join(f"C{i},{i},x\n" for i in range(2000))
    data = ("id,v,w\n" + rows + "C9999,5,ab\x00c\n").encode()
    read = read_table(data, name="nul.csv")
    p = next(p for p in read.problems if p.code == "NUL_REMOVED")
    assert p.rows == (2002,) and p.severity == "warning"
    assert read.frame["w"].iloc[-1] == "abc"


def test_skipped_rows_are_named_by_their_file_line_when_quotes_hold_newlines():
    data = b'id,note,x\n1,"a\nb\nc",2\n2,ok,3,EXTRA\n3,fine,4\n4,a,5\n5,b,6\n\n6,c,7,8\n'
    p = next(p for p in read_table(data, name="q.csv").problems if p.code == "RAGGED_ROWS")
    assert p.rows == (5, 10)


def test_nested_and_decimal_parquet_columns_are_reported():
    t = pa.table({"id": ["a", "b"], "tags": [[1, 2], [3]],
                  "price": pa.array([decimal.Decimal("1.10"), decimal.Decimal("2.25")],
                                    pa.decimal128(10, 2))})
    buf = io.BytesIO()
    pq.write_table(t, buf)
    read = read_table(buf.getvalue(), name="n.parquet")
    found = {p.code: p for p in read.problems}
    assert found["NESTED_AS_TEXT"].column == "tags"
    assert found["NUMBERS_CONVERTED"].column == "price"
    assert read.frame["price"].tolist() == [1.1, 2.25]


@pytest.mark.parametrize("limit", ["1KB", "10KB"])
def test_a_tiny_memory_limit_is_named_as_such(tmp_path, limit):
    rng = np.random.default_rng(4)
    n = 4000
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 600, n), unit="D")
    log = pd.DataFrame({"customer_id": rng.integers(1, 300, n),
                        "order_date": days.strftime("%Y-%m-%d"), "amount": rng.random(n)})
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    proc = _cli("build", str(path), "--out", str(tmp_path / "out"), "--memory-limit", limit)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "EVENTS_OUT_OF_MEMORY" in proc.stderr


def _far_cell_workbook() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["customer_id", "tenure", "churn"])
    for i in range(30):
        ws.append([f"C{i}", i, "Yes" if i % 2 else "No"])
    ws["XFD1048576"] = "x"  # 5 KB file, 17 billion cells of declared extent
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("case, code", [("far_cell", "TOO_LARGE"),
                                        ("one_line", "TOO_MANY_COLUMNS"),
                                        ("columns_50k", "TOO_MANY_COLUMNS")])
def test_hostile_tables_are_refused_on_the_command_line(tmp_path, case, code):
    if case == "far_cell":
        path = tmp_path / "far.xlsx"
        path.write_bytes(_far_cell_workbook())
    elif case == "one_line":
        path = tmp_path / "line.csv"
        path.write_text("a," * 5_000_000)
    else:
        path = tmp_path / "wide.csv"
        path.write_text(",".join(f"c{i}" for i in range(50_000)) + "\n"
                        + ",".join("1" for _ in range(50_000)) + "\n")
    proc = _cli("check", str(path))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert code in proc.stderr


def test_the_command_line_reads_data_in_the_guarded_child(tmp_path, monkeypatch, capsys):
    from churn_core import __main__ as cli

    path = tmp_path / "t.csv"
    _table().assign(churn="Yes").to_csv(path, index=False)
    monkeypatch.setattr(cli, "default_memory_mb", lambda: 64)  # too little to import pandas
    assert cli.main(["check", str(path)]) == 2
    assert "READ_OUT_OF_MEMORY" in capsys.readouterr().err
