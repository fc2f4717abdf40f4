"""Builders of the second round of bad inputs (issue 14): exact ids, hostile shapes,
tampered bundles and nonsense event logs. Used by :mod:`make_corpus`."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tests.bad_inputs.builders import _fixed_zip_times, base_table, csv_text, utf8

#: Ids that read_table used to blank (missing tokens) or merge (trimming); kept exactly now.
TRICKY_IDS = ["NA", "None", "null", "-", "?", "N/A", "无", "\t=1+1", " =1+1", "=1+1",
              "'=1+1", " C7", "C7", "C7 "]


def _parquet(table: pa.Table) -> bytes:
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="none")
    return buf.getvalue()


def wide_header() -> bytes:
    """2,300 columns: the header line is longer than the 64K characters sniffed."""
    rng = np.random.default_rng(60)
    n = 20
    cols = {f"measurement_column_number_{i:04d}": rng.integers(0, 9, n) for i in range(2300)}
    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], **cols,
                          "churn": rng.choice(["Yes", "No"], n)})
    return utf8(frame)


def too_many_columns() -> bytes:
    return (",".join(f"c{i}" for i in range(20_001)) + "\n"
            + ",".join("1" for _ in range(20_001)) + "\n").encode()


def big_int_ids() -> bytes:
    t = base_table(100, seed=61).drop(columns="customer_id")
    ids = np.arange(len(t), dtype=np.int64) + 1_230_000_000_000_000_001
    return _parquet(pa.table({"cust": ids, **{c: t[c] for c in t.columns}}))


def uint64_ids() -> bytes:
    t = base_table(100, seed=62).drop(columns="customer_id")
    ids = np.arange(len(t), dtype=np.uint64) + np.uint64(2**63 + 5)
    return _parquet(pa.table({"account_id": pa.array(ids, pa.uint64()),
                              **{c: t[c] for c in t.columns}}))


def tricky_ids() -> bytes:
    t = base_table(len(TRICKY_IDS), seed=63)
    t["customer_id"] = TRICKY_IDS
    return t.to_csv(index=False, lineterminator="\r\n").encode()  # a CR inside is quoted


def empty_label() -> bytes:
    t = base_table(120, seed=64)
    t["churn"] = ""
    return utf8(t)


def formula_label_xlsx() -> bytes:
    """A label of formulas saved without cached values (openpyxl writes them that way)."""
    t = base_table(60, seed=65)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Customer export (formulas not recalculated)"])
    ws.append(list(t.columns))
    for i, row in enumerate(t.itertuples(index=False), start=3):
        ws.append([*list(row)[:-1], f'=IF(B{i}>10,"Yes","No")'])
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip_times(buf.getvalue())


def far_cell_xlsx() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in [list(base_table(1).columns)] + base_table(30, seed=66).values.tolist():
        ws.append(row)
    ws["XFD1048576"] = "x"
    buf = io.BytesIO()
    wb.save(buf)
    return _fixed_zip_times(buf.getvalue())


def late_nul() -> bytes:
    t = base_table(500, seed=67)
    text = csv_text(t)
    assert len(text) > 8192
    return (text + "C9999,5,80.5,basic\x00,0,No\n").encode()


def ragged_quoted() -> bytes:
    t = base_table(40, seed=68)
    t["plan"] = t["plan"].astype(object)
    t.loc[0, "plan"] = "two\nlines"
    lines = csv_text(t).splitlines()
    lines.insert(6, "C9998,1,2.0,basic,0,No,EXTRA")  # file line 7 (the parser says 6)
    return ("\n".join(lines) + "\n").encode()


def nested_parquet() -> bytes:
    t = base_table(60, seed=69)
    return _parquet(pa.table({**{c: t[c] for c in t.columns},
                              "tags": [[i % 3, i % 5] for i in range(len(t))]}))


def empty_feature() -> bytes:
    t = base_table(50, seed=70)
    t["tenure"] = ""
    return utf8(t)


def _bundle_zip(manifest: dict | str, model: bytes = b"{not a real model}") -> bytes:
    text = manifest if isinstance(manifest, str) else json.dumps(manifest)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(zipfile.ZipInfo("model.ubj", (2024, 1, 1, 0, 0, 0)), model)
        zf.writestr(zipfile.ZipInfo("manifest.json", (2024, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


def _manifest(model: bytes = b"{not a real model}") -> dict:
    return {"format": "churn-radar-bundle", "bundle_version": 2, "model_file": "model.ubj",
            "model_sha256": hashlib.sha256(model).hexdigest(), "features": ["tenure", "spend"],
            "threshold": {"value": 0.4, "method": "best F1", "detail": {}},
            "content_sha256": "0" * 64}


def tampered_bundle() -> bytes:
    """A manifest edited after saving (its content hash no longer matches)."""
    return _bundle_zip(_manifest())


def old_version_bundle() -> bytes:
    return _bundle_zip({**_manifest(), "bundle_version": 1})


def nan_threshold_bundle() -> bytes:
    text = json.dumps(_manifest())
    return _bundle_zip(re.sub(r'"value": 0.4', '"value": NaN', text))


def deep_manifest_bundle() -> bytes:
    text = json.dumps(_manifest())
    return _bundle_zip(text[:-1] + ', "x": ' + "[" * 20_000 + "]" * 20_000 + "}")


def _events(n: int = 2000, seed: int = 71) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 600, n), unit="D")
    return pd.DataFrame({"customer_id": rng.integers(1, 150, n), "order_date":
                         days.strftime("%Y-%m-%d"), "amount": rng.gamma(2, 20, n).round(2)})


def events_bracket_name() -> bytes:
    return utf8(_events(700))


def events_neighbour() -> bytes:
    return utf8(_events(1500, seed=72))


def events_future() -> bytes:
    t = _events()
    later = np.random.default_rng(73).random(len(t)) < 0.3
    t.loc[later, "order_date"] = "2099" + t.loc[later, "order_date"].str[4:]
    return utf8(t)


def events_returns_only() -> bytes:
    t = _events()
    t["amount"] = -t["amount"]
    return utf8(t)


def events_too_wide() -> bytes:
    t = _events(20)
    extra = pd.DataFrame(1, index=t.index, columns=[f"x{i}" for i in range(300)])
    return utf8(pd.concat([t, extra], axis=1))
